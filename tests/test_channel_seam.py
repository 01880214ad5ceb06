"""The channel seam (docs/architecture.md, "Channels"): the channel-neutral services never import
a channel's package, and the app reaches WhatsApp only through the adapter create_app registers."""

from __future__ import annotations

import ast
from pathlib import Path

from portal import channels
from portal.channels.whatsapp.adapter import WhatsAppChannel
from portal.models import Channel
from portal.services import outbound
from tests import factories

PORTAL = Path(__file__).resolve().parent.parent / "portal"
CHANNEL_PACKAGES = tuple(
    f"portal.channels.{folder.name}"
    for folder in (PORTAL / "channels").iterdir()
    if (folder / "__init__.py").is_file()
)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _channel_imports(folder: Path) -> set[str]:
    return {
        f"{path.name}: {name}"
        for path in sorted(folder.rglob("*.py"))
        for name in _imported_modules(path)
        if any(name == p or name.startswith(p + ".") for p in CHANNEL_PACKAGES)
    }


def test_no_service_imports_a_channel_package():
    assert "portal.channels.whatsapp" in CHANNEL_PACKAGES
    assert _channel_imports(PORTAL / "services") == set()


def test_the_import_walk_finds_every_way_of_importing_a_channel(tmp_path):
    (tmp_path / "a.py").write_text("from portal.channels.whatsapp.client import GraphError\n")
    (tmp_path / "b.py").write_text("from portal.channels import whatsapp\n")
    (tmp_path / "c.py").write_text("def f():\n    import portal.channels.whatsapp.webhook\n")
    (tmp_path / "d.py").write_text("from portal.channels import ChannelError, adapter_for\n")
    assert {entry.split(":")[0] for entry in _channel_imports(tmp_path)} == {"a.py", "b.py", "c.py"}


def test_create_app_registers_the_whatsapp_adapter(app):
    with app.app_context():
        assert isinstance(channels.registered()[Channel.whatsapp], WhatsAppChannel)


def test_a_conversation_on_a_channel_without_an_adapter_cannot_be_answered(db):
    conversation = factories.conversation(channel=Channel.email)
    assert channels.adapter_for(conversation) is None
    assert outbound.window_refusal(conversation) == "Replies cannot be sent on this conversation's channel."

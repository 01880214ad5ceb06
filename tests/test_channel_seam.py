"""The channel seam (docs/architecture.md, "Channels"): the channel-neutral services never import
a channel's package, and the app reaches WhatsApp only through the adapter create_app registers."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

from portal import channels
from portal.channels import ChannelAdapter, ChannelError, FetchedMedia
from portal.channels.whatsapp.adapter import WhatsAppChannel
from portal.extensions import db as _db
from portal.models import Channel, Message, MessageStatus, MessageTemplate
from portal.services import media_files, outbound
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


@pytest.fixture
def without_email(app):
    """An install whose e-mail channel is not registered."""
    registry = app.extensions["atende.channels"]
    real = registry.pop(Channel.email)
    yield
    registry[Channel.email] = real


def test_a_conversation_on_a_channel_without_an_adapter_cannot_be_answered(db, without_email):
    conversation = factories.conversation(channel=Channel.email)
    assert channels.adapter_for(conversation) is None
    assert outbound.window_refusal(conversation) == "Replies cannot be sent on this conversation's channel."


class PostCard(ChannelAdapter):
    """A channel written for this test: what a new package under portal/channels provides."""

    channel = Channel.email
    max_text_length = 20

    def __init__(self) -> None:
        self.sent: list[str] = []

    def init_app(self, app) -> None:
        pass

    def reply_refusal(self, conversation):
        return None

    def send_timeout(self) -> timedelta:
        return timedelta(seconds=5)

    def send_text(self, message: Message) -> str:
        if message.body == "too soon":
            raise ChannelError(451, "Mailbox busy", retryable=False)
        self.sent.append(message.body)
        return f"card-{len(self.sent)}"

    def send_template(self, message: Message) -> str:
        raise AssertionError("PostCard has no templates")

    def upload_media(self, message: Message, file, size: int) -> str:
        raise AssertionError("not used here")

    def send_media(self, message: Message) -> str:
        raise AssertionError("not used here")

    def mark_read(self, message: Message) -> None:
        pass

    def fetch_media(self, message: Message) -> FetchedMedia:
        return FetchedMedia(b"%PDF-1.4 card", "application/pdf")

    def describe_failure(self, code, title):
        return f"The post office said: {title}"


@pytest.fixture
def post_card(app):
    """PostCard standing in for the e-mail channel for one test."""
    real = app.extensions["atende.channels"][Channel.email]
    adapter = PostCard()
    channels.register(app, adapter)
    yield adapter
    app.extensions["atende.channels"][Channel.email] = real


def test_a_registered_channel_sends_through_the_same_lifecycle(db, post_card, run_jobs):
    agent = factories.agent()
    conversation = factories.conversation(channel=Channel.email)
    reply = outbound.queue_reply(conversation, "Olá!", by=agent)
    refused = outbound.queue_reply(conversation, "too soon", by=agent)
    _db.session.commit()

    run_jobs("outbound")

    _db.session.expire_all()
    assert post_card.sent == ["Olá!"]
    assert (reply.status, reply.external_id) == (MessageStatus.sent, "card-1")
    assert refused.status == MessageStatus.failed
    assert outbound.failure(refused).reason == "The post office said: Mailbox busy"
    with pytest.raises(outbound.OutboundError, match="at most 20 characters"):
        outbound.queue_reply(conversation, "x" * 21, by=agent)
    template = MessageTemplate(template_key="boas_vindas", language="pt_BR", body="Olá!")
    _db.session.add(template)
    with pytest.raises(outbound.OutboundError, match="Templates cannot be sent"):
        outbound.queue_template(conversation, template, [], by=agent)


def test_a_registered_channel_fetches_media_for_the_download_job(db, post_card, run_jobs):
    conversation = factories.conversation(channel=Channel.email)
    message = factories.message(conversation, message_type="document", media_id="attachment-1")
    media_files.enqueue_download(message)
    _db.session.commit()

    run_jobs("outbound")

    _db.session.expire_all()
    assert media_files.stored_path(message).read_bytes() == b"%PDF-1.4 card"
    assert message.media_mime_type == "application/pdf"

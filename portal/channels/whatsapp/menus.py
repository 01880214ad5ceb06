"""A Menu (portal.channels.base) as the Cloud API's `interactive` message: up to three options as
reply buttons, more (up to ten) as a list behind one button (docs/architecture.md, "Teams and
routing"). Meta's limits, which the simulator enforces too: a button title up to 20 characters,
a list row title up to 24, the list's button up to 20, the text up to 1,024, ten rows in all."""

from __future__ import annotations

from typing import Any

from portal.channels.base import Menu

MAX_BUTTONS = 3
MAX_ROWS = 10
BUTTON_TITLE_MAX = 20
ROW_TITLE_MAX = 24
LIST_BUTTON_MAX = 20
SECTION_TITLE_MAX = 24
TEXT_MAX = 1024


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def interactive(menu: Menu) -> dict[str, Any]:
    """The `interactive` object of a send for this menu."""
    body = {"text": _cut(menu.text, TEXT_MAX)}
    if len(menu.options) <= MAX_BUTTONS:
        buttons = [
            {"type": "reply", "reply": {"id": o.id, "title": _cut(o.title, BUTTON_TITLE_MAX)}}
            for o in menu.options
        ]
        return {"type": "button", "body": body, "action": {"buttons": buttons}}
    rows = [{"id": o.id, "title": _cut(o.title, ROW_TITLE_MAX)} for o in menu.options[:MAX_ROWS]]
    button = _cut(menu.button, LIST_BUTTON_MAX)
    return {
        "type": "list",
        "body": body,
        "action": {
            "button": button,
            "sections": [{"title": _cut(menu.button, SECTION_TITLE_MAX), "rows": rows}],
        },
    }


def option_id(menu: Menu, reply_id: str) -> str | None:
    """The menu's option a reply names; None for a reply to another message's buttons."""
    return reply_id if any(o.id == reply_id for o in menu.options) else None

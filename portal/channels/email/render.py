"""How an e-mail shows in the thread (docs/architecture.md, "E-mail").

- Plain text is preferred: the body shows as text, its quoted history ("On ... wrote:", "Em ...
  escreveu:", "-----Original Message-----", a trailing block of "> " lines) and its signature
  (after "-- ") collapsed under a toggle.
- A mail with HTML only shows its HTML, sanitized again on the way out, in a sandboxed frame
  served with a policy of its own: no script, no form, no remote request. Remote images are
  dropped until the agent asks for them (then that one frame may load them); `cid:` images point
  at the mail's own attachments, served with the media access rule; quoted blocks are collapsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import nh3
from flask import url_for
from sqlalchemy import select

from portal.channels.email.parse import URL_SCHEMES
from portal.extensions import db
from portal.models import Message

_QUOTE_START = re.compile(
    r"^(\s*(On|Em|El|Le|Am) .{3,200}(wrote|escreveu|escribió|a écrit|schrieb)\s*:\s*$"
    r"|\s*-{2,}\s*(Original Message|Mensagem original|Forwarded message|Mensagem encaminhada)\s*-{2,}\s*$"
    r"|\s*(From|De):\s.+$)",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")


@dataclass
class EmailView:
    subject: str
    sender: str
    sender_name: str
    main: str
    quoted: str = ""
    signature: str = ""
    html: bool = False
    recipient_count: int = 0
    truncated: bool = False
    inline_ids: list[int] = field(default_factory=list)


def headers(message: Message) -> dict[str, Any]:
    return (message.payload_json or {}).get("email") or {}


def view(message: Message) -> EmailView:
    stored = headers(message)
    main, quoted, signature = split_text(message.body or "")
    return EmailView(
        subject=stored.get("subject", ""),
        sender=stored.get("from") or "",
        sender_name=stored.get("from_name") or "",
        main=main,
        quoted=quoted,
        signature=signature,
        html=bool(stored.get("html")) and not stored.get("text_part", False),
        recipient_count=stored.get("recipient_count", 0),
        truncated=bool(stored.get("truncated")),
    )


def split_text(text: str) -> tuple[str, str, str]:
    """(what the customer wrote now, the quoted history, the signature)."""
    lines = text.replace("\r\n", "\n").split("\n")
    quote_at = next(
        (i for i in range(1, len(lines)) if _QUOTE_START.match(lines[i]) or _quoted_tail(lines[i:])), len(lines)
    )
    main, quoted = lines[:quote_at], lines[quote_at:]
    signature_at = next((i for i in range(len(main) - 1, 0, -1) if _SIGNATURE.match(main[i])), None)
    signature: list[str] = []
    if signature_at is not None:
        main, signature = main[:signature_at], main[signature_at + 1 :]
    return "\n".join(main).strip(), "\n".join(quoted).strip(), "\n".join(signature).strip()


def _quoted_tail(lines: list[str]) -> bool:
    """Every remaining non-blank line is quoted with ">"."""
    filled = [x for x in lines if x.strip()]
    return bool(filled) and lines[0].startswith(">") and all(x.lstrip().startswith(">") for x in filled)


def frame_html(message: Message, *, remote: bool) -> str:
    stored = headers(message)
    parts = _inline_parts(message, stored.get("inline") or {})

    def attribute(element: str, name: str, value: str) -> str | None:
        if element == "img" and name == "src":
            if value.lower().startswith("cid:"):
                return parts.get(value[4:].strip("<> "))
            if value.lower().startswith(("http:", "https:")) and not remote:
                return None
        return value

    body = nh3.clean(
        stored.get("html") or "",
        url_schemes=URL_SCHEMES,
        attribute_filter=attribute,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    body = re.sub(r"(?i)<blockquote\b", "<details><summary>…</summary><blockquote", body)
    body = re.sub(r"(?i)</blockquote>", "</blockquote></details>", body)
    return body


def _inline_parts(message: Message, inline: dict[str, int]) -> dict[str, str]:
    if not inline:
        return {}
    keys = {f"{message.external_id}:{index}": content_id for content_id, index in inline.items()}
    rows = db.session.execute(select(Message.id, Message.external_id).where(Message.external_id.in_(keys))).all()
    return {keys[row.external_id]: url_for("media.file", message_id=row.id) for row in rows}


def has_remote_images(message: Message) -> bool:
    return bool(re.search(r"(?i)<img[^>]+src=\"https?:", headers(message).get("html") or ""))

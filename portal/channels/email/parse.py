"""A fetched mail read into what the inbox needs, whatever the mail looks like.

`parse` never raises: a mail with broken MIME, unknown charsets, hundreds of recipients or a
misleading display name is read as far as it can be, and each problem becomes a note on the
webhook event (portal.channels.email.notes). Plain text is preferred; an HTML-only mail is
sanitized with nh3 (docs/architecture.md, "E-mail").
"""

from __future__ import annotations

import email
import email.policy
import html as html_module
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3

# Stored per mail; anything longer is cut with a note.
MAX_BODY_CHARS = 200_000
MAX_HTML_CHARS = 1_000_000
MAX_ATTACHMENTS = 50
MAX_REFERENCES = 30
MAX_RECIPIENTS_KEPT = 20

AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?reply|autoreply|auto:|out of (the )?office|resposta autom[aá]tica|"
    r"aus[eê]ncia|fora do escrit[oó]rio|respuesta autom[aá]tica)",
    re.IGNORECASE,
)
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f<>]")
_WINDOWS_ONLY = re.compile(rb"[\x80-\x9f]")

# Tags and attributes kept in an e-mail's HTML: ammonia's defaults (no script, style, iframe,
# form, event handler or javascript: URL) plus cid: links to the mail's own inline images.
URL_SCHEMES = {"http", "https", "mailto", "cid"}


@dataclass
class Attachment:
    index: int  # position of the part in the mail's walk order: fetch_media finds it again
    filename: str
    mime_type: str
    size: int
    content_id: str | None
    inline: bool


@dataclass
class Bounce:
    """A delivery status notification: which of our mails failed, and why."""

    original_message_id: str | None
    action: str
    status: str
    diagnostic: str


@dataclass
class ParsedMail:
    message_id: str | None = None
    subject: str = ""
    sender: str | None = None  # the address, lowercased
    sender_name: str = ""
    reply_to: str | None = None
    date: datetime | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    recipient_count: int = 0
    text: str = ""
    text_part: bool = False  # the text came from a text/plain part, not from the HTML
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    auto_reply: bool = False
    bounce: Bounce | None = None
    problems: list[str] = field(default_factory=list)  # note keys, see portal.channels.email.notes
    misleading_name: str | None = None


def parse(raw: bytes) -> ParsedMail:
    mail = ParsedMail()
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:
        mail.problems.append("broken_mime")
        mail.text = _decode_bytes(raw, None)[:MAX_BODY_CHARS]
        return mail
    if message.defects or any(part.defects for part in _walk(message)):
        mail.problems.append("broken_mime")
    _headers(message, mail)
    mail.bounce = _bounce(message)
    try:
        _bodies(message, mail)
    except Exception:
        mail.problems.append("broken_mime")
        payload = message.get_payload(decode=True) if not message.is_multipart() else None
        mail.text = _decode_bytes(payload or raw, None)[:MAX_BODY_CHARS]
    return mail


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:
        return ""
    return re.sub(r"[\s\x00]+", " ", str(value)).strip() if value is not None else ""


def _headers(message: Message, mail: ParsedMail) -> None:
    ids = MESSAGE_ID.findall(_header(message, "Message-ID"))
    mail.message_id = ids[0] if ids else None
    mail.subject = _header(message, "Subject")[:500]
    mail.in_reply_to = MESSAGE_ID.findall(_header(message, "In-Reply-To"))[:MAX_REFERENCES]
    mail.references = MESSAGE_ID.findall(_header(message, "References"))[-MAX_REFERENCES:]
    senders = [a for a in getaddresses([_header(message, "From")]) if "@" in a[1]]
    if len(senders) > 1:
        mail.problems.append("several_senders")
    if senders:
        name, address = senders[0]
        mail.sender = address.strip().lower()[:254]
        mail.sender_name = _safe_name(name, mail)
    _, reply_to = parseaddr(_header(message, "Reply-To"))
    mail.reply_to = reply_to.strip().lower()[:254] if "@" in reply_to else None
    try:
        date = parsedate_to_datetime(_header(message, "Date"))
        mail.date = date.astimezone(UTC).replace(tzinfo=None) if date.tzinfo else date
    except (TypeError, ValueError, IndexError):
        mail.date = None
    recipients = [a for _, a in getaddresses([_header(message, "To"), _header(message, "Cc")]) if a]
    mail.recipient_count = len(recipients)
    mail.recipients = [r[:254] for r in recipients[:MAX_RECIPIENTS_KEPT]]
    if mail.recipient_count > MAX_RECIPIENTS_KEPT:
        mail.problems.append("many_recipients")
    mail.auto_reply = _is_auto_reply(message, mail.subject)


def _safe_name(name: str, mail: ParsedMail) -> str:
    """The display name, unless it pretends to be an address (`"ceo@bank.com" <x@evil>`): the
    agent then sees the real address's local part, and the event notes the trick."""
    name = _BAD_NAME.sub("", name).strip()[:200]
    if "@" in name:
        mail.misleading_name = name
        mail.problems.append("misleading_name")
        return mail.sender.split("@")[0] if mail.sender else ""
    return name


def _is_auto_reply(message: Message, subject: str) -> bool:
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    if _header(message, "Precedence").lower() == "auto_reply":
        return True
    return bool(AUTO_SUBJECT.match(subject))


def _walk(message: Message):
    try:
        yield from message.walk()
    except Exception:
        return


def _bounce(message: Message) -> Bounce | None:
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    fields: dict[str, str] = {}
    original: str | None = None
    for part in _walk(message):
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            fields.update(_status_fields(part))
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_message_id(part)
    return Bounce(
        original_message_id=original,
        action=fields.get("action", "failed").lower(),
        status=fields.get("status", ""),
        diagnostic=fields.get("diagnostic-code", "").split(";", 1)[-1].strip(),
    )


def _status_fields(part: Message) -> dict[str, str]:
    """Per-message and per-recipient fields of a message/delivery-status part (the first of each
    name wins: the first failed recipient)."""
    found: dict[str, str] = {}
    payload = part.get_payload()
    for block in payload if isinstance(payload, list) else []:
        for key, value in block.items():
            found.setdefault(key.strip().lower(), re.sub(r"\s+", " ", str(value)).strip())
    return found


def _original_message_id(part: Message) -> str | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        header = _header(inner, "Message-ID") if isinstance(inner, Message) else ""
    else:
        content = part.get_payload(decode=True) or b""
        header = _header(email.message_from_bytes(content, policy=email.policy.default), "Message-ID")
    ids = MESSAGE_ID.findall(header)
    return ids[0] if ids else None


def _bodies(message: EmailMessage, mail: ParsedMail) -> None:
    text_part = html_part = None
    if isinstance(message, EmailMessage) and not mail.bounce:
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
    elif mail.bounce:
        text_part = next((p for p in _walk(message) if p.get_content_type() == "text/plain"), None)
    if text_part is not None:
        mail.text = _content(text_part)
        mail.text_part = bool(mail.text.strip())
    if html_part is not None:
        html = _content(html_part)
        if len(html) > MAX_HTML_CHARS:
            html = html[:MAX_HTML_CHARS]
            mail.problems.append("long_body")
        mail.html = sanitize(html)
        if not mail.text:
            mail.text = html_to_text(mail.html)
    mail.text = mail.text.replace("\r\n", "\n").strip()
    if len(mail.text) > MAX_BODY_CHARS:
        mail.text = mail.text[:MAX_BODY_CHARS]
        mail.problems.append("long_body")
    bodies = {id(text_part), id(html_part)}
    for index, part in enumerate(_walk(message)):
        if part.is_multipart() or id(part) in bodies or part.get_content_maintype() == "message":
            continue
        if part.get_content_type() in ("text/plain", "text/html") and not part.get_filename():
            continue
        if mail.bounce is not None:
            continue
        if len(mail.attachments) >= MAX_ATTACHMENTS:
            mail.problems.append("many_attachments")
            break
        mail.attachments.append(_attachment(index, part))


def _attachment(index: int, part: Message) -> Attachment:
    payload = part.get_payload(decode=True) or b""
    content_id = (_header(part, "Content-ID").strip("<> ") or None) if part.get("Content-ID") else None
    mime_type = part.get_content_type()
    filename = _BAD_NAME.sub("", part.get_filename() or "").strip()[:200]
    if not filename:
        extension = mime_type.split("/")[-1][:10]
        filename = f"attachment-{index}.{extension}"
    disposition = (part.get_content_disposition() or "").lower()
    return Attachment(
        index=index,
        filename=filename,
        mime_type=mime_type,
        size=len(payload),
        content_id=content_id,
        inline=bool(content_id) and disposition != "attachment",
    )


def attachment_bytes(raw: bytes, index: int) -> tuple[bytes, str] | None:
    """The decoded bytes and MIME type of the part `index` (walk order), or None."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for position, part in enumerate(_walk(message)):
        if position == index:
            return part.get_payload(decode=True) or b"", part.get_content_type()
    return None


def _content(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    return _decode_bytes(payload, part.get_content_charset())


def _decode_bytes(payload: bytes, charset: str | None) -> str:
    # NUL is no text, and PostgreSQL refuses it in text columns.
    return _decoded(payload, charset).replace("\x00", "")


def _decoded(payload: bytes, charset: str | None) -> str:
    charset = (charset or "").lower()
    # Mail labelled ISO-8859-1 is often Windows-1252 (curly quotes, the euro sign): as browsers do,
    # the C1 range is read as Windows-1252.
    if charset in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii") and _WINDOWS_ONLY.search(payload):
        charset = "windows-1252"
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("windows-1252", errors="replace")


def sanitize(html: str) -> str:
    return nh3.clean(html, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow")


def html_to_text(html: str) -> str:
    block = re.sub(r"(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\s*/?>", "\n", html)
    text = html_module.unescape(nh3.clean(block, tags=set()))
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def reference_ids(mail: ParsedMail) -> list[str]:
    """The Message-IDs a mail answers, most direct first."""
    seen: list[str] = []
    for ref in [*mail.in_reply_to, *reversed(mail.references)]:
        if ref not in seen:
            seen.append(ref)
    return seen


def address_name(address: str) -> str:
    try:
        return Address(addr_spec=address).username
    except Exception:
        return address.split("@")[0]

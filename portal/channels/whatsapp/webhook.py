"""Meta's webhook: the X-Hub-Signature-256 check and the payload parsed into typed records.

Parsing treats every field as optional (docs/architecture.md, "WhatsApp"): a payload we cannot use
raises PayloadError with a reason an admin can read, never a KeyError.

Some inbound "messages" change an earlier message instead of adding one (docs/whatsapp-inbound.md):
a `reaction` (`reaction.message_id`), an `edit` and a `revoke` (`original_message_id`) carry
that message's id in `target`; an edit's `body` is the new text. A `system` message of type
`user_changed_number` carries the customer's new WhatsApp id in `new_wa_id`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portal.channels.whatsapp import notes
from portal.services.webhook_events import stored_text

SIGNATURE_HEADER = "X-Hub-Signature-256"
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
REACTION, EDIT, REVOKE, SYSTEM = "reaction", "edit", "revoke", "system"
# Older API versions named the number change customer_changed_number, with `new_wa_id`.
NUMBER_CHANGES = frozenset({"user_changed_number", "customer_changed_number"})
TEMPLATE_STATUS_FIELD = "message_template_status_update"
INTERACTIVE_REPLIES = frozenset({"button_reply", "list_reply"})
STATUS_VALUES = frozenset({"sent", "delivered", "read", "played", "failed"})
EVENT_TYPE_BATCH = "batch"
EVENT_TYPE_UNKNOWN = "unknown"


class PayloadError(ValueError):
    """The notification cannot be processed; the message says why."""


def signature_header(raw_body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value Meta sends for `raw_body`."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def signature_is_valid(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Constant-time check of the header against the HMAC of the exact bytes received."""
    if not header or not app_secret:
        return False
    return hmac.compare_digest(header.strip().encode(), signature_header(raw_body, app_secret).encode())


def event_type(payload: Any) -> str:
    """The change `field` ("messages", "account_update"...); "batch" when one POST mixes several
    fields, "unknown" when the payload names none."""
    fields = {change["field"] for change in _raw_changes(payload) if isinstance(change.get("field"), str)}
    if len(fields) > 1:
        return EVENT_TYPE_BATCH
    return (fields.pop() if fields else EVENT_TYPE_UNKNOWN)[:80]


@dataclass(frozen=True)
class MediaRef:
    id: str
    mime_type: str | None
    sha256: str | None
    filename: str | None


@dataclass(frozen=True)
class InboundMessage:
    wamid: str
    wa_id: str
    profile_name: str | None
    timestamp: datetime | None
    type: str
    content: Any  # the object named like the type (text, image, location...), kept as received
    body: str  # the text, caption or a plain summary shown in the inbox
    reply_to: str | None
    media: MediaRef | None
    errors: list[dict[str, Any]]
    target: str | None = None  # the earlier message a reaction, edit or revoke changes
    referral: dict[str, Any] | None = None  # the click-to-WhatsApp ad the customer came from
    new_wa_id: str | None = None  # a number change's new WhatsApp id


@dataclass(frozen=True)
class TemplateStatusUpdate:
    name: str
    language: str | None
    event: str  # WhatsApp's event as sent: APPROVED, REJECTED, PAUSED...
    reason: str | None
    waba_id: str | None = None  # the entry's id: the business account the template belongs to


@dataclass(frozen=True)
class StatusUpdate:
    wamid: str
    status: str  # one of STATUS_VALUES, as Meta sent it (`played` included)
    timestamp: datetime | None
    error_code: int | None
    error_title: str | None


@dataclass
class Change:
    field: str
    phone_number_id: str | None = None  # our number the change is for (`metadata`): names the inbox
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    template_statuses: list[TemplateStatusUpdate] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # notes on updates we skip on purpose


def parse(payload: Any) -> list[Change]:
    """Every change in a notification, with its messages and statuses in the order sent."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise PayloadError(stored_text(notes.NO_ENTRY))
    changes = []
    for entry_id, raw in _entry_changes(payload, strict=True):
        name = raw.get("field")
        change = Change(field=name if isinstance(name, str) else EVENT_TYPE_UNKNOWN)
        value = raw.get("value")
        if change.field == "messages":
            if not isinstance(value, dict):
                raise PayloadError(stored_text(notes.CHANGE_WITHOUT_VALUE))
            change.phone_number_id = _text(value.get("metadata"), "phone_number_id")
            _parse_messages_value(value, change)
        elif change.field == TEMPLATE_STATUS_FIELD:
            change.template_statuses.append(_parse_template_status(value, entry_id))
        changes.append(change)
    return changes


def _raw_changes(payload: Any, strict: bool = False) -> list[dict[str, Any]]:
    return [change for _entry_id, change in _entry_changes(payload, strict)]


def _entry_changes(payload: Any, strict: bool = False) -> list[tuple[str | None, dict[str, Any]]]:
    """Each change with its entry's id (the business account's, for account-level fields)."""
    entries = payload.get("entry") if isinstance(payload, dict) else None
    found = []
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            if strict:
                raise PayloadError(stored_text(notes.ENTRY_WITHOUT_CHANGES))
            continue
        entry_id = entry.get("id")
        for change in changes:
            if isinstance(change, dict):
                found.append((str(entry_id) if isinstance(entry_id, str | int) else None, change))
            elif strict:
                raise PayloadError(stored_text(notes.CHANGE_NOT_OBJECT))
    return found


def _parse_messages_value(value: dict[str, Any], change: Change) -> None:
    profiles = {}
    for contact in _list(value, "contacts"):
        if isinstance(contact, dict) and isinstance(contact.get("wa_id"), str):
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            profiles[contact["wa_id"]] = name[:200] if isinstance(name, str) else None
    for raw in _list(value, "messages"):
        change.messages.append(_parse_message(raw, profiles))
    for raw in _list(value, "statuses"):
        status = _parse_status(raw)
        if status is None:
            status = _text(raw, "status") if isinstance(raw, dict) else None
            change.ignored.append(stored_text(notes.STATUS_NOT_UNDERSTOOD, status=status or "?"))
        else:
            change.statuses.append(status)
    change.errors = [e for e in _list(value, "errors") if isinstance(e, dict)]


def _parse_message(raw: Any, profiles: dict[str, str | None]) -> InboundMessage:
    if not isinstance(raw, dict):
        raise PayloadError(stored_text(notes.MESSAGE_NOT_OBJECT))
    wamid = _text(raw, "id")
    if not wamid:
        raise PayloadError(stored_text(notes.MESSAGE_WITHOUT_ID))
    wa_id = _text(raw, "from")
    if not wa_id:
        raise PayloadError(stored_text(notes.MESSAGE_WITHOUT_SENDER, wamid=wamid))
    message_type = _text(raw, "type") or "unknown"
    content = raw.get(message_type)
    context = raw.get("context")
    errors = [e for e in _list(raw, "errors") if isinstance(e, dict)]
    referral = raw.get("referral")
    return InboundMessage(
        wamid=wamid[:128],
        wa_id=wa_id,
        profile_name=profiles.get(wa_id),
        timestamp=_timestamp(raw.get("timestamp")),
        type=message_type[:30],
        content=content,
        body=summary(message_type, content, errors),
        reply_to=(_text(context, "id") or "")[:128] or None,
        media=_media(content) if message_type in MEDIA_TYPES else None,
        errors=errors,
        target=_target(message_type, content),
        referral=referral if isinstance(referral, dict) and referral else None,
        new_wa_id=_new_wa_id(message_type, content),
    )


def _target(message_type: str, content: Any) -> str | None:
    key = {REACTION: "message_id", EDIT: "original_message_id", REVOKE: "original_message_id"}.get(message_type)
    if key is None:
        return None
    return (_text(content, key) or "")[:128] or None


def _new_wa_id(message_type: str, content: Any) -> str | None:
    if message_type != SYSTEM or _text(content, "type") not in NUMBER_CHANGES:
        return None
    return _text(content, "wa_id") or _text(content, "new_wa_id")


def _parse_template_status(value: Any, waba_id: str | None) -> TemplateStatusUpdate:
    name = _text(value, "message_template_name")
    event = _text(value, "event")
    if not name or not event:
        raise PayloadError(stored_text(notes.TEMPLATE_UPDATE_INCOMPLETE))
    return TemplateStatusUpdate(
        name=name[:120],
        language=(_text(value, "message_template_language") or "")[:10] or None,
        event=event[:40],
        reason=(_text(value, "reason") or "")[:200] or None,
        waba_id=waba_id,
    )


def _parse_status(raw: Any) -> StatusUpdate | None:
    if not isinstance(raw, dict):
        raise PayloadError(stored_text(notes.STATUS_NOT_OBJECT))
    wamid = _text(raw, "id")
    if not wamid:
        raise PayloadError(stored_text(notes.STATUS_WITHOUT_ID))
    status = _text(raw, "status")
    if status not in STATUS_VALUES:
        return None
    error_code, error_title = first_error([e for e in _list(raw, "errors") if isinstance(e, dict)])
    return StatusUpdate(
        wamid=wamid,
        status=status,
        timestamp=_timestamp(raw.get("timestamp")),
        error_code=error_code,
        error_title=error_title,
    )


def first_error(errors: list[dict[str, Any]]) -> tuple[int | None, str | None]:
    """The code and title of WhatsApp's first error, as a message row stores them."""
    if not errors:
        return None, None
    code = errors[0].get("code")
    title = _text(errors[0], "title") or _text(errors[0], "message")
    return (code if _is_error_code(code) else None), (title[:500] if title else None)


def summary(message_type: str, content: Any, errors: list[dict[str, Any]]) -> str:
    """The text an agent reads for a message: its words, caption, or a plain rendering of its data."""
    if message_type == "text":
        return _text(content, "body") or ""
    if message_type in MEDIA_TYPES:
        return _text(content, "caption") or _text(content, "filename") or ""
    if message_type == "location" and isinstance(content, dict):
        place = ", ".join(p for p in (_text(content, "name"), _text(content, "address")) if p)
        return place or f"{content.get('latitude')}, {content.get('longitude')}"
    if message_type == "contacts" and isinstance(content, list):
        return "; ".join(_shared_contact(c) for c in content if isinstance(c, dict))
    if message_type == "interactive" and isinstance(content, dict):
        reply = content.get(_text(content, "type") or "")
        return _text(reply, "title") or ""
    if message_type == "button":
        return _text(content, "text") or _text(content, "payload") or ""
    if message_type == REACTION:
        return _text(content, "emoji") or ""
    if message_type == EDIT and isinstance(content, dict):
        edited = content.get("message")
        edited_type = _text(edited, "type") or ""
        if not isinstance(edited, dict) or edited_type == EDIT:
            return ""
        return summary(edited_type, edited.get(edited_type), [])
    if message_type == "order":
        return _text(content, "text") or ""
    if message_type == SYSTEM:
        return _text(content, "body") or ""
    if errors:
        return _text(errors[0], "title") or ""
    return ""


def interactive_reply(message_type: str, content: Any) -> tuple[str, str] | None:
    """(id, title) of a tapped reply button (`button_reply`) or list row (`list_reply`): the id is
    the one our interactive message gave the option (portal.channels.whatsapp.menus)."""
    if message_type != "interactive" or not isinstance(content, dict):
        return None
    kind = _text(content, "type")
    if kind not in INTERACTIVE_REPLIES:
        return None
    reply = content.get(kind)
    reply_id = _text(reply, "id")
    if not reply_id:
        return None
    return reply_id[:256], (_text(reply, "title") or "")[:100]


def _shared_contact(card: dict[str, Any]) -> str:
    name = card.get("name")
    formatted = _text(name, "formatted_name") if isinstance(name, dict) else None
    phones = [_text(p, "phone") for p in card.get("phones") or [] if isinstance(p, dict)]
    return " ".join(part for part in (formatted, *phones) if part)


def _media(content: Any) -> MediaRef | None:
    media_id = _text(content, "id")
    if not media_id:
        return None
    return MediaRef(
        id=media_id[:128],
        mime_type=(_text(content, "mime_type") or "")[:120] or None,
        sha256=(_text(content, "sha256") or "")[:128] or None,
        filename=(_text(content, "filename") or "")[:255] or None,
    )


def _timestamp(raw: Any) -> datetime | None:
    """Meta sends Unix seconds as a string; stored as naive UTC like every datetime here."""
    try:
        return datetime.fromtimestamp(int(str(raw)), UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _is_error_code(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def _text(obj: Any, key: str) -> str | None:
    # NUL cannot be stored in a PostgreSQL text column; no real message text contains it.
    value = obj.get(key) if isinstance(obj, dict) else None
    return value.replace("\x00", "") if isinstance(value, str) else None


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    return value if isinstance(value, list) else []

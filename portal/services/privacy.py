"""LGPD tools for admins (docs/architecture.md, "Privacy (LGPD)"): export everything about one
contact, erase a contact, and a retention policy per inbox.

- **Export** (`export_zip`): one ZIP streamed as it is written (never whole in memory): contact.json
  (the contact, its conversations with every message and note, campaign sends, scheduled messages)
  and each stored media file under media/. Names inside the ZIP are made from the message id and a
  cleaned file name (`safe_name`), never a stored path, so a file name such as ../../etc/passwd
  cannot point outside the archive's folder.
- **Erase** (`erase`): irreversible. Message text, structured payloads, file names and media files
  are removed; the contact keeps its row (so reports still count its conversations and messages)
  but loses name, phone, e-mail, city, WhatsApp id and custom fields (`erased_at` set). Copies
  elsewhere go too: conversations' custom fields and ad referrals, incident notes, scheduled
  messages, satisfaction survey comments (the score stays, for reports), campaign parameters, CRM event payloads about the contact, webhook payloads naming the
  contact or one of its messages (and the raw mail file they point at), audit details quoting it.
  The audit entry keeps who, when and the counts, nothing personal.
- **Retention** (`retention_plan`, `apply_retention`): an inbox's `settings["retention_months"]`;
  the scheduled job `portal.jobs.privacy.apply_retention` clears text and media of its messages
  older than that, as erase does for one message, the webhook payloads that named them and the
  comments of satisfaction surveys answered before the cutoff. Admins see the dry-run count before a policy is
  saved.

Message files are content-addressed for outbound attachments (the same file sent twice is one
file), so a file is deleted only when no message outside the ones being cleared still names it.
"""

from __future__ import annotations

import calendar
import io
import json
import os
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Text, cast, func, or_, select, update
from werkzeug.security import safe_join

from portal.extensions import db
from portal.models import (
    Agent,
    AuditLog,
    CampaignRecipient,
    Contact,
    Conversation,
    CrmDelivery,
    CsatResponse,
    Inbox,
    Incident,
    Message,
    QuickReply,
    ScheduledMessage,
    ScheduledMessageStatus,
    WebhookEvent,
    utcnow,
)
from portal.services import audit, representations
from portal.services.representations import utc_timestamp

ZIP_CHUNK = 64 * 1024
MAX_NAME = 100
BATCH = 500
MAX_RETENTION_MONTHS = 120
ERASED = {"erased": True}
EVENT_SLACK = timedelta(days=31)


class PrivacyError(ValueError):
    """A refused privacy action, with the reason to show."""


# -- export ----------------------------------------------------------------------------------------


def safe_name(name: str | None, fallback: str) -> str:
    """A file name fit for a ZIP entry: the last part of any path, no control or reserved
    characters, no leading dots or spaces, at most MAX_NAME characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '<>:"|?*')
    name = name.strip(" .")[-MAX_NAME:].lstrip(" .")
    return name or fallback


def _messages(contact: Contact) -> list[Message]:
    ids = select(Conversation.id).where(Conversation.contact_id == contact.id)
    return list(
        db.session.scalars(select(Message).where(Message.conversation_id.in_(ids)).order_by(Message.id))
    )


def media_path(message: Message) -> Path | None:
    """The stored file of the message's media, if it is there."""
    if not message.media_url:
        return None
    path = safe_join(current_app.config["MEDIA_ROOT"], message.media_url)
    return Path(path) if path and os.path.isfile(path) else None


def _raw_mail_path(message: Message) -> Path | None:
    """The raw mail an e-mail message was read from (its payload names it under MEDIA_ROOT)."""
    relative = ((message.payload_json or {}).get("email") or {}).get("file")
    if not isinstance(relative, str):
        return None
    path = safe_join(current_app.config["MEDIA_ROOT"], relative)
    return Path(path) if path and os.path.isfile(path) else None


def _entry_name(message: Message, used: set[str]) -> str:
    name = f"media/{message.id}-{safe_name(message.media_filename or Path(message.media_url or '').name, 'file')}"
    while name in used:
        name = f"media/{message.id}-{len(used)}-{name.rsplit('-', 1)[-1]}"
    used.add(name)
    return name


def export_document(contact: Contact, messages: list[Message], media_names: dict[int, str]) -> dict[str, Any]:
    def message_row(m: Message) -> dict[str, Any]:
        return {
            **representations.message(m, utc_timestamp),
            "message_type": m.message_type,
            "media_filename": m.media_filename,
            "media_mime_type": m.media_mime_type,
            "media_file": media_names.get(m.id),
            "payload": m.payload_json,
        }

    by_conversation: dict[int, list[dict[str, Any]]] = {}
    for m in messages:
        by_conversation.setdefault(m.conversation_id, []).append(message_row(m))
    conversations = sorted(contact.conversations, key=lambda c: c.id)
    recipients = db.session.scalars(
        select(CampaignRecipient).where(CampaignRecipient.contact_id == contact.id)
    )
    scheduled = db.session.scalars(
        select(ScheduledMessage).where(ScheduledMessage.conversation_id.in_([c.id for c in conversations]))
    )
    return {
        "exported_at": utc_timestamp(utcnow()),
        "contact": {
            **representations.contact(contact, utc_timestamp),
            "wa_id": contact.wa_id,
            "opted_out_at": utc_timestamp(contact.opted_out_at),
            "opted_out_text": contact.opted_out_text,
            "erased_at": utc_timestamp(contact.erased_at),
        },
        "conversations": [
            {
                **representations.conversation(c, utc_timestamp),
                "inbox": c.inbox.name,
                "referral": c.referral,
                "messages": by_conversation.get(c.id, []),
            }
            for c in conversations
        ],
        "campaign_messages": [
            {
                "campaign": r.campaign.name,
                "status": r.status.value,
                "params": r.params,
                "replied_at": utc_timestamp(r.replied_at),
            }
            for r in recipients
        ],
        "satisfaction_surveys": [
            {
                "conversation_id": r.conversation_id,
                "score": r.score,
                "scale": r.scale,
                "comment": r.comment,
                "asked_at": utc_timestamp(r.asked_at),
                "answered_at": utc_timestamp(r.answered_at),
            }
            for r in db.session.scalars(
                select(CsatResponse)
                .where(CsatResponse.conversation_id.in_([c.id for c in conversations]))
                .order_by(CsatResponse.id)
            )
        ],
        "scheduled_messages": [
            {
                "conversation_id": s.conversation_id,
                "body": s.body,
                "template_params": s.template_params,
                "send_at": utc_timestamp(s.send_at),
                "status": s.status.value,
            }
            for s in scheduled
        ],
    }


class _Sink(io.RawIOBase):
    """A write-only stream whose written bytes the generator takes as they come."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def export_zip(contact: Contact, *, by: Agent) -> Iterator[bytes]:
    """Audit the export (the caller commits before streaming), then the ZIP's bytes as written."""
    messages = _messages(contact)
    used: set[str] = set()
    files = [(m, path, _entry_name(m, used)) for m in messages if (path := media_path(m)) is not None]
    document = export_document(contact, messages, {m.id: name for m, _path, name in files})
    audit.record("contact.exported", actor=by, target=contact, messages=len(messages), files=len(files))

    def chunks() -> Iterator[bytes]:
        sink = _Sink()
        # Written to a stream that cannot seek: zipfile then puts each entry's sizes after its data.
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("contact.json", json.dumps(document, ensure_ascii=False, indent=2))
            yield sink.take()
            for _message, path, name in files:
                with archive.open(name, "w") as entry, path.open("rb") as source:
                    while block := source.read(ZIP_CHUNK):
                        entry.write(block)
                        yield sink.take()
        yield sink.take()

    return chunks()


# -- clearing messages (erase and retention) ---------------------------------------------------------------


def _clear_messages(messages: list[Message]) -> tuple[int, int]:
    """Remove text, payloads and files of these messages; (messages cleared, files deleted)."""
    ids = {m.id for m in messages}
    candidates: set[Path] = set()
    shared_urls: set[str] = set()
    urls = {m.media_url for m in messages if m.media_url}
    if urls:
        shared_urls = set(
            db.session.scalars(
                select(Message.media_url)
                .where(Message.media_url.in_(urls), Message.id.not_in(ids))
                .distinct()
            )
        )
        # A quick reply's file is sent as it is kept (content-addressed): the reply still needs it.
        shared_urls |= set(
            db.session.scalars(select(QuickReply.media_url).where(QuickReply.media_url.in_(urls)))
        )
    for m in messages:
        media, raw = media_path(m), _raw_mail_path(m)
        if media is not None and m.media_url not in shared_urls:
            candidates.add(media)
        if raw is not None:
            candidates.add(raw)
        m.body = ""
        m.payload_json = None
        m.media_url = m.media_id = m.media_filename = m.media_sha256 = None
        m.template_params = None
        m.reaction_emoji = None
        m.error_title = None
    db.session.flush()
    for path in candidates:
        path.unlink(missing_ok=True)
    return len(messages), len(candidates)


# -- erase -----------------------------------------------------------------------------------------------


@dataclass
class ErasePlan:
    """What erase() will do, shown before the admin confirms."""

    conversations: int
    messages: int
    files: int


def erase_plan(contact: Contact) -> ErasePlan:
    messages = _messages(contact)
    files = sum(1 for m in messages for p in (media_path(m), _raw_mail_path(m)) if p is not None)
    return ErasePlan(conversations=len(contact.conversations), messages=len(messages), files=files)


def confirmation_matches(contact: Contact, typed: str) -> bool:
    return " ".join((typed or "").split()).casefold() == " ".join(contact.name.split()).casefold()


def _identifiers(contact: Contact, messages: list[Message]) -> set[str]:
    """Strings that name the contact or one of its messages in other tables' JSON."""
    found = {contact.phone and contact.phone.lstrip("+"), contact.wa_id, contact.email}
    return {f for f in found if isinstance(f, str) and len(f) >= 6} | _message_identifiers(messages)


def _scrub_json_rows(model, column, identifiers: set[str], clear: dict[str, Any], *where) -> list:
    """Rows (also matching `where`) whose JSON column's text contains any identifier, set to
    `clear`; returns them."""
    rows = []
    # JSON columns hold the text as json.dumps wrote it: non-ASCII letters escaped (\u00e9).
    items = sorted(identifiers | {json.dumps(i)[1:-1] for i in identifiers})
    for start in range(0, len(items), 100):
        condition = or_(
            *(cast(column, Text).contains(i, autoescape=True) for i in items[start : start + 100])
        )
        rows.extend(db.session.scalars(select(model).where(condition, *where)))
    for row in set(rows):
        for name, value in clear.items():
            setattr(row, name, value)
    return list(set(rows))


def _message_identifiers(messages: Iterable[Message]) -> set[str]:
    found = set()
    for m in messages:
        found.add(m.external_id)
        found.add(((m.payload_json or {}).get("email") or {}).get("message_id"))
    return {f for f in found if isinstance(f, str) and len(f) >= 6}


def _scrub_events(identifiers: set[str], *where) -> int:
    """Webhook payloads naming any identifier are replaced by {"erased": true}, and the raw file
    one names under MEDIA_ROOT (an e-mail's) is deleted; returns how many."""
    if not identifiers:
        return 0
    events = _scrub_json_rows(WebhookEvent, WebhookEvent.payload_json, identifiers, {}, *where)
    for event in events:
        relative = event.payload_json.get("file") if isinstance(event.payload_json, dict) else None
        path = safe_join(current_app.config["MEDIA_ROOT"], relative) if isinstance(relative, str) else None
        if path and os.path.isfile(path):
            Path(path).unlink()
        event.payload_json = dict(ERASED)
        event.error = None
    return len(events)


def erase(contact: Contact, *, by: Agent, confirmation: str) -> ErasePlan:
    """Erase the contact's personal data for good (module docstring); the caller commits."""
    if contact.erased_at is not None:
        raise PrivacyError(_("This contact was already erased."))
    if not confirmation_matches(contact, confirmation):
        raise PrivacyError(_("Type the contact's name exactly as shown to confirm."))
    plan = erase_plan(contact)
    messages = _messages(contact)
    conversation_ids = [c.id for c in contact.conversations]
    identifiers = _identifiers(contact, messages)
    if len(contact.name.split()) >= 2:
        # A full name is specific enough to look for in other rows; a lone first name is not.
        identifiers.add(contact.name)
    # Webhook payloads first: a raw mail they name goes with them.
    _scrub_events(identifiers)
    _cleared, files = _clear_messages(messages)
    deliveries = db.session.scalars(
        select(CrmDelivery).where(
            or_(
                CrmDelivery.payload_json[("data", "contact", "id")].as_integer() == contact.id,
                CrmDelivery.payload_json[("data", "conversation", "contact_id")].as_integer() == contact.id,
                CrmDelivery.payload_json[("data", "message", "contact_id")].as_integer() == contact.id,
            )
        )
    )
    for delivery in deliveries:
        delivery.payload_json = {
            **{k: delivery.payload_json.get(k) for k in ("id", "type", "occurred_at")},
            "data": dict(ERASED),
        }
        delivery.last_response = None
    _scrub_json_rows(AuditLog, AuditLog.details, identifiers, {"details": dict(ERASED)})
    if conversation_ids:
        db.session.execute(
            update(Conversation)
            .where(Conversation.id.in_(conversation_ids))
            .values(custom_fields=None, referral=None)
        )
        db.session.execute(
            update(Incident).where(Incident.conversation_id.in_(conversation_ids)).values(notes="")
        )
        db.session.execute(
            update(CsatResponse).where(CsatResponse.conversation_id.in_(conversation_ids)).values(comment=None)
        )
        db.session.execute(
            update(ScheduledMessage)
            .where(ScheduledMessage.conversation_id.in_(conversation_ids))
            .values(body="", template_params=None, error=None)
        )
        db.session.execute(
            update(ScheduledMessage)
            .where(
                ScheduledMessage.conversation_id.in_(conversation_ids),
                ScheduledMessage.status == ScheduledMessageStatus.pending,
            )
            .values(status=ScheduledMessageStatus.cancelled, cancelled_at=utcnow(), cancelled_by_id=by.id)
        )
    db.session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.contact_id == contact.id)
        .values(params=[], error=None)
    )
    contact.name = f"#{contact.id}"
    contact.phone = contact.email = contact.city = contact.wa_id = None
    contact.custom_fields = None
    contact.opted_out_text = None
    contact.erased_at = utcnow()
    db.session.flush()
    db.session.expire_all()
    audit.record(
        "contact.erased",
        actor=by,
        target=contact,
        conversations=plan.conversations,
        messages=plan.messages,
        files=files,
    )
    return plan


# -- retention ---------------------------------------------------------------------------------------------


def retention_months(inbox: Inbox) -> int | None:
    value = (inbox.settings or {}).get("retention_months")
    return value if isinstance(value, int) and value > 0 else None


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when shorter)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def clean_months(raw: str | int | None) -> int | None:
    """None (no policy) or 1..MAX_RETENTION_MONTHS; PrivacyError otherwise."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_RETENTION_MONTHS:
        raise PrivacyError(
            _(
                "Give a number of months from 1 to %(max)d, or leave it empty for no policy.",
                max=MAX_RETENTION_MONTHS,
            )
        )
    return int(text)


def _due(inbox: Inbox, months: int, now: datetime):
    cutoff = months_before(now, months)
    return (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.inbox_id == inbox.id,
            Message.sent_at < cutoff,
            or_(Message.body != "", Message.media_url.is_not(None), Message.payload_json.is_not(None)),
        )
    )


@dataclass
class RetentionCount:
    messages: int
    files: int
    events: int = 0


def retention_plan(inbox: Inbox, months: int, *, now: datetime | None = None) -> RetentionCount:
    """The dry run: how many messages and files a policy of `months` would clear now."""
    stmt = _due(inbox, months, now or utcnow())
    count = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    files = 0
    for batch in _batches(
        db.session.scalars(stmt.where(Message.media_url.is_not(None) | Message.payload_json.is_not(None)))
    ):
        files += sum(1 for m in batch for p in (media_path(m), _raw_mail_path(m)) if p is not None)
    return RetentionCount(messages=count, files=files)


def _batches(rows: Iterable[Message]) -> Iterator[list[Message]]:
    batch: list[Message] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def set_retention(inbox: Inbox, months: int | None, *, by: Agent) -> None:
    previous = retention_months(inbox)
    if previous == months:
        return
    settings = dict(inbox.settings or {})
    if months is None:
        settings.pop("retention_months", None)
    else:
        settings["retention_months"] = months
    inbox.settings = settings
    audit.record("inbox.retention_changed", actor=by, target=inbox, old=previous, new=months)


def apply_retention(inbox: Inbox, *, now: datetime | None = None, commit=None) -> RetentionCount:
    """Clear the inbox's messages older than its policy, BATCH at a time (each committed through
    `commit`, so a long first run never holds one huge transaction); audited when anything went."""
    months = retention_months(inbox)
    total = RetentionCount(0, 0)
    if months is None:
        return total
    now = now or utcnow()
    # Webhook payloads about a message arrive within days of it (statuses, edits): only those old
    # enough are scanned for the batch's message ids.
    events_before = months_before(now, months) + EVENT_SLACK
    while True:
        batch = list(db.session.scalars(_due(inbox, months, now).order_by(Message.id).limit(BATCH)))
        if not batch:
            break
        total.events += _scrub_events(_message_identifiers(batch), WebhookEvent.received_at < events_before)
        cleared, files = _clear_messages(batch)
        total.messages += cleared
        total.files += files
        if commit is not None:
            commit()
    # A survey's comment is a copy of the customer's message text.
    db.session.execute(
        update(CsatResponse)
        .where(
            CsatResponse.inbox_id == inbox.id,
            CsatResponse.answered_at < months_before(now, months),
            CsatResponse.comment.is_not(None),
        )
        .values(comment=None)
    )
    if total.messages:
        audit.record(
            "retention.applied",
            target=inbox,
            months=months,
            messages=total.messages,
            files=total.files,
            webhook_events=total.events,
        )
    return total

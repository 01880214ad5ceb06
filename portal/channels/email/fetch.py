"""Fetching new mail from each e-mail inbox's IMAP folder: the scheduled job's work.

Row first, as for webhooks (docs/architecture.md, "Durability"): each new mail's bytes are written
under MEDIA_ROOT, then its email_receipts row (UID, UIDVALIDITY, Message-ID) and a pending
webhook_events row (provider "email") are committed together, a batch at a time, and only then is
its processing enqueued. A crash before the commit leaves no row, so the next fetch asks for the
same UIDs again; after it, the receipt's unique key keeps a second fetch (or a concurrent one)
from storing the mail twice. The folder is opened read-only: nothing is deleted, flagged or moved.
A mail over EMAIL_MAX_BYTES is fetched up to that size; processing notes the cut.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.channels.base import ChannelError
from portal.channels.email import client, config
from portal.channels.email.parse import MESSAGE_ID
from portal.extensions import db
from portal.models import Channel, EmailReceipt, Inbox, WebhookEvent, WebhookStatus, utcnow
from portal.services import webhook_events

log = logging.getLogger(__name__)

PROVIDER = "email"
EVENT_TYPE = "email.received"
BATCH = 50
_ITEM = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")


@dataclass
class Fetched:
    uid: int
    size: int
    raw: bytes


def email_inboxes() -> list[Inbox]:
    return list(
        # A disabled inbox still receives (it only refuses sends), as a WhatsApp one does.
        db.session.scalars(select(Inbox).where(Inbox.channel == Channel.email).order_by(Inbox.id))
    )


def fetch_all() -> int:
    """Fetch every e-mail inbox; one unreachable server never keeps the others waiting."""
    stored = 0
    for inbox in email_inboxes():
        try:
            stored += fetch_inbox(inbox)
        except ChannelError as error:
            db.session.rollback()
            log.warning("e-mail inbox %s: fetch failed: %s", inbox.id, error.title)
    return stored


def fetch_inbox(inbox: Inbox, *, batch: int = BATCH) -> int:
    """Store the folder's mails newer than the last UID stored; returns how many were stored."""
    settings = config.load(inbox)
    connection = client.imap_connect(settings.imap)
    try:
        uidvalidity = client.imap_select(connection, settings.folder)
        last = last_uid(inbox, settings.folder, uidvalidity)
        status, data = connection.uid("SEARCH", None, f"UID {last + 1}:*")
        if status != "OK":
            raise ChannelError(client.CONNECTION_FAILED, "IMAP: UID SEARCH failed", retryable=True)
        # "n:*" always names the newest mail, even one at or below n.
        uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last)
        stored = 0
        for start in range(0, len(uids), batch):
            chunk = uids[start : start + batch]
            fetched = _fetch(connection, chunk)
            try:
                stored += _store(inbox, settings.folder, uidvalidity, fetched)
            except IntegrityError:
                # Another fetch of this inbox stored these first: its rows stand, this one stops.
                db.session.rollback()
                return stored
        return stored
    finally:
        try:
            connection.logout()
        except Exception:  # the server went away: nothing to close
            pass


def last_uid(inbox: Inbox, folder: str, uidvalidity: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.max(EmailReceipt.uid), 0)).where(
            EmailReceipt.inbox_id == inbox.id, EmailReceipt.folder == folder, EmailReceipt.uidvalidity == uidvalidity
        )
    )


def max_bytes() -> int:
    return int(current_app.config["EMAIL_MAX_BYTES"])


def _fetch(connection, uids: list[int]) -> list[Fetched]:
    limit = max_bytes()
    status, data = connection.uid(
        "FETCH", ",".join(map(str, uids)), f"(UID RFC822.SIZE BODY.PEEK[]<0.{limit}>)"
    )
    if status != "OK":
        raise ChannelError(client.CONNECTION_FAILED, "IMAP: UID FETCH failed", retryable=True)
    found: list[Fetched] = []
    for item in data:
        if not isinstance(item, tuple) or len(item) < 2:
            continue
        uid = size = None
        for match in _ITEM.finditer(item[0]):
            if match.group(1):
                uid = int(match.group(1))
            elif match.group(2):
                size = int(match.group(2))
        if uid is not None:
            found.append(Fetched(uid=uid, size=size if size is not None else len(item[1]), raw=item[1]))
    return sorted(found, key=lambda f: f.uid)


def _store(inbox: Inbox, folder: str, uidvalidity: int, fetched: list[Fetched]) -> int:
    events = []
    for mail in fetched:
        relative = f"email/{inbox.id}/{uidvalidity}/{mail.uid}.eml"
        _write(media_root() / relative, mail.raw)
        message_id = _message_id(mail.raw)
        event = WebhookEvent(
            provider=PROVIDER,
            event_type=EVENT_TYPE,
            payload_json={
                "inbox_id": inbox.id,
                "folder": folder,
                "uidvalidity": uidvalidity,
                "uid": mail.uid,
                "size": mail.size,
                "kept": len(mail.raw),
                "file": relative,
                "message_id": message_id,
            },
            received_at=utcnow(),
            status=WebhookStatus.pending,
            attempts=0,
        )
        db.session.add(event)
        db.session.flush()
        db.session.add(
            EmailReceipt(
                inbox_id=inbox.id,
                folder=folder,
                uidvalidity=uidvalidity,
                uid=mail.uid,
                message_id_header=message_id,
                size=mail.size,
                event_id=event.id,
            )
        )
        events.append(event)
    db.session.flush()
    for event in events:
        webhook_events.enqueue(event)
    db.session.commit()
    return len(events)


def _message_id(raw: bytes) -> str | None:
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw[:65536], headersonly=True)
        found = MESSAGE_ID.findall(str(headers.get("Message-ID") or ""))
    except Exception:  # a header block too broken to read: processing notes it
        return None
    return found[0][:255] if found else None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def media_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def raw_path(event: WebhookEvent) -> Path:
    return media_root() / event.payload_json["file"]

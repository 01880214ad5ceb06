"""Queue "outbound": downloading inbound media (DESIGN: Queues and jobs)."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Message
from portal.services import media
from portal.whatsapp.client import GraphError


def download_media(message_id: int) -> None:
    message = db.session.get(Message, message_id)
    if message is None:
        return
    try:
        media.download(message)
    except (GraphError, media.MediaChecksumError):
        # Keep the reason on the message while RQ retries.
        db.session.commit()
        raise
    db.session.commit()

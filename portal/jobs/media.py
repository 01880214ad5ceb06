"""Queue "outbound": downloading inbound media (docs/architecture.md, "Queues and jobs")."""

from __future__ import annotations

from portal.channels import ChannelError
from portal.extensions import db
from portal.models import Message
from portal.services import media_files


def download_media(message_id: int) -> None:
    message = db.session.get(Message, message_id)
    if message is None:
        return
    try:
        media_files.download(message)
    except ChannelError:
        # Keep the reason on the message while RQ retries.
        db.session.commit()
        raise
    db.session.commit()

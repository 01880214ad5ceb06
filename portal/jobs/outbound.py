"""Queue "outbound": sending messages and read receipts through their channel
(docs/architecture.md, "Queues and jobs")."""

from __future__ import annotations

from rq import get_current_job

from portal.channels import ChannelError
from portal.extensions import db
from portal.models import Message
from portal.services import outbound

# Set on a send job whose retries ran out, so running it again means an admin requeued the dead letter.
DEAD_LETTER = "atende_dead_letter"


def send_message(message_id: int) -> None:
    message = db.session.get(Message, message_id)
    if message is None:
        return
    job = get_current_job()
    if job is not None and job.meta.get(DEAD_LETTER):
        # The row says `failed` since the retries ran out; a requeue must really resend.
        outbound.revive(message)
    try:
        outbound.send(message, save_attempt=db.session.commit)
    except ChannelError:
        # Keep the transient reason on the bubble while RQ retries.
        db.session.commit()
        raise
    db.session.commit()


def send_message_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback of send_message: after the last retry the message ends `failed`;
    the job itself stays in the FailedJobRegistry for admins."""
    if job.should_retry:
        return
    job.meta[DEAD_LETTER] = True
    job.save_meta()
    db.session.rollback()
    message = db.session.get(Message, job.args[0])
    if message is not None and outbound.fail_after_retries(message, exc_value):
        db.session.commit()


def mark_read(message_id: int) -> None:
    message = db.session.get(Message, message_id)
    if message is not None:
        outbound.send_read_receipt(message)

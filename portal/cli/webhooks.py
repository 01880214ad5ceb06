"""`sweep` and `reprocess EVENT_ID`: operating the webhook pipeline by hand (a channel registers its
own commands, e.g. WhatsApp's `simulate-inbound`)."""

from __future__ import annotations

import contextlib

import click
from flask import Flask
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.extensions import db
from portal.jobs.maintenance import STALE_AFTER_SECONDS, sweep_pending
from portal.jobs.webhooks import process_webhook_event
from portal.labels import label
from portal.models import WebhookEvent, WebhookStatus
from portal.services import webhook_events


@click.command("sweep")
@click.option("--older-than", "older_than", default=STALE_AFTER_SECONDS, show_default=True, help="Seconds.")
def sweep(older_than: int) -> None:
    """Re-enqueue the webhook events and queued messages whose job was lost (older than the cutoff)."""
    counts = sweep_pending(older_than)
    click.echo(
        _(
            "Re-enqueued %(events)s and %(messages)s.",
            events=ngettext("%(num)d webhook event", "%(num)d webhook events", counts["webhook_events"]),
            messages=ngettext("%(num)d message", "%(num)d messages", counts["messages"]),
        )
    )
    if counts["messages_failed"]:
        click.echo(
            ngettext(
                "%(num)d message had no tries left and is now failed.",
                "%(num)d messages had no tries left and are now failed.",
                counts["messages_failed"],
            )
        )


@click.command("reprocess")
@click.argument("event_id", type=int)
def reprocess(event_id: int) -> None:
    """Process one stored webhook event again, now, in this process."""
    event = db.session.get(WebhookEvent, event_id)
    if event is None:
        raise click.ClickException(_("There is no webhook event %(id)d.", id=event_id))
    webhook_events.replay(event, by=None, enqueue_job=False)
    db.session.commit()
    # A failure is recorded on the event by the job and reported below.
    with contextlib.suppress(Exception):
        process_webhook_event(event_id)
    db.session.expire_all()
    event = db.session.get(WebhookEvent, event_id)
    click.echo(_("Webhook event %(id)d: %(status)s", id=event_id, status=label(event.status)))
    if event.error:
        click.echo(event.error)
    if event.status == WebhookStatus.failed:
        raise SystemExit(1)


def register(app: Flask) -> None:
    for command in (sweep, reprocess):
        app.cli.add_command(command)

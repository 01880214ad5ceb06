"""`sweep`, `reprocess EVENT_ID` and `simulate-inbound`: operating the webhook pipeline by hand."""

from __future__ import annotations

import contextlib
import json
import secrets
import time

import click
import requests
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.channels.whatsapp.simulator import new_wamid
from portal.channels.whatsapp.webhook import SIGNATURE_HEADER, signature_header
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


@click.command("simulate-inbound")
@click.option("--from", "wa_id", required=True, help="The sender's WhatsApp id: digits, country code first.")
@click.option("--text", required=True, help="The message text.")
@click.option("--name", default="Cliente Simulado", show_default=True, help="The sender's profile name.")
@click.option("--url", help="The portal's webhook URL (default: PUBLIC_BASE_URL/webhooks/whatsapp).")
def simulate_inbound(wa_id: str, text: str, name: str, url: str | None) -> None:
    """Post a correctly signed WhatsApp text message to a running portal, as Meta would."""
    url = url or current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/webhooks/whatsapp"
    body = json.dumps(inbound_text_notification(wa_id, text, name)).encode()
    signature = signature_header(body, current_app.config["WHATSAPP_APP_SECRET"])
    try:
        answer = requests.post(
            url, data=body, headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature}, timeout=10
        )
    except requests.RequestException as exc:
        raise click.ClickException(_("Could not reach %(url)s: %(error)s", url=url, error=type(exc).__name__)) from None
    if not answer.ok:
        raise click.ClickException(_("The portal answered %(code)d.", code=answer.status_code))
    click.echo(_("Delivered: the portal answered %(code)d.", code=answer.status_code))


def inbound_text_notification(wa_id: str, text: str, name: str) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "15550001111",
            "phone_number_id": current_app.config["WHATSAPP_PHONE_NUMBER_ID"],
        },
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [
            {"from": wa_id, "id": new_wamid(), "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}
        ],
    }
    entry = {"id": str(secrets.randbelow(10**15)), "changes": [{"field": "messages", "value": value}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def register(app: Flask) -> None:
    for command in (sweep, reprocess, simulate_inbound):
        app.cli.add_command(command)

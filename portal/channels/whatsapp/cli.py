"""`simulate-inbound`: post a signed WhatsApp message to a running portal, as Meta would. The
adapter registers it (docs/architecture.md, "Channels")."""

from __future__ import annotations

import json
import secrets
import time

import click
import requests
from flask import current_app
from flask_babel import gettext as _

from portal.channels.whatsapp.simulator import new_wamid
from portal.channels.whatsapp.webhook import SIGNATURE_HEADER, signature_header


@click.command("simulate-inbound")
@click.option("--from", "wa_id", required=True, help="The sender's WhatsApp id: digits, country code first.")
@click.option("--text", required=True, help="The message text.")
@click.option("--name", default="Cliente Simulado", show_default=True, help="The sender's profile name.")
@click.option(
    "--to",
    "phone_number_id",
    help="The phone number ID of the inbox it is sent to (default: WHATSAPP_PHONE_NUMBER_ID).",
)
@click.option("--url", help="The portal's webhook URL (default: PUBLIC_BASE_URL/webhooks/whatsapp).")
def simulate_inbound(wa_id: str, text: str, name: str, phone_number_id: str | None, url: str | None) -> None:
    """Post a correctly signed WhatsApp text message to a running portal, as Meta would."""
    url = url or current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/webhooks/whatsapp"
    body = json.dumps(inbound_text_notification(wa_id, text, name, phone_number_id)).encode()
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


def inbound_text_notification(wa_id: str, text: str, name: str, phone_number_id: str | None = None) -> dict:
    """A text message notification from `wa_id` to the number `phone_number_id` (default: the
    environment's first number)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "15550001111",
            "phone_number_id": phone_number_id or current_app.config["WHATSAPP_PHONE_NUMBER_ID"],
        },
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [
            {"from": wa_id, "id": new_wamid(), "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}
        ],
    }
    entry = {"id": str(secrets.randbelow(10**15)), "changes": [{"field": "messages", "value": value}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}

"""`create-inbox`: connect a WhatsApp number from the command line (scripts/run's demo inboxes)."""

from __future__ import annotations

import click
from flask import Flask
from flask_babel import gettext as _

from portal.extensions import db
from portal.services import inboxes


@click.command("create-inbox")
@click.option("--name", required=True, help="Name shown to the team.")
@click.option("--phone-number-id", required=True, help="The number's ID in WhatsApp Manager.")
@click.option("--access-token", required=True, help="The number's access token (stored encrypted).")
@click.option("--waba-id", help="Its WhatsApp business account ID (templates belong to it).")
@click.option("--display-phone", help="The phone number as customers see it.")
def create_inbox(name: str, phone_number_id: str, access_token: str, waba_id: str | None, display_phone: str | None) -> None:
    """Add a WhatsApp inbox; a number that already has one is left as it is."""
    existing = inboxes.by_phone_number_id(phone_number_id.strip())
    if existing is not None:
        click.echo(_("The inbox %(name)s already has this number.", name=existing.name))
        return
    try:
        inbox = inboxes.create_whatsapp_inbox(
            name=name, phone_number_id=phone_number_id, access_token=access_token,
            waba_id=waba_id, display_phone=display_phone, by=None,
        )
    except inboxes.InboxError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(_("Created the inbox %(name)s for the WhatsApp number ID %(number)s.", name=inbox.name, number=inbox.phone_number_id))


def register(app: Flask) -> None:
    app.cli.add_command(create_inbox)

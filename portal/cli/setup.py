import secrets

import click
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_migrate import upgrade
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agent, Role
from portal.services import agents, inboxes

DEMO_ADMIN_EMAIL = "admin@atende.example"


@click.command("init")
def init() -> None:
    """Upgrade the database, make the first inbox from the environment when there is none, then
    create a demo admin if no agent exists (credentials printed once)."""
    upgrade()
    inbox = inboxes.bootstrap_from_config(current_app.config)
    db.session.commit()
    if inbox is not None:
        click.echo(_("Created the inbox %(name)s for the WhatsApp number ID %(number)s.", name=inbox.name, number=inbox.phone_number_id))
    if db.session.scalar(select(func.count()).select_from(Agent)):
        click.echo(_("Database is up to date; agents already exist."))
        return
    password = secrets.token_urlsafe(12)
    agents.create(email=DEMO_ADMIN_EMAIL, name="Admin", role=Role.admin, password=password)
    db.session.commit()
    click.echo(_("Database is up to date. Created the first admin; this password is shown only once:"))
    click.echo("  " + _("e-mail: %(email)s", email=DEMO_ADMIN_EMAIL))
    click.echo("  " + _("password: %(password)s", password=password))


def register(app: Flask) -> None:
    app.cli.add_command(init)

import click
from flask import Flask
from flask_babel import gettext as _

from portal.extensions import db
from portal.labels import label
from portal.models import Role
from portal.services import agents


@click.command("create-agent")
@click.option("--email", required=True, help="Sign-in e-mail.")
@click.option("--name", required=True, help="Name shown to the team.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.agent.value, show_default=True)
@click.option("--password", help="Password (prompted when omitted; use this in scripts).")
def create_agent(email: str, name: str, role: str, password: str | None) -> None:
    """Create an agent who can sign in."""
    if password is None:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    try:
        agent = agents.create(email=email, name=name, role=Role(role), password=password)
    except agents.AgentError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(_("Created %(role)s %(email)s (id %(id)d).", role=label(agent.role), email=agent.email, id=agent.id))


def register(app: Flask) -> None:
    app.cli.add_command(create_agent)

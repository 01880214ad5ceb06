import click
from flask import Flask
from flask_babel import gettext as _

from portal.extensions import db
from portal.labels import label
from portal.models import Role
from portal.services import agent_admin, agents


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


@click.command("reset-password")
@click.option("--email", required=True, help="The agent's sign-in e-mail.")
@click.option("--password", help="New password (prompted when omitted; use this in scripts).")
def reset_password(email: str, password: str | None) -> None:
    """Give an agent a new password (e.g. a missed first-admin password); signs them out everywhere."""
    agent = agents.find_by_email(email)
    if agent is None:
        raise click.ClickException(_("No agent signs in with %(email)s.", email=agents.normalize_email(email)))
    if password is None:
        password = click.prompt(_("New password"), hide_input=True, confirmation_prompt=True)
    try:
        agent_admin.reset_password(agent, temporary_password=password, by=None)
    except agents.AgentError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(_("New password set for %(email)s.", email=agent.email))


def register(app: Flask) -> None:
    app.cli.add_command(create_agent)
    app.cli.add_command(reset_password)

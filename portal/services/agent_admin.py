"""Managing agents: admins create, edit, deactivate and reset them; each agent edits their own
profile. Every change is audited.

Set-password links are signed with the app's SECRET_KEY and carry the agent's session_version:
setting the password bumps the version, so a link works once, and any later reset, deactivation
or password change voids the links issued before it.
"""

from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agent, Role
from portal.services import agents, api_tokens, audit, passwords
from portal.services.agents import AgentError

SET_PASSWORD_SALT = "atende.set-password"
SET_PASSWORD_MAX_AGE_SECONDS = 3 * 24 * 60 * 60


class LastAdminError(AgentError):
    """The change would leave the portal without an active admin."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SET_PASSWORD_SALT)


def set_password_token(agent: Agent) -> str:
    return _serializer().dumps({"agent": agent.id, "version": agent.session_version})


def agent_for_token(token: str) -> Agent:
    """The agent a set-password link is for; AgentError when it is forged, expired or already used."""
    max_age = current_app.config.get("SET_PASSWORD_MAX_AGE_SECONDS", SET_PASSWORD_MAX_AGE_SECONDS)
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise AgentError(_("This link has expired. Ask an admin for a new one.")) from None
    except BadSignature:
        raise AgentError(_("This link is not valid.")) from None
    agent = db.session.get(Agent, data.get("agent"))
    if agent is None or not agent.active or agent.session_version != data.get("version"):
        raise AgentError(_("This link was already used or has been replaced. Ask an admin for a new one."))
    return agent


def _check_password(password: str) -> None:
    reason = passwords.problem(password)
    if reason:
        raise AgentError(reason)


def _sign_out_everywhere(agent: Agent, *, by: Agent) -> None:
    """End every session and revoke every API token: what a stolen password or a departure needs."""
    agents.end_sessions(agent)
    api_tokens.revoke_all(agent, by=by)


def _other_active_admins(agent: Agent) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Agent)
        .where(Agent.role == Role.admin, Agent.active.is_(True), Agent.id != agent.id)
    )


def _refuse_losing_the_last_admin(agent: Agent) -> None:
    if agent.role == Role.admin and agent.active and _other_active_admins(agent) == 0:
        raise LastAdminError(
            _("%(name)s is the last active admin: make someone else admin first.", name=agent.name)
        )


def _check_email_free(email: str, agent: Agent | None = None) -> None:
    existing = agents.find_by_email(email)
    if existing is not None and existing is not agent:
        raise AgentError(
            _("An agent with the e-mail %(email)s already exists.", email=agents.normalize_email(email))
        )


def create(
    *, name: str, email: str, role: Role, temporary_password: str | None, by: Agent
) -> tuple[Agent, str | None]:
    """Create an agent with a temporary password, or, without one, return a set-password token
    (the agent's password is then random and unknown to everyone)."""
    _check_email_free(email)
    if temporary_password:
        _check_password(temporary_password)
    password = temporary_password or secrets.token_urlsafe(32)
    agent = agents.create(email=email, name=name, role=role, password=password, by=by)
    return agent, None if temporary_password else set_password_token(agent)


def update(agent: Agent, *, name: str, email: str, role: Role, by: Agent) -> None:
    _check_email_free(email, agent)
    changes = {}
    if name.strip() != agent.name:
        changes["name"] = [agent.name, name.strip()]
    if agents.normalize_email(email) != agent.email:
        changes["email"] = [agent.email, agents.normalize_email(email)]
    if role != agent.role:
        if role != Role.admin:
            _refuse_losing_the_last_admin(agent)
        audit.record("agent.role_changed", actor=by, target=agent, old=agent.role.value, new=role.value)
        agent.role = role
    if changes:
        audit.record("agent.updated", actor=by, target=agent, **changes)
        agent.name = name.strip()
        agent.email = agents.normalize_email(email)


def deactivate(agent: Agent, *, by: Agent) -> None:
    """Deactivate, sign out at the agent's next request and revoke their API tokens (reactivating
    does not revive them)."""
    if not agent.active:
        return
    if agent.id == by.id:
        raise AgentError(_("You cannot deactivate your own account: ask another admin to do it."))
    agent.active = False
    _sign_out_everywhere(agent, by=by)
    audit.record("agent.deactivated", actor=by, target=agent)


def reactivate(agent: Agent, *, by: Agent) -> None:
    if agent.active:
        return
    agent.active = True
    audit.record("agent.reactivated", actor=by, target=agent)


def reset_password(agent: Agent, *, temporary_password: str | None, by: Agent) -> str | None:
    """Sign the agent out and set a temporary password, or return a set-password token."""
    if temporary_password:
        _check_password(temporary_password)
        agent.set_password(temporary_password)
    else:
        agent.set_password(secrets.token_urlsafe(32))
    _sign_out_everywhere(agent, by=by)
    audit.record(
        "agent.password_reset", actor=by, target=agent, method="temporary" if temporary_password else "link"
    )
    return None if temporary_password else set_password_token(agent)


def set_password_from_link(token: str, password: str) -> Agent:
    agent = agent_for_token(token)
    _check_password(password)
    agent.set_password(password)
    _sign_out_everywhere(agent, by=agent)
    audit.record("agent.password_set", actor=agent, target=agent)
    return agent


def update_profile(
    agent: Agent, *, name: str, locale: str, alert_sound: bool = False, alert_desktop: bool = False
) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise AgentError(_("Choose one of the offered languages."))
    if name.strip() != agent.name or locale != agent.locale:
        audit.record("profile.updated", actor=agent, target=agent, locale=locale)
    agent.name = name.strip()
    agent.locale = locale
    agent.alert_sound = alert_sound
    agent.alert_desktop = alert_desktop


def change_own_password(agent: Agent, *, current_password: str, new_password: str) -> None:
    """Change the password, end every other session (the caller signs this one in again) and
    revoke the agent's API tokens."""
    if not agent.check_password(current_password):
        raise AgentError(_("The current password is wrong."))
    _check_password(new_password)
    agent.set_password(new_password)
    _sign_out_everywhere(agent, by=agent)
    audit.record("profile.password_changed", actor=agent, target=agent)

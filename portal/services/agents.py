"""Creating agents and checking their credentials."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agent, Role, utcnow
from portal.services import audit


class AgentError(ValueError):
    """A readable reason an agent change was refused."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Agent | None:
    return db.session.scalar(select(Agent).where(func.lower(Agent.email) == normalize_email(email)))


def create(*, email: str, name: str, role: Role, password: str, by: Agent | None = None) -> Agent:
    if len(password) < 8:
        raise AgentError(_("The password must have at least 8 characters."))
    if find_by_email(email) is not None:
        raise AgentError(_("An agent with the e-mail %(email)s already exists.", email=normalize_email(email)))
    agent = Agent(email=normalize_email(email), name=name.strip(), role=role, active=True)
    agent.set_password(password)
    db.session.add(agent)
    db.session.flush()
    audit.record("agent.created", actor=by, target=agent, role=role.value)
    return agent


def authenticate(email: str, password: str) -> Agent | None:
    """The agent for these credentials, or None. Inactive agents never authenticate."""
    agent = find_by_email(email)
    if agent is None or not agent.active or not agent.check_password(password):
        return None
    return agent


def record_login(agent: Agent, at: datetime | None = None) -> None:
    agent.last_login_at = at or utcnow()
    audit.record("auth.login", actor=agent, target=agent)


def record_failed_login(email: str) -> None:
    agent = find_by_email(email)
    audit.record("auth.login_failed", target=agent, email=normalize_email(email))

"""Creating agents and checking their credentials."""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models import Agent, Inbox, Role, utcnow
from portal.services import audit, passwords
from portal.services import inboxes as inbox_service


class AgentError(ValueError):
    """A readable reason an agent change was refused."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Agent | None:
    return db.session.scalar(select(Agent).where(func.lower(Agent.email) == normalize_email(email)))


def create(
    *, email: str, name: str, role: Role, password: str, by: Agent | None = None, inboxes: list[Inbox] | None = None
) -> Agent:
    """A new agent, a member of `inboxes` (None: of every inbox, as for the CLI and the first admin)."""
    reason = passwords.problem(password)
    if reason:
        raise AgentError(reason)
    if find_by_email(email) is not None:
        raise AgentError(_("An agent with the e-mail %(email)s already exists.", email=normalize_email(email)))
    agent = Agent(email=normalize_email(email), name=name.strip(), role=role, active=True)
    agent.inboxes = list(inboxes) if inboxes is not None else inbox_service.all_inboxes()
    agent.set_password(password)
    db.session.add(agent)
    db.session.flush()
    audit.record("agent.created", actor=by, target=agent, role=role.value)
    return agent


@cache
def _dummy_password_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def authenticate(email: str, password: str) -> Agent | None:
    """The agent for these credentials, or None. Inactive agents never authenticate.

    An unknown e-mail is checked against a dummy hash of the same method, so the answer takes as
    long as for a real account and its timing does not tell which e-mails have one."""
    agent = find_by_email(email)
    if agent is None or not agent.password_hash:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        check_password_hash(_dummy_password_hash(method), password)
        return None
    if not check_password_hash(agent.password_hash, password) or not agent.active:
        return None
    return agent


def end_sessions(agent: Agent) -> None:
    """End every session and remember-me cookie of `agent`: the user loader compares this version
    with the one the cookie carries (portal.access), and set-password links carry it too."""
    agent.session_version = (agent.session_version or 1) + 1


def record_logout(agent: Agent) -> None:
    end_sessions(agent)
    audit.record("auth.logout", actor=agent, target=agent)


def record_login(agent: Agent, at: datetime | None = None) -> None:
    agent.last_login_at = at or utcnow()
    audit.record("auth.login", actor=agent, target=agent)


def record_failed_login(email: str) -> None:
    agent = find_by_email(email)
    audit.record("auth.login_failed", target=agent, email=normalize_email(email))

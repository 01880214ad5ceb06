"""Per-agent API tokens: created once (the plaintext is shown only then), stored as a SHA-256
hash with a short prefix for display, revoked by their owner or an admin, and all at once when
the password changes or the agent is deactivated (reactivating does not revive them).

A token is random, so a fast unsalted hash is enough to make a leaked table useless, and it
lets a request find its token with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal.extensions import db
from portal.models import Agent, ApiToken, Role, utcnow
from portal.services import audit

TOKEN_PREFIX = "atd_"
DISPLAY_PREFIX_LENGTH = 12
# Writing last_used_at on every call would turn each read into a write; once a minute is enough
# to tell a live integration from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_MAX_LENGTH = 100


class TokenError(ValueError):
    """A readable reason a token change was refused."""


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create(agent: Agent, name: str) -> tuple[ApiToken, str]:
    """A new token for `agent`; returns (row, plaintext). The plaintext is never stored."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError(_("A token needs a name."))
    if len(name) > NAME_MAX_LENGTH:
        raise TokenError(_("A token name has at most %(max)d characters.", max=NAME_MAX_LENGTH))
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        agent_id=agent.id,
        name=name,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
    )
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", actor=agent, target=token, name=name)
    return token, plaintext


def revoke(token: ApiToken, *, by: Agent) -> bool:
    """Revoke `token`; returns False when it already was. Its owner or an admin may revoke it."""
    if token.agent_id != by.id and not by.has_role(Role.admin):
        raise TokenError(_("Only the token's owner or an admin can revoke it."))
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record("api_token.revoked", actor=by, target=token, name=token.name)
    return True


def revoke_all(agent: Agent, *, by: Agent) -> int:
    """Revoke every live token of `agent`; returns how many."""
    live = db.session.scalars(
        select(ApiToken).where(ApiToken.agent_id == agent.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for token in live:
        token.revoked_at = now
    if live:
        audit.record("api_token.revoked_all", actor=by, target=agent, count=len(live))
    return len(live)


def list_for(agent: Agent) -> list[ApiToken]:
    """The agent's tokens, newest first, revoked ones included (they show when they stopped)."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.agent_id == agent.id).order_by(ApiToken.id.desc())
        )
    )


def get_for(agent: Agent, token_id: int) -> ApiToken | None:
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.agent_id == agent.id else None


def authenticate(plaintext: str) -> ApiToken | None:
    """The live token for this plaintext (not revoked, agent active), or None.

    Marks it used, at most once per LAST_USED_RESOLUTION; the caller commits."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext))).first()
    if token is None or token.revoked_at is not None or not token.agent.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token

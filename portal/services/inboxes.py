"""Inboxes: the connected accounts conversations belong to (a WhatsApp number today), who works
them, and their credentials. Callers commit; every change is audited.

- Webhooks are routed to an inbox by the number they name (`phone_number_id`); a number no inbox
  knows is flagged on the webhook event and shown nowhere (portal.services.inbound).
- An agent sees only the conversations of their inboxes; supervisors and admins see every inbox
  (portal.services.conversations.visible_to).
- The access token is write-only: stored encrypted (portal.crypto), never shown again.
- A disabled inbox keeps its history and still receives messages, but refuses every send.
- The first inbox of an install comes from the environment (WHATSAPP_PHONE_NUMBER_ID,
  WHATSAPP_ACCESS_TOKEN, WHATSAPP_BUSINESS_ACCOUNT_ID): the migration that introduced inboxes
  made it for an existing install, and `flask init` makes it on a new one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from portal import crypto
from portal.extensions import db
from portal.models import Agent, Channel, Inbox, Role, agent_inboxes
from portal.services import audit

DIGITS = re.compile(r"^[0-9]{1,64}$")
FIRST_INBOX_NAME = "WhatsApp"


class InboxError(ValueError):
    """A readable reason an inbox change was refused; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def all_inboxes() -> list[Inbox]:
    return list(db.session.scalars(select(Inbox).order_by(Inbox.name)))


def by_phone_number_id(phone_number_id: str) -> Inbox | None:
    return db.session.scalar(select(Inbox).where(Inbox.phone_number_id == phone_number_id))


def member_inbox_ids(agent: Agent) -> Select:
    """The ids of the inboxes `agent` works, as a subquery for scoping conversations."""
    return select(agent_inboxes.c.inbox_id).where(agent_inboxes.c.agent_id == agent.id)


def sees_every_inbox(agent: Agent) -> bool:
    return agent.has_role(Role.supervisor)


def visible_inboxes(agent: Agent) -> list[Inbox]:
    """The inboxes whose conversations `agent` may see, by name (filters offer these)."""
    query = select(Inbox).order_by(Inbox.name)
    if not sees_every_inbox(agent):
        query = query.where(Inbox.id.in_(member_inbox_ids(agent)))
    return list(db.session.scalars(query))


def is_member(agent: Agent, inbox_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(agent_inboxes)
            .where(agent_inboxes.c.agent_id == agent.id, agent_inboxes.c.inbox_id == inbox_id)
        )
    )


def memberships(agent_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(agent id, inbox id) for every inbox these agents work: one query for a caller that asks
    about many agents (is_member asks about one)."""
    ids = list(agent_ids)
    if not ids:
        return set()
    return set(
        db.session.execute(
            select(agent_inboxes.c.agent_id, agent_inboxes.c.inbox_id).where(agent_inboxes.c.agent_id.in_(ids))
        ).tuples()
    )


def access_token(inbox: Inbox) -> str | None:
    """The inbox's access token in clear, for the channel's API calls only."""
    return crypto.decrypt(inbox.access_token_encrypted) if inbox.access_token_encrypted else None


def send_refusal(inbox: Inbox) -> str | None:
    """Why nothing can be sent from this inbox now, or None when it can send."""
    if not inbox.enabled:
        return _("The inbox %(name)s is disabled: an admin must enable it before anything is sent from it.", name=inbox.name)
    if not inbox.access_token_encrypted:
        return _("The inbox %(name)s has no access token: an admin must add one.", name=inbox.name)
    return None


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check(
    name: str, phone_number_id: str | None, waba_id: str | None, display_phone: str | None, *, current: Inbox | None
) -> None:
    if not name:
        raise InboxError(_("Give the inbox a name."), "name")
    if len(name) > 100:
        raise InboxError(_("Use at most %(num)d characters.", num=100), "name")
    taken = db.session.scalar(select(Inbox).where(func.lower(Inbox.name) == name.lower()))
    if taken is not None and taken is not current:
        raise InboxError(_("Another inbox already has this name."), "name")
    if not phone_number_id or not DIGITS.fullmatch(phone_number_id):
        raise InboxError(_("Copy the phone number ID (digits only) from WhatsApp Manager."), "phone_number_id")
    owner = by_phone_number_id(phone_number_id)
    if owner is not None and owner is not current:
        raise InboxError(_("The inbox %(name)s already uses this phone number ID.", name=owner.name), "phone_number_id")
    if waba_id is not None and not DIGITS.fullmatch(waba_id):
        raise InboxError(_("The WhatsApp business account ID has digits only."), "waba_id")
    if display_phone is not None and len(display_phone) > 32:
        raise InboxError(_("Use at most %(num)d characters.", num=32), "display_phone")


def create_whatsapp_inbox(
    *,
    name: str,
    phone_number_id: str,
    access_token: str,
    waba_id: str | None = None,
    display_phone: str | None = None,
    by: Agent | None,
) -> Inbox:
    name, phone_number_id = (name or "").strip(), _clean(phone_number_id)
    waba_id, display_phone, token = _clean(waba_id), _clean(display_phone), _clean(access_token)
    _check(name, phone_number_id, waba_id, display_phone, current=None)
    if token is None:
        raise InboxError(_("Paste the number's access token."), "access_token")
    inbox = Inbox(
        channel=Channel.whatsapp,
        name=name,
        enabled=True,
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        display_phone=display_phone,
        access_token_encrypted=crypto.encrypt(token),
    )
    db.session.add(inbox)
    db.session.flush()
    audit.record("inbox.created", actor=by, target=inbox, name=name, phone_number_id=phone_number_id)
    return inbox


def update_whatsapp_inbox(
    inbox: Inbox,
    *,
    name: str,
    phone_number_id: str,
    waba_id: str | None,
    display_phone: str | None,
    access_token: str | None,
    by: Agent,
) -> bool:
    """Apply the changes; an empty access token keeps the stored one. False when nothing changed."""
    name, phone_number_id = (name or "").strip(), _clean(phone_number_id)
    waba_id, display_phone, token = _clean(waba_id), _clean(display_phone), _clean(access_token)
    _check(name, phone_number_id, waba_id, display_phone, current=inbox)
    new = {"name": name, "phone_number_id": phone_number_id, "waba_id": waba_id, "display_phone": display_phone}
    changed = sorted(k for k, v in new.items() if getattr(inbox, k) != v)
    for key in changed:
        setattr(inbox, key, new[key])
    if token is not None:
        inbox.access_token_encrypted = crypto.encrypt(token)
        changed.append("access_token")
    if not changed:
        return False
    audit.record("inbox.updated", actor=by, target=inbox, changed=changed)
    return True


def set_enabled(inbox: Inbox, enabled: bool, *, by: Agent) -> bool:
    if inbox.enabled == enabled:
        return False
    inbox.enabled = enabled
    if enabled:
        audit.record("inbox.enabled", actor=by, target=inbox)
    else:
        audit.record("inbox.disabled", actor=by, target=inbox)
    return True


def set_members(inbox: Inbox, agents: Iterable[Agent], *, by: Agent) -> bool:
    """Make exactly `agents` the inbox's members; False when nothing changed."""
    new = {a.id: a for a in agents}
    old = {a.id for a in inbox.agents}
    if set(new) == old:
        return False
    inbox.agents = sorted(new.values(), key=lambda a: a.name)
    audit.record("inbox.members_changed", actor=by, target=inbox, old=sorted(old), new=sorted(new))
    return True


def set_agent_inboxes(agent: Agent, inboxes: Iterable[Inbox], *, by: Agent | None) -> bool:
    """Make `agent` a member of exactly `inboxes`; False when nothing changed."""
    new = {i.id: i for i in inboxes}
    old = {i.id for i in agent.inboxes}
    if set(new) == old:
        return False
    agent.inboxes = list(new.values())
    audit.record("agent.inboxes_changed", actor=by, target=agent, old=sorted(old), new=sorted(new))
    return True


def first_inbox_values(config: Mapping[str, Any]) -> dict[str, str | None] | None:
    """The first inbox as the environment describes it, or None when no number is configured."""
    phone_number_id = _clean(config.get("WHATSAPP_PHONE_NUMBER_ID"))
    if phone_number_id is None:
        return None
    return {
        "name": FIRST_INBOX_NAME,
        "phone_number_id": phone_number_id,
        "waba_id": _clean(config.get("WHATSAPP_BUSINESS_ACCOUNT_ID")),
        "display_phone": _clean(config.get("WHATSAPP_DISPLAY_PHONE")),
        "access_token": _clean(config.get("WHATSAPP_ACCESS_TOKEN")),
    }


def bootstrap_from_config(config: Mapping[str, Any]) -> Inbox | None:
    """On an install without inboxes, the first one from the environment, with every agent as a
    member; None when an inbox exists already or the environment names no number."""
    if db.session.scalar(select(func.count()).select_from(Inbox)):
        return None
    values = first_inbox_values(config)
    if values is None:
        return None
    token = values.pop("access_token")
    inbox = Inbox(
        channel=Channel.whatsapp,
        enabled=True,
        access_token_encrypted=crypto.encrypt(token) if token else None,
        **values,
    )
    inbox.agents = list(db.session.scalars(select(Agent)))
    db.session.add(inbox)
    db.session.flush()
    audit.record("inbox.created", actor=None, target=inbox, name=inbox.name, phone_number_id=inbox.phone_number_id)
    return inbox

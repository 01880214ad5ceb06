"""Internal notes, @mentions and transfers (docs/architecture.md, "Notes, transfers and snoozes").

A note is a message row of direction `internal` (models docstring, "messages"): it is shown in the
thread, styled apart, and listed by the API, but no send job, SLA first response, unread count,
auto-rule or CRM event ever takes it, because each of those looks only at inbound or outbound rows
and listens to `message.created`, which a note never emits (it emits `note.created`).

`@Full Name` in a note mentions that agent: a `mentions` row for their Mentions list, and a live
`mention` event on their stream (portal.services.live). Only someone who may see the conversation
can be mentioned; naming anyone else is refused, so a note never points at a thread its reader
cannot open. A transfer hands the conversation to a colleague (services.conversations.assign, with
its rules) and writes the handing agent's note into the thread. Callers commit.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import (
    NOTE,
    Agent,
    Conversation,
    Mention,
    Message,
    utcnow,
)
from portal.services import audit, conversations, events, thread_lines

MAX_NOTE_LENGTH = 10_000
MENTIONS_SHOWN = 100


class NoteError(conversations.ConversationError):
    """A readable reason a note or a transfer was refused."""


def mentioned_agents(body: str, candidates: list[Agent]) -> list[Agent]:
    """The agents `@Full Name` names in `body`, in the order they first appear (case-insensitive;
    a longer name wins over a shorter one that starts it, so "@Ana Maria" is not also "@Ana")."""
    found: dict[Agent, int] = {}
    taken: list[tuple[int, int]] = []
    for agent in sorted(candidates, key=lambda a: len(a.name), reverse=True):
        pattern = re.compile(r"(?<!\w)@" + re.escape(agent.name) + r"(?!\w)", re.IGNORECASE)
        for match in pattern.finditer(body):
            span = match.span()
            if any(start < span[1] and span[0] < end for start, end in taken):
                continue
            taken.append(span)
            found.setdefault(agent, span[0])
    return sorted(found, key=found.__getitem__)


def mentionable(conversation: Conversation) -> list[Agent]:
    """Who a note in this conversation may mention: the active agents who may see it."""
    active = db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name))
    return [agent for agent in active if conversations.can_see(agent, conversation)]


def _clean(body: str | None) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if len(body) > MAX_NOTE_LENGTH:
        raise NoteError(_("A note holds at most %(max)d characters.", max=MAX_NOTE_LENGTH))
    return body


def add_note(conversation: Conversation, body: str | None, *, by: Agent) -> Message:
    """Write a note into the thread and notify the agents it mentions."""
    body = _clean(body)
    if not body:
        raise NoteError(_("Write a note before saving it."))
    others = db.session.scalars(select(Agent).where(Agent.active.is_(True), Agent.id != by.id))
    named = mentioned_agents(body, list(others))
    blind = [agent.name for agent in named if not conversations.can_see(agent, conversation)]
    if blind:
        raise NoteError(
            _("%(names)s cannot see this conversation: transfer it, or mention someone who can.", names=", ".join(blind))
        )
    message = thread_lines.add(conversation, NOTE, body=body, by=by)
    for agent in named:
        db.session.add(Mention(message_id=message.id, agent_id=agent.id))
    events.emit("note.created", message=message, by=by, mentioned=[agent.id for agent in named])
    return message


def transfer(conversation: Conversation, to: Agent, note: str | None, *, by: Agent) -> Message:
    """Hand the conversation to `to` with the handing agent's note in the thread (the note may be
    empty: the line still says who handed it to whom)."""
    note = _clean(note)
    if to.id == conversation.assigned_to:
        raise NoteError(_("%(name)s already has this conversation.", name=to.name))
    previous = conversation.assigned_to
    conversations.assign(conversation, to, by=by)
    message = thread_lines.add(conversation, NOTE, body=note, by=by, payload={"transfer": {"from": previous, "to": to.id}})
    audit.record("conversation.transferred", actor=by, target=conversation, old=previous, new=to.id)
    events.emit("note.created", message=message, by=by, mentioned=[])
    return message


def mentions_of(agent: Agent, limit: int = MENTIONS_SHOWN) -> list[Mention]:
    """The agent's mentions in conversations they may still see, newest first."""
    rows = db.session.scalars(
        select(Mention)
        .where(Mention.agent_id == agent.id)
        .order_by(Mention.created_at.desc(), Mention.id.desc())
        .limit(limit)
    )
    return [m for m in rows if conversations.can_see(agent, m.message.conversation)]


def unseen_count(agent: Agent) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Mention).where(Mention.agent_id == agent.id, Mention.seen_at.is_(None))
    ) or 0


def mark_seen(agent: Agent) -> None:
    db.session.execute(
        update(Mention).where(Mention.agent_id == agent.id, Mention.seen_at.is_(None)).values(seen_at=utcnow())
    )

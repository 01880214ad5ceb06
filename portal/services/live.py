"""Live updates: what the stream server (portal/live/stream.py) pushes to open browser tabs
(docs/architecture.md, "Live updates").

Changes reach Redis only once committed, like jobs (portal/queue.py): the domain-event
subscriber below collects one small record per change in the session, and an after-commit hook
appends them to the bounded Redis stream EVENTS_KEY (XADD ... MAXLEN ~). A record holds ids and
the event type only, never a customer's name or text: the stream server looks those up per
reader, after checking the reader's scope. Presence beats (who views or types in a thread) are
short-lived and go to PRESENCE_KEY, which no one replays.

Redis streams rather than pub/sub: the stream's entry ids are the SSE event ids, so a client
that reconnects with Last-Event-ID is caught up from the same place the live events come from,
with no gap between "subscribe" and "read the backlog"; and stream keys live in the database
number of REDIS_URL, whereas pub/sub channels are shared by every database of a server.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Agent, Conversation, Message
from portal.queue import redis_connection

log = logging.getLogger(__name__)

EVENTS_KEY = "atende:live:events"
PRESENCE_KEY = "atende:live:presence"
# About a day of a busy team's changes: a tab that was offline longer is told to reload its lists.
EVENTS_MAXLEN = 10_000
PRESENCE_MAXLEN = 1_000
_PENDING_KEY = "atende_pending_live_events"

# The domain events (portal.services.events) that change what an open inbox or thread shows.
PUSHED_EVENTS = (
    "conversation.created",
    "conversation.status_changed",
    "conversation.assigned",
    "conversation.priority_changed",
    "conversation.tags_changed",
    "conversation.team_changed",
    "message.created",
    "message.status_changed",
    "note.created",
    "conversation.snoozed",
    "conversation.snooze_ended",
    "sla.warning",
)
# The record of a note's mentions: heard only by the agents it names (see `audience`).
MENTION = "mention.created"
# A conversation reached the warning share of an SLA target (portal.services.sla.warn_due): heard
# only by the agents the record names (its assignee or team, and the supervisors).
SLA_WARNING = "sla.warning"
# Records heard only by the agents they name: the record's key that names them, and the SSE event.
NAMED_EVENTS = {MENTION: ("mentioned", "mention"), SLA_WARNING: ("recipients", "sla")}
PRESENCE_STATES = ("viewing", "typing", "left")


def on_domain_event(name: str, **data) -> None:
    """Subscriber for PUSHED_EVENTS: remember the change until the session commits."""
    message: Message | None = data.get("message")
    conversation: Conversation | None = data.get("conversation")
    if conversation is None and message is not None:
        conversation = message.conversation
    if conversation is None:
        return
    if conversation.id is None or (message is not None and message.id is None):
        db.session.flush()
    by = data.get("by")
    record: dict[str, object] = {"type": name, "conversation": conversation.id}
    if by is not None:
        record["actor"] = by.id
    if message is not None:
        record["message"] = message.id
        record["direction"] = str(message.direction)
        if name == "message.created" and message.sender_agent_id is not None:
            record["actor"] = message.sender_agent_id
    if name == SLA_WARNING:
        record["target"] = data["target"]
        record["recipients"] = list(data["recipients"])
    if name == "conversation.assigned" and data.get("old_agent_id") is not None:
        # The previous assignee may no longer see the conversation, but their list must drop it.
        record["previous_assignee"] = data["old_agent_id"]
    pending = db.session.info.setdefault(_PENDING_KEY, [])
    pending.append(record)
    if name == "note.created" and data.get("mentioned"):
        pending.append(record | {"type": MENTION, "mentioned": list(data["mentioned"])})


@event.listens_for(Session, "after_commit")
def _append_committed(session: Session) -> None:
    records = session.info.pop(_PENDING_KEY, None)
    if not records:
        return
    try:
        pipe = redis_connection(current_app._get_current_object()).pipeline(transaction=False)
        for record in records:
            pipe.xadd(EVENTS_KEY, {"data": json.dumps(record)}, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.execute()
    except Exception as exc:  # Redis down: the change is committed; open tabs see it on their next event or poll
        log.warning("could not publish %d live event(s): %s", len(records), type(exc).__name__)


@event.listens_for(Session, "after_soft_rollback")
def _drop_uncommitted(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def publish_presence(agent: Agent, conversation: Conversation, state: str) -> None:
    """An agent's tab says it shows (or is typing in, or left) a thread; nothing is stored in the
    database, and the beat is forgotten by the browsers that hear it within seconds."""
    record = {"conversation": conversation.id, "agent": agent.id, "name": agent.name, "state": state}
    redis_connection().xadd(PRESENCE_KEY, {"data": json.dumps(record)}, maxlen=PRESENCE_MAXLEN, approximate=True)


@dataclass(frozen=True)
class LiveEvent:
    """One stream entry: its Redis id (the SSE id) and the decoded record."""

    id: str
    stream: str
    record: dict

    @property
    def conversation_id(self) -> int | None:
        value = self.record.get("conversation")
        return value if isinstance(value, int) else None


def decode_entry(stream: str, entry_id: bytes | str, fields: dict) -> LiveEvent | None:
    raw = fields.get(b"data") or fields.get("data")
    try:
        record = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    return LiveEvent(entry_id.decode() if isinstance(entry_id, bytes) else entry_id, stream, record)


def parse_event_id(raw: str | None) -> tuple[int, int] | None:
    """A Redis stream id "<ms>-<seq>" as a pair, or None for anything else (a forged or broken
    Last-Event-ID is then treated as no id at all)."""
    if not raw or len(raw) > 40:
        return None
    ms, sep, seq = raw.strip().partition("-")
    if not sep or not ms.isdigit() or not seq.isdigit():
        return None
    return int(ms), int(seq)


def audience(event: LiveEvent, agents: list[Agent], conversation: Conversation | None) -> tuple[set[int], set[int]]:
    """Which of these agents hear this event: (those who may see its conversation, by the inbox's
    own scope rule portal.services.conversations.can_see; others who only hear that it changed).
    The others are the previous assignee of an assignment, whose list must drop the row. The author
    of a presence beat does not hear it; a mention and an SLA warning are heard only by the agents
    they name."""
    from portal.services.conversations import can_see

    if conversation is None:
        return set(), set()
    seeing = {agent.id for agent in agents if can_see(agent, conversation)}
    if event.record.get("type") in NAMED_EVENTS:
        named = event.record.get(NAMED_EVENTS[event.record["type"]][0])
        return seeing & set(named if isinstance(named, list) else ()), set()
    others: set[int] = set()
    if event.stream == EVENTS_KEY:
        previous = event.record.get("previous_assignee")
        if previous not in seeing and previous in {agent.id for agent in agents}:
            others.add(previous)
    else:
        seeing.discard(event.record.get("agent"))
    return seeing, others

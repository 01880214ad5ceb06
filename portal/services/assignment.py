"""Auto-assignment per team: who is online, who has room, and the first-come-first-served queue
(docs/architecture.md, "Teams and routing").

- Online: an agent whose browser showed a sign of life in the last ONLINE_SECONDS (the stream
  server notes its connected agents every two seconds; a tab that polls notes itself when it asks
  for the title count). Kept in one Redis sorted set, agent id -> last seen (epoch seconds):
  nothing is written to the database per beat.
- Capacity: an agent receives no more open conversations than `agents.max_open_conversations`.
- A team's waiting conversations (open, unassigned, `queued_at` set) go out oldest first, each to
  an online member with room who may see its inbox: round-robin continues after the member who got
  the previous one (`teams.last_assigned_agent_id`), fewest-open picks the member with the fewest
  open conversations (then the one who waited longest for one, then the lowest id).
- Race safety: assign_waiting() locks the team row (a no-op UPDATE: FOR NO KEY UPDATE on
  PostgreSQL, the write lock on SQLite) and gives each conversation with one conditional UPDATE naming
  `assigned_to IS NULL`, so two workers never assign one conversation twice, nor overfill an agent
  within one team.
- When: as a conversation joins a team queue, as an assignee frees a place (closes, is
  unassigned), when an agent comes online (a job on queue `default`), and every 30 seconds for
  whatever those missed.

Every function that depends on time takes `now`, so tests pin the clock. Callers commit.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import (
    Agent,
    AssignMode,
    Conversation,
    ConversationStatus,
    Team,
    team_members,
    utcnow,
)
from portal.queue import DEFAULT, enqueue_now, redis_connection
from portal.services import audit, conversations, events, inboxes

ONLINE_KEY = "atende:agents:online"
ONLINE_SECONDS = 30
# Conversations one run hands out per team; the next trigger or the timer takes the rest.
BATCH = 200
ASSIGN_JOB = "portal.jobs.assignment.assign_waiting"


def _epoch(at: datetime) -> float:
    return calendar.timegm(at.utctimetuple()) + at.microsecond / 1e6


def note_online(agent_ids: Iterable[int], now: datetime | None = None) -> set[int]:
    """Note a sign of life from these agents; returns those who were not online before (their
    teams' queues should be worked now)."""
    ids = [int(i) for i in agent_ids]
    if not ids:
        return set()
    at = _epoch(now or utcnow())
    redis = redis_connection()
    previous = redis.zmscore(ONLINE_KEY, [str(i) for i in ids])
    redis.zadd(ONLINE_KEY, {str(i): at for i in ids})
    # Members not seen for a day are dropped, so the set stays as small as the team.
    redis.zremrangebyscore(ONLINE_KEY, "-inf", at - 86400)
    return {i for i, seen in zip(ids, previous, strict=True) if seen is None or seen < at - ONLINE_SECONDS}


def note_online_and_assign(agent_ids: Iterable[int], now: datetime | None = None) -> None:
    """note_online, then a job that works the queues when someone just came online."""
    if note_online(agent_ids, now):
        enqueue_now(ASSIGN_JOB, queue=DEFAULT)


def note_offline(agent_id: int) -> None:
    redis_connection().zrem(ONLINE_KEY, str(agent_id))


def online_agent_ids(now: datetime | None = None) -> set[int]:
    at = _epoch(now or utcnow())
    return {int(m) for m in redis_connection().zrangebyscore(ONLINE_KEY, at - ONLINE_SECONDS, "+inf")}


def open_counts(agent_ids: Iterable[int]) -> dict[int, int]:
    """Open conversations per agent (absent: none)."""
    ids = list(agent_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Conversation.assigned_to, func.count())
        .where(Conversation.assigned_to.in_(ids), Conversation.status.in_(ConversationStatus.open_states()))
        .group_by(Conversation.assigned_to)
    )
    return dict(rows.tuples().all())


def enqueue(conversation: Conversation, now: datetime | None = None) -> None:
    """Put an open, unassigned conversation with a team in its team's queue (keeping its place if
    it already had one); take it out otherwise."""
    waiting = conversation.team_id is not None and conversation.assigned_to is None and conversation.is_open
    if not waiting:
        conversation.queued_at = None
    elif conversation.queued_at is None:
        conversation.queued_at = now or utcnow()


def waiting(team: Team, limit: int = BATCH) -> list[Conversation]:
    """The team's queue, first come first served."""
    return list(
        db.session.scalars(
            select(Conversation)
            .where(
                Conversation.team_id == team.id,
                Conversation.assigned_to.is_(None),
                Conversation.queued_at.is_not(None),
                Conversation.status.in_(ConversationStatus.open_states()),
            )
            .order_by(Conversation.queued_at, Conversation.id)
            .limit(limit)
        )
    )


def _lock(team: Team) -> Team | None:
    """Hold the team for this transaction, so that a second worker waits here until this one
    commits and then reads what it gave. A no-op UPDATE rather than SELECT ... FOR UPDATE: on
    PostgreSQL both lock the row, but SQLite has no row locks and ignores FOR UPDATE, while an
    UPDATE takes its database write lock (two workers on SQLite gave more than a capacity). The
    UPDATE names no key column, so PostgreSQL takes FOR NO KEY UPDATE, which does not wait for
    the FOR KEY SHARE lock a worker that routed another conversation to the team holds (the
    foreign-key check): SELECT ... FOR UPDATE did, and two such workers deadlocked
    (docs/benchmarks.md, "1b with auto-rules")."""
    db.session.execute(
        update(Team)
        .where(Team.id == team.id)
        .values(last_assigned_agent_id=Team.last_assigned_agent_id)
        .execution_options(synchronize_session=False)
    )
    return db.session.scalars(select(Team).where(Team.id == team.id).execution_options(populate_existing=True)).first()


def _pick(team: Team, candidates: list[Agent], counts: dict[int, int], last_at: dict[int, int]) -> Agent | None:
    if not candidates:
        return None
    if team.auto_assign == AssignMode.round_robin:
        ordered = sorted(candidates, key=lambda a: a.id)
        after = [a for a in ordered if team.last_assigned_agent_id is not None and a.id > team.last_assigned_agent_id]
        return (after or ordered)[0]
    return min(candidates, key=lambda a: (counts.get(a.id, 0), last_at.get(a.id, 0), a.id))


def assign_waiting(team: Team, now: datetime | None = None) -> list[Conversation]:
    """Give the team's waiting conversations to its online members with room; returns those given."""
    now = now or utcnow()
    if team.auto_assign == AssignMode.off:
        return []
    team = _lock(team)
    if team is None or team.auto_assign == AssignMode.off:
        return []
    online = online_agent_ids(now)
    members = [a for a in team.members if a.active and a.id in online]
    if not members:
        return []
    counts = open_counts(a.id for a in members)
    member_of = inboxes.memberships(a.id for a in members)
    turn: dict[int, int] = {}  # fewest-open tie-break: who got one least recently in this run
    given: list[Conversation] = []
    for step, conversation in enumerate(waiting(team), start=1):
        room = [a for a in members if counts.get(a.id, 0) < a.max_open_conversations]
        if not room:
            break
        agent = _pick(team, [a for a in room if conversations.may_receive(a, conversation, member_of)], counts, turn)
        if agent is None:
            continue
        won = db.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id, Conversation.assigned_to.is_(None))
            .values(assigned_to=agent.id, queued_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            continue
        db.session.refresh(conversation)
        counts[agent.id] = counts.get(agent.id, 0) + 1
        turn[agent.id] = step
        team.last_assigned_agent_id = agent.id
        audit.record("conversation.assigned", target=conversation, old=None, new=agent.id, team=team.id, automatic=True)
        events.emit("conversation.assigned", conversation=conversation, old_agent_id=None, by=None)
        given.append(conversation)
    return given


def assign_all_waiting(now: datetime | None = None) -> int:
    """assign_waiting for every team that assigns automatically; returns how many were given."""
    teams = db.session.scalars(select(Team).where(Team.auto_assign != AssignMode.off).order_by(Team.id))
    return sum(len(assign_waiting(team, now)) for team in list(teams))


def teams_of(agent_id: int) -> list[Team]:
    return list(
        db.session.scalars(
            select(Team).join(team_members, team_members.c.team_id == Team.id).where(team_members.c.agent_id == agent_id)
        )
    )


# Subscribers: every change that adds to a queue or frees a place works the queues at once.


def on_conversation_assigned(_name: str, *, conversation: Conversation, old_agent_id: int | None, **_data) -> None:
    enqueue(conversation)
    if conversation.assigned_to is None and conversation.team is not None:
        assign_waiting(conversation.team)
    if old_agent_id is not None:
        for team in teams_of(old_agent_id):
            assign_waiting(team)


def on_status_changed(_name: str, *, conversation: Conversation, new: ConversationStatus, **_data) -> None:
    enqueue(conversation)
    closed = ConversationStatus(new) in ConversationStatus.closed_states()
    if closed and conversation.assigned_to is not None:
        for team in teams_of(conversation.assigned_to):
            assign_waiting(team)
    elif not closed and conversation.queued_at is not None and conversation.team is not None:
        assign_waiting(conversation.team)


def on_team_changed(_name: str, *, conversation: Conversation, **_data) -> None:
    enqueue(conversation)
    if conversation.queued_at is not None and conversation.team is not None:
        assign_waiting(conversation.team)


def on_team_changed_settings(_name: str, *, team: Team | None) -> None:
    """A team's mode or members, or an agent's capacity, changed: someone may have room now."""
    if team is None:
        assign_all_waiting()
    else:
        assign_waiting(team)


def give(conversation: Conversation, agent: Agent) -> bool:
    """Assign by the system (an auto-rule): no actor, no capacity check, the agent must be able to
    receive it (the caller checks conversations.may_receive)."""
    if conversation.assigned_to == agent.id:
        return False
    old_id = conversation.assigned_to
    conversation.assigned_to = agent.id
    conversation.queued_at = None
    audit.record("conversation.assigned", target=conversation, old=old_id, new=agent.id, automatic=True)
    events.emit("conversation.assigned", conversation=conversation, old_agent_id=old_id, by=None)
    return True

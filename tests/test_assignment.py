"""Auto-assignment per team (issue 19, item 3) with a pinned clock and presence noted in the real
Redis: round-robin order, fewest open, capacity, first come first served, an agent going offline
or coming online, and two workers racing on one queue."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from portal.extensions import db as _db
from portal.models import AssignMode, Conversation, ConversationStatus, Role, Team, utcnow
from portal.queue import DEFAULT, get_queue
from portal.services import assignment, conversations, teams
from tests import factories


@pytest.fixture(autouse=True)
def _now():
    """The pinned clock of each test: taken as it starts, so the paths that read the real clock
    (a subscriber working the queue) see the same agents online."""
    global NOW
    NOW = utcnow().replace(microsecond=0)


def _team(db, mode: AssignMode, members, name="Suporte") -> Team:
    team = Team(name=name, auto_assign=mode, members=list(members))
    db.session.add(team)
    db.session.flush()
    return team


def _waiting(db, team: Team, count: int, start=None) -> list[Conversation]:
    """`count` unassigned conversations queued in the team, the first one oldest."""
    start = start or NOW - timedelta(hours=1)
    rows = []
    for i in range(count):
        conversation = factories.conversation(team_id=team.id, queued_at=start + timedelta(minutes=i))
        rows.append(conversation)
    db.session.flush()
    return rows


def _assignees(rows) -> list[int | None]:
    for row in rows:
        _db.session.refresh(row)
    return [row.assigned_to for row in rows]


def test_round_robin_gives_each_online_member_a_turn_in_order_and_continues_where_it_left(db):
    ana, bruno, carla = (factories.agent(name=n) for n in ("Ana", "Bruno", "Carla"))
    team = _team(db, AssignMode.round_robin, [ana, bruno, carla])
    first = _waiting(db, team, 4)
    assignment.note_online([ana.id, bruno.id, carla.id], NOW)

    assignment.assign_waiting(team, NOW)
    db.session.commit()
    assert _assignees(first) == [ana.id, bruno.id, carla.id, ana.id]

    later = _waiting(db, team, 2, start=NOW)
    assignment.assign_waiting(team, NOW)
    db.session.commit()
    assert _assignees(later) == [bruno.id, carla.id]


def test_fewest_open_picks_the_member_with_the_fewest_open_conversations(db):
    busy, idle = factories.agent(name="Busy"), factories.agent(name="Idle")
    for _ in range(3):
        factories.conversation(assigned_to=busy.id)
    factories.conversation(assigned_to=idle.id)
    factories.conversation(assigned_to=idle.id, status=ConversationStatus.closed)  # closed ones do not count
    team = _team(db, AssignMode.fewest_open, [busy, idle])
    rows = _waiting(db, team, 3)
    assignment.note_online([busy.id, idle.id], NOW)

    assignment.assign_waiting(team, NOW)
    db.session.commit()
    # Idle has 1 open: gets the first two (1 -> 2 -> 3); then both have 3 and Busy waited longer.
    assert _assignees(rows) == [idle.id, idle.id, busy.id]


def test_capacity_stops_assignment_and_the_rest_wait_first_come_first_served(db):
    agent = factories.agent(max_open_conversations=2)
    factories.conversation(assigned_to=agent.id)
    team = _team(db, AssignMode.round_robin, [agent])
    newer = _waiting(db, team, 1, start=NOW - timedelta(minutes=5))[0]
    older = _waiting(db, team, 1, start=NOW - timedelta(minutes=30))[0]
    assignment.note_online([agent.id], NOW)

    given = assignment.assign_waiting(team, NOW)
    db.session.commit()
    assert [c.id for c in given] == [older.id]
    assert _assignees([older, newer]) == [agent.id, None]
    assert newer.queued_at is not None

    # Closing one frees a place: the waiting conversation is assigned in the same transaction.
    conversations.change_status(older, ConversationStatus.closed, by=agent)
    db.session.commit()
    assert _assignees([newer]) == [agent.id]
    assert newer.queued_at is None


def test_offline_members_get_nothing_until_they_come_online(db, app):
    online, offline = factories.agent(name="Online"), factories.agent(name="Offline")
    team = _team(db, AssignMode.round_robin, [online, offline])
    assignment.note_online([online.id, offline.id], NOW - timedelta(seconds=assignment.ONLINE_SECONDS + 1))
    assignment.note_online([online.id], NOW)
    rows = _waiting(db, team, 2)

    assignment.assign_waiting(team, NOW)
    db.session.commit()
    assert _assignees(rows) == [online.id, online.id]

    assignment.note_offline(online.id)
    more = _waiting(db, team, 1, start=NOW)
    assert assignment.assign_waiting(team, NOW) == []
    db.session.commit()
    assert _assignees(more) == [None]

    # Coming online queues the assignment job; running it assigns the waiting conversation.
    queue = get_queue(DEFAULT)
    queue.empty()
    assert assignment.note_online([offline.id], NOW) == {offline.id}
    assert assignment.note_online([offline.id], NOW + timedelta(seconds=2)) == set()  # still online: no news
    assignment.note_online_and_assign([offline.id], NOW + timedelta(seconds=assignment.ONLINE_SECONDS + 5))
    assert [job.func_name for job in queue.jobs] == [assignment.ASSIGN_JOB]


def test_off_and_inactive_and_non_member_agents_are_never_chosen(db):
    inactive = factories.agent(name="Gone")
    elsewhere = factories.agent(name="Elsewhere", inboxes=[factories.inbox()])
    member = factories.agent(name="Member")
    team = _team(db, AssignMode.round_robin, [inactive, elsewhere, member])
    inactive.active = False
    rows = _waiting(db, team, 2)
    assignment.note_online([inactive.id, elsewhere.id, member.id], NOW)

    assignment.assign_waiting(team, NOW)
    db.session.commit()
    assert _assignees(rows) == [member.id, member.id]

    team.auto_assign = AssignMode.off
    idle = _waiting(db, team, 1, start=NOW)
    assert assignment.assign_waiting(team, NOW) == []
    assert _assignees(idle) == [None]


def test_routing_a_conversation_to_a_team_queues_and_assigns_it_at_once(db):
    supervisor = factories.agent(role=Role.supervisor)
    agent = factories.agent()
    team = _team(db, AssignMode.fewest_open, [agent])
    conversation = factories.conversation()
    assignment.note_online([agent.id])
    db.session.commit()

    teams.set_team(conversation, team, by=supervisor)
    db.session.commit()
    assert conversation.assigned_to == agent.id and conversation.queued_at is None

    # Released by its agent, it goes back to the queue and, with nobody else online, waits.
    assignment.note_offline(agent.id)
    conversations.assign(conversation, None, by=agent)
    db.session.commit()
    assert conversation.assigned_to is None and conversation.queued_at is not None


def test_assigning_does_not_wait_for_a_worker_that_routed_another_conversation_to_the_team(app, db, database_url):
    """Another worker has routed a conversation to the team and not committed yet, so PostgreSQL
    holds a FOR KEY SHARE lock on the team row for that foreign key. Locking the team to assign must
    not wait for it: two workers, each routing one and then waiting for the other, deadlocked in
    bench.inbound_rules (docs/benchmarks.md). The lock timeout turns a wait into an error."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row and foreign-key locks need PostgreSQL (SQLite serializes writers)")
    agent = factories.agent()
    team = _team(db, AssignMode.round_robin, [agent])
    theirs, ours = factories.conversation(), factories.conversation()
    assignment.note_online([agent.id])
    db.session.commit()

    with _db.engine.connect() as other_worker:
        other_worker.execute(update(Conversation).where(Conversation.id == theirs.id).values(team_id=team.id))
        db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
        teams.set_team(ours, team, by=None)
        db.session.commit()
        other_worker.rollback()
    assert ours.assigned_to == agent.id


def test_two_workers_racing_assign_each_conversation_exactly_once(app, db, database_url):
    """Two sessions (two worker connections) run the assignment job at the same instant on the
    same queue. The team lock serializes them (a row lock on PostgreSQL, the write lock on SQLite)
    and the conditional UPDATE makes a lost race harmless; every conversation ends with exactly
    one assignee, and nobody exceeds their capacity."""
    agents = [factories.agent(name=f"Agente {i}", max_open_conversations=7) for i in range(3)]
    team = _team(db, AssignMode.round_robin, agents)
    rows = _waiting(db, team, 30)
    assignment.note_online([a.id for a in agents])
    db.session.commit()
    from portal.jobs.assignment import assign_waiting

    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                results.append(assign_waiting())
                _db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sum(results) == 21  # 3 agents x capacity 7: each given once, by one worker or the other
    db.session.expire_all()
    assigned = [c for c in _assignees(rows) if c is not None]
    assert len(assigned) == 21
    per_agent = dict(
        db.session.execute(
            select(Conversation.assigned_to, func.count()).where(Conversation.assigned_to.is_not(None)).group_by(
                Conversation.assigned_to
            )
        ).all()
    )
    assert per_agent == {a.id: 7 for a in agents}
    audits = db.session.execute(select(func.count()).select_from(_db.metadata.tables["audit_log"])).scalar()
    assert audits == 21  # one "assigned" row per conversation: nobody assigned one twice

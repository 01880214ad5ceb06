"""SLA warnings (issue 19, part f): at a share of a target (80 % unless set) the warning job warns
once per conversation and target, on the live stream, the assignee (or the team while nobody has
it) and the supervisors; the inbox row and the board card show the badge and the board card the
timer. The job takes `now`, so the clock is held without patching."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from portal.jobs.schedule import SCHEDULE
from portal.jobs.sla import warn_sla
from portal.models import Direction, Priority, Role, SlaMetric, SlaTarget, Team, utcnow
from portal.queue import redis_connection
from portal.services import settings, sla
from portal.services.live import EVENTS_KEY, SLA_WARNING, LiveEvent, audience
from tests import factories


def _warnings(app) -> list[dict]:
    records = [json.loads(fields[b"data"]) for _id, fields in redis_connection(app).xrange(EVENTS_KEY)]
    return [r for r in records if r["type"] == SLA_WARNING]


def _metric(db, conversation) -> SlaMetric:
    db.session.expire_all()
    return db.session.scalar(select(SlaMetric).where(SlaMetric.conversation_id == conversation.id))


def test_the_first_response_warning_goes_out_once_at_80_percent_to_the_assignee_and_supervisors(app, db):
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    ana = factories.agent(name="Ana")
    boss = factories.agent(name="Chefe", role=Role.supervisor)
    admin = factories.agent(name="Admin", role=Role.admin)
    factories.agent(name="Outra")  # neither assignee nor supervisor
    urgent = factories.conversation(priority=Priority.urgent, started_at=start, assigned_to=ana.id)  # 15 min
    db.session.commit()

    assert warn_sla(now=start + timedelta(minutes=11, seconds=59)) == 0
    assert _warnings(app) == []
    assert warn_sla(now=start + timedelta(minutes=12)) == 1
    assert _warnings(app) == [
        {
            "type": SLA_WARNING,
            "conversation": urgent.id,
            "target": "first_response",
            "recipients": sorted([ana.id, boss.id, admin.id]),
        }
    ]
    assert _metric(db, urgent).first_response_warned_at == start + timedelta(minutes=12)
    # Exactly once, however often the job runs.
    assert warn_sla(now=start + timedelta(minutes=13)) == 0
    assert warn_sla(now=start + timedelta(minutes=14)) == 0
    assert len(_warnings(app)) == 1


def test_unassigned_conversations_warn_their_team_and_the_stream_tells_only_those_named(app, db):
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    member, outsider = factories.agent(name="Membro"), factories.agent(name="Fora")
    boss = factories.agent(role=Role.supervisor)
    team = Team(name="Suporte", members=[member])
    db.session.add(team)
    db.session.flush()
    conversation = factories.conversation(priority=Priority.high, started_at=start, team_id=team.id)  # 1 h
    db.session.commit()

    assert warn_sla(now=start + timedelta(minutes=48)) == 1
    [record] = _warnings(app)
    assert record["recipients"] == sorted([member.id, boss.id])
    # The outsider may see the unassigned conversation (same inbox) but is not warned.
    heard, others = audience(LiveEvent("1-0", EVENTS_KEY, record), [member, outsider, boss], conversation)
    assert heard == {member.id, boss.id} and others == set()


def test_the_share_is_a_setting_and_the_resolution_target_warns_apart(app, db):
    start = utcnow().replace(microsecond=0) - timedelta(hours=3)
    settings.put("sla_warning_percent", 50)
    db.session.add(SlaTarget(priority=Priority.normal, first_response_sec=3600, resolution_sec=2 * 3600))
    agent = factories.agent()
    conversation = factories.conversation(started_at=start, assigned_to=agent.id)
    factories.message(
        conversation, Direction.outbound, sender_agent_id=agent.id, sent_at=start + timedelta(minutes=5)
    )
    sla.refresh_first_response(conversation)  # answered after 5 minutes
    db.session.commit()

    assert warn_sla(now=start + timedelta(minutes=59)) == 0  # answered: no first-response warning
    assert warn_sla(now=start + timedelta(minutes=60)) == 1  # half of the 2 h resolution target
    assert [w["target"] for w in _warnings(app)] == ["resolution"]
    assert warn_sla(now=start + timedelta(minutes=90)) == 0


def test_a_conversation_already_past_its_target_is_marked_without_a_warning(app, db):
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    conversation = factories.conversation(priority=Priority.urgent, started_at=start)
    db.session.commit()
    assert warn_sla(now=start + timedelta(minutes=20)) == 0
    assert _warnings(app) == []
    assert _metric(db, conversation).first_response_warned_at is not None  # its breach tells instead


def test_the_warning_job_runs_every_minute():
    assert any(item.func == "portal.jobs.sla.warn_sla" and item.every_seconds == 60 for item in SCHEDULE)


def test_clocks_count_down_and_say_when_the_target_is_over(db):
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    conversation = factories.conversation(priority=Priority.urgent, started_at=start)
    closed = factories.conversation(priority=Priority.urgent, started_at=start, status="closed")
    db.session.commit()
    clocks = sla.clocks([conversation, closed], now=start + timedelta(minutes=3))
    assert list(clocks) == [conversation.id]
    clock = clocks[conversation.id]
    assert (clock.target, clock.left_sec, clock.overdue, clock.warned) == (
        "first_response",
        720,
        False,
        False,
    )
    assert clock.text() == "12m left"
    late = sla.clocks([conversation], now=start + timedelta(minutes=20))[conversation.id]
    assert late.overdue and late.text() == "overdue by 5m"


def test_the_inbox_row_and_the_board_card_show_the_badge_and_the_timer(app, db, client, login_as):
    boss = login_as(Role.supervisor)
    now = utcnow().replace(microsecond=0)
    warned = factories.conversation(
        factories.contact(name="Cliente Aflito"),
        priority=Priority.urgent,
        started_at=now - timedelta(minutes=13),
        assigned_to=boss.id,
    )
    calm = factories.conversation(
        factories.contact(name="Cliente Calmo"), priority=Priority.low, started_at=now
    )
    db.session.commit()
    assert warn_sla(now=now) == 1

    inbox = client.get("/inbox?assignee=all").get_data(as_text=True)
    row_warned = inbox.split(f'data-conversation-id="{warned.id}"')[1].split("</li>")[0]
    row_calm = inbox.split(f'data-conversation-id="{calm.id}"')[1].split("</li>")[0]
    assert "data-sla-badge" in row_warned and "sla-at-risk" in row_warned and "left" in row_warned
    assert "data-sla-badge" not in row_calm

    board = client.get("/board").get_data(as_text=True)
    card_warned = board.split(f'id="card-{warned.id}"')[1].split("</li>")[0]
    card_calm = board.split(f'id="card-{calm.id}"')[1].split("</li>")[0]
    assert "data-sla-timer" in card_warned and "data-sla-badge" in card_warned
    assert "data-sla-timer" in card_calm and "data-sla-badge" not in card_calm
    assert "23h 59m left" in card_calm or "24h 00m left" in card_calm or "1d 0h left" in card_calm


def test_the_warning_share_is_saved_on_the_sla_page(db, client, login_as):
    login_as(Role.supervisor)
    page = client.get("/sla").get_data(as_text=True)
    assert 'name="warning_percent"' in page and 'value="80"' in page

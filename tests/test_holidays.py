"""Business hours with holidays and per team, and the out-of-hours cool-down (issue 19, item 4).

São Paulo is UTC-3 all year. 2026-12-25 (Christmas) and 2027-01-01 (New Year) are Fridays and
national holidays; 2026-01-25 (the city's anniversary) is a Sunday, so custom dates below use a
weekday."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.models import (
    AutoRule,
    AutoRuleFiring,
    Direction,
    IncidentKind,
    Message,
    MessageTemplate,
    Priority,
    Role,
    SlaTarget,
    Team,
)
from portal.services import events, settings, sla, teams
from portal.services.business_time import business_seconds, is_open
from portal.services.settings import BusinessHours, Holidays
from tests import factories

SP = "America/Sao_Paulo"
WEEKDAYS = {d: (time(8), time(18)) for d in range(5)}


def sp(*args) -> datetime:
    """A São Paulo wall-clock time as naive UTC."""
    return datetime(*args) + timedelta(hours=3)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (sp(2026, 12, 24, 17, 0), sp(2026, 12, 28, 9, 0)),  # Christmas Friday, then the weekend
        (sp(2026, 12, 31, 17, 0), sp(2027, 1, 4, 9, 0)),  # New Year's Day Friday, then the weekend
    ],
)
def test_national_holidays_do_not_count(start, end):
    with_holidays = BusinessHours(WEEKDAYS, Holidays(state="SP"))
    assert business_seconds(start, end, with_holidays, SP) == 2 * 3600  # 17-18 before, 8-9 after
    assert business_seconds(start, end, BusinessHours(WEEKDAYS), SP) == 12 * 3600  # the Friday counted
    assert not is_open(sp(2026, 12, 25, 10, 0), with_holidays, SP)
    assert not is_open(sp(2027, 1, 1, 10, 0), with_holidays, SP)


def test_state_holidays_custom_dates_and_national_off():
    constitutionalist = sp(2026, 7, 9, 10, 0)  # a São Paulo state holiday, a Thursday
    assert not is_open(constitutionalist, BusinessHours(WEEKDAYS, Holidays(state="SP")), SP)
    assert is_open(constitutionalist, BusinessHours(WEEKDAYS, Holidays(state="RJ")), SP)
    company_day = sp(2026, 12, 7, 10, 0)  # a Monday
    assert not is_open(company_day, BusinessHours(WEEKDAYS, Holidays(custom=frozenset({date(2026, 12, 7)}))), SP)
    assert is_open(sp(2026, 12, 25, 10, 0), BusinessHours(WEEKDAYS, Holidays(national=False)), SP)
    assert Holidays.from_json(Holidays(True, "SP", frozenset({date(2026, 12, 7)})).to_json()) == Holidays(
        True, "SP", frozenset({date(2026, 12, 7)})
    )


def test_a_message_on_christmas_in_sao_paulo_does_not_count_toward_the_sla(db):
    settings.put("business_hours", BusinessHours(WEEKDAYS).to_json())
    settings.put("holidays", Holidays(state="SP").to_json())
    settings.put("time_zone", SP)
    db.session.add(SlaTarget(priority=Priority.normal, first_response_sec=4 * 3600))
    written_on_christmas = factories.conversation(started_at=sp(2026, 12, 25, 9, 0))
    db.session.commit()

    # Monday 11:00 is 3 business hours after Christmas morning: within the 4-hour target.
    assert sla.find_breaches(sp(2026, 12, 28, 11, 0)) == []
    # Without the holiday the Friday's 9 hours would have breached it long before.
    settings.put("holidays", Holidays(national=False).to_json())
    assert [b.conversation_id for b in sla.find_breaches(sp(2026, 12, 28, 11, 0))] == [written_on_christmas.id]


def test_a_team_keeps_its_own_hours_and_holidays_for_the_sla(db):
    settings.put("business_hours", BusinessHours(WEEKDAYS).to_json())
    settings.put("time_zone", SP)
    db.session.add(SlaTarget(priority=Priority.normal, first_response_sec=2 * 3600))
    plantao = Team(name="Plantão")
    db.session.add(plantao)
    db.session.flush()
    always = BusinessHours({d: (time(0), time(23, 59)) for d in range(7)})
    supervisor = factories.agent()
    teams.save_hours(plantao, always, Holidays(national=False), by=supervisor)
    on_call = factories.conversation(team_id=plantao.id, started_at=sp(2026, 12, 26, 9, 0))  # a Saturday
    office = factories.conversation(started_at=sp(2026, 12, 26, 9, 0))
    db.session.commit()

    breached = sla.check_breaches(sp(2026, 12, 26, 12, 0))
    assert [i.conversation_id for i in breached] == [on_call.id]
    assert breached[0].kind == IncidentKind.sla_breach and office.id not in [i.conversation_id for i in breached]


def _out_of_hours_rule(db) -> AutoRule:
    template = MessageTemplate(template_key="fora_do_horario", body="Estamos fechados, {{1}}.")
    rule = AutoRule(trigger_key="outside_business_hours", template=template)
    db.session.add(rule)
    db.session.flush()
    return rule


def _receive(conversation, at):
    message = factories.message(conversation, Direction.inbound, body="oi", sent_at=at)
    conversation.last_inbound_at = conversation.last_message_at = at
    events.emit("message.created", message=message)


def _replies(db) -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.is_automatic.is_(True)).order_by(Message.id)))


def test_out_of_hours_reply_at_most_once_per_cooldown_per_contact(db):
    settings.put("business_hours", BusinessHours(WEEKDAYS).to_json())
    settings.put("time_zone", SP)
    rule = _out_of_hours_rule(db)
    contact = factories.contact()
    first = factories.conversation(contact)
    other_inbox = factories.conversation(contact, inbox=factories.inbox())
    db.session.commit()

    _receive(first, sp(2026, 12, 1, 22, 0))  # Tuesday night: replied
    _receive(first, sp(2026, 12, 1, 23, 0))  # an hour later: not again
    _receive(other_inbox, sp(2026, 12, 2, 6, 0))  # 8 hours later, another conversation: not again
    db.session.commit()
    assert [m.conversation_id for m in _replies(db)] == [first.id]

    _receive(first, sp(2026, 12, 2, 7, 30))  # 9.5 hours: still inside the 12-hour cool-down
    _receive(first, sp(2026, 12, 2, 10, 0))  # open: no reply
    _receive(first, sp(2026, 12, 2, 22, 30))  # 24.5 hours after the first: replied again, same conversation
    db.session.commit()
    assert [m.conversation_id for m in _replies(db)] == [first.id, first.id]
    firing = db.session.scalars(select(AutoRuleFiring).where(AutoRuleFiring.rule_id == rule.id)).one()
    assert firing.fire_count == 2

    settings.put("out_of_hours_cooldown_hours", 1)
    _receive(other_inbox, sp(2026, 12, 2, 23, 45))  # 75 minutes later with a 1-hour cool-down
    db.session.commit()
    assert [m.conversation_id for m in _replies(db)] == [first.id, first.id, other_inbox.id]


def test_sla_page_saves_holidays_and_the_cooldown_and_names_every_bad_date(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    page = client.get("/sla").get_data(as_text=True)
    assert "national holidays are closed" in page and 'value="12"' in page
    data = {
        f"targets-{i}-first_response_min": str(m) for i, m in enumerate((15, 60, 240, 1440))
    } | {"time_zone": SP, "holidays-national": "y", "holidays-state": "SP", "out_of_hours_cooldown": "6"}
    bad = client.post("/sla", data=data | {"holidays-custom": "25/01/2026\namanhã\n31/02/2026"})
    assert bad.status_code == 200 and "Not dates: amanhã, 31/02/2026." in bad.get_data(as_text=True)

    assert client.post("/sla", data=data | {"holidays-custom": "25/01/2026, 2026-03-19"}).status_code == 302
    assert settings.holidays() == Holidays(True, "SP", frozenset({date(2026, 1, 25), date(2026, 3, 19)}))
    assert settings.out_of_hours_cooldown_hours() == 6


def test_team_hours_page_keeps_own_hours_or_falls_back(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    team = Team(name="Plantão")
    db.session.add(team)
    db.session.commit()
    assert "Business hours of Plantão" in client.get(f"/teams/{team.id}/hours").get_data(as_text=True)

    refused = client.post(f"/teams/{team.id}/hours", data={"own_hours": "y"})
    assert "Open at least one weekday" in refused.get_data(as_text=True)
    closed_week = {f"days-{d}-{end}": "" for d in range(7) for end in ("opens", "closes")}
    saturday = closed_week | {
        "own_hours": "y", "days-5-opens": "09:00", "days-5-closes": "13:00", "holidays-custom": "26/12/2026"
    }
    assert client.post(f"/teams/{team.id}/hours", data=saturday).status_code == 302
    hours = teams.own_hours(db.session.get(Team, team.id))
    assert hours.days == {5: (time(9), time(13))} and hours.holidays.custom == frozenset({date(2026, 12, 26)})
    assert not hours.holidays.national  # the box was left unticked

    assert client.post(f"/teams/{team.id}/hours", data=closed_week).status_code == 302
    assert teams.own_hours(db.session.get(Team, team.id)) is None

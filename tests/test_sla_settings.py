"""The supervisor's SLA form: per-priority targets, business hours per weekday and time zone."""

from datetime import time

from sqlalchemy import select

from portal.models import AuditLog, Priority, Role, SlaTarget
from portal.services import settings

PRIORITY_ORDER = (Priority.urgent, Priority.high, Priority.normal, Priority.low)


def form_data(**overrides):
    data = {
        "targets-0-first_response_min": "10",
        "targets-0-resolution_min": "120",
        "targets-1-first_response_min": "60",
        "targets-1-resolution_min": "",
        "targets-2-first_response_min": "240",
        "targets-2-resolution_min": "",
        "targets-3-first_response_min": "1440",
        "targets-3-resolution_min": "",
        "business_hours_on": "y",
        "time_zone": "America/Sao_Paulo",
    }
    for day in range(7):
        data[f"days-{day}-opens"] = "08:00" if day < 5 else ""
        data[f"days-{day}-closes"] = "18:00" if day < 5 else ""
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_shows_the_default_targets(client, login_as):
    login_as(Role.supervisor, locale="en")
    page = client.get("/sla").get_data(as_text=True)
    for minutes in (15, 60, 240, 1440):
        assert f'value="{minutes}"' in page
    assert "Business hours are off" in page


def test_a_supervisor_saves_targets_hours_and_time_zone(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    response = client.post("/sla", data=form_data(time_zone="America/Manaus"))
    assert response.status_code == 302

    stored = {
        t.priority: (t.first_response_sec, t.resolution_sec) for t in db.session.scalars(select(SlaTarget))
    }
    assert stored == {
        Priority.urgent: (600, 7200),
        Priority.high: (3600, None),
        Priority.normal: (14400, None),
        Priority.low: (86400, None),
    }
    hours = settings.business_hours()
    assert hours.days == {d: (time(8), time(18)) for d in range(5)}
    assert settings.time_zone() == "America/Manaus"
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"sla.targets_changed", "settings.changed"} <= actions

    page = client.get("/sla").get_data(as_text=True)
    assert 'value="10"' in page and 'value="120"' in page and 'value="08:00"' in page
    assert "Business hours are off" not in page


def test_turning_business_hours_off_stores_none(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    client.post("/sla", data=form_data())
    client.post("/sla", data=form_data(business_hours_on=None))
    assert settings.business_hours() is None


def test_invalid_input_rerenders_with_errors_beside_the_fields(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    bad = form_data(
        **{
            "targets-0-first_response_min": "",
            "targets-1-resolution_min": "30",
            "days-0-closes": "07:00",
            "days-1-closes": "",
        }
    )
    response = client.post("/sla", data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This field is required." in page
    assert "cannot be shorter than the first response target" in page
    assert "Closing time must be after opening time." in page
    assert "Give both times, or leave both empty" in page
    assert db.session.scalars(select(SlaTarget)).first() is None


def test_business_hours_need_an_open_day(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    closed_week = form_data(**{f"days-{d}-{edge}": "" for d in range(7) for edge in ("opens", "closes")})
    response = client.post("/sla", data=closed_week)
    assert response.status_code == 200
    assert "Open at least one weekday" in response.get_data(as_text=True)
    assert settings.business_hours() is None


def test_agents_cannot_open_the_sla_settings(client, login_as):
    login_as(Role.agent)
    assert client.get("/sla").status_code == 403
    assert client.post("/sla", data=form_data()).status_code == 403

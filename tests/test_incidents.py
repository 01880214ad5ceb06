"""Incidents: opened by supervisors from a conversation, notes edited and audited, listed with
filters, and automatic ones saying which target was missed."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditLog, Incident, IncidentKind, IncidentStatus, Priority, Role, Severity
from portal.services import incidents, sla
from portal.services.incidents import PAGE_SIZE
from tests import factories


def test_a_supervisor_opens_an_incident_from_a_conversation(client, login_as, db):
    supervisor = login_as(Role.supervisor, locale="en")
    conversation = factories.conversation()
    db.session.commit()

    form = client.get(f"/incidents/new?conversation_id={conversation.id}").get_data(as_text=True)
    assert f'value="{conversation.id}"' in form

    response = client.post(
        "/incidents/new",
        data={"conversation_id": conversation.id, "severity": "high", "notes": "Cliente ameaçou cancelar"},
    )
    assert response.status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert (incident.kind, incident.severity, incident.created_by_id) == (
        IncidentKind.manual,
        Severity.high,
        supervisor.id,
    )
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "incident.created")).one()
    assert (audit.actor_id, audit.target_id) == (supervisor.id, str(incident.id))

    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/conversations/{conversation.id}"' in detail
    assert "Cliente ameaçou cancelar" in detail


def test_creation_errors_are_shown_beside_the_fields(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    response = client.post("/incidents/new", data={"conversation_id": "999", "severity": "high", "notes": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is no conversation with this number." in page
    assert "This field is required." in page
    assert db.session.scalars(select(Incident)).first() is None


def test_notes_are_editable_and_the_edit_is_audited_without_the_text(client, login_as, db):
    supervisor = login_as(Role.supervisor, locale="en")
    incident = incidents.create_manual(factories.conversation(), Severity.low, "first", by=supervisor)
    db.session.commit()

    response = client.post(f"/incidents/{incident.id}", data={"notes": "Cliente pediu retorno às 15h"})
    assert response.status_code == 302
    db.session.refresh(incident)
    assert incident.notes == "Cliente pediu retorno às 15h"
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "incident.updated")).one()
    assert audit.details == {"fields": ["notes"]} and audit.actor_id == supervisor.id

    empty = client.post(f"/incidents/{incident.id}", data={"notes": " "})
    assert empty.status_code == 200 and "This field is required." in empty.get_data(as_text=True)


def test_the_list_filters_by_severity_kind_conversation_and_date(client, login_as, db):
    supervisor = login_as(Role.supervisor, locale="en")
    first, second = factories.conversation(), factories.conversation()
    old = incidents.create_manual(first, Severity.low, "old and low", by=supervisor)
    old.created_at = datetime(2026, 10, 1, 15, 0)
    incidents.create_manual(second, Severity.critical, "critical one", by=supervisor)
    incidents.open_sla_breach(
        second, Severity.medium, "First response target missed (normal priority, target 4h 00m)"
    )
    db.session.commit()

    def listed(query):
        return client.get(f"/incidents?{query}").get_data(as_text=True)

    assert all(note in listed("") for note in ("old and low", "critical one", "First response target missed"))
    page = listed("severity=critical")
    assert "critical one" in page and "old and low" not in page
    page = listed("kind=sla_breach")
    assert "First response target missed" in page and "critical one" not in page
    page = listed(f"conversation_id={first.id}")
    assert "old and low" in page and "critical one" not in page
    page = listed("created_from=2026-10-01&created_to=2026-10-01")
    assert "old and low" in page and "critical one" not in page
    page = listed("created_from=2026-10-02&created_to=2026-10-01")
    assert "The end date is before the start date." in page


def test_filtering_with_htmx_answers_only_the_list(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    response = client.get("/incidents?severity=high", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page and "No incidents match" in page


def test_long_lists_continue_on_an_older_page(client, login_as, db):
    supervisor = login_as(Role.supervisor, locale="en")
    conversation = factories.conversation()
    made = [
        incidents.create_manual(conversation, Severity.low, f"note {i}", by=supervisor)
        for i in range(PAGE_SIZE + 1)
    ]
    db.session.commit()
    page = client.get("/incidents?severity=low").get_data(as_text=True)
    assert f'/incidents/{made[-1].id}"' in page and f'/incidents/{made[0].id}"' not in page
    older = f"/incidents?before={made[1].id}&amp;severity=low"
    assert older in page
    page = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert f'/incidents/{made[0].id}"' in page


def test_an_automatic_incident_says_which_target_was_missed(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    start = datetime(2026, 11, 24, 12, 0)
    factories.conversation(priority=Priority.high, started_at=start)
    db.session.commit()
    (incident,) = sla.check_breaches(start + timedelta(hours=1, minutes=30))
    db.session.commit()
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "SLA breach" in page and "automatically" in page
    assert "First response target missed (high priority, target 1h 00m)" in page
    assert "30m over the target" in page


def test_agents_cannot_see_incidents(client, login_as):
    login_as(Role.agent)
    assert client.get("/incidents").status_code == 403
    assert client.get("/incidents/new").status_code == 403


def test_an_incident_gets_an_owner_and_is_resolved_then_reopened(client, login_as, db):
    supervisor = login_as(Role.supervisor, locale="en")
    owner = factories.agent(Role.admin, name="Olga Dona")
    incident = incidents.create_manual(factories.conversation(), Severity.high, "x", by=supervisor)
    db.session.commit()
    assert incident.status == IncidentStatus.open and incident.owner_id is None

    response = client.post(f"/incidents/{incident.id}/handling", data={"owner": owner.id, "status": "resolved"})
    assert response.status_code == 302
    db.session.refresh(incident)
    assert (incident.owner_id, incident.status) == (owner.id, IncidentStatus.resolved)
    assert incident.resolved_at is not None
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "incident.updated")).one()
    assert entry.details == {"fields": ["owner", "status"], "status": "resolved"} and entry.actor_id == supervisor.id
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Olga Dona" in page and "Resolved" in page

    client.post(f"/incidents/{incident.id}/handling", data={"owner": "", "status": "open"})
    db.session.refresh(incident)
    assert (incident.owner_id, incident.status, incident.resolved_at) == (None, IncidentStatus.open, None)


def test_only_a_supervisor_or_admin_can_own_an_incident(client, login_as, db):
    supervisor = login_as(Role.supervisor, locale="en")
    agent = factories.agent(Role.agent)
    incident = incidents.create_manual(factories.conversation(), Severity.low, "x", by=supervisor)
    db.session.commit()
    response = client.post(f"/incidents/{incident.id}/handling", data={"owner": agent.id, "status": "open"})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    with pytest.raises(incidents.IncidentError):
        incidents.update_handling(incident, owner=agent, status=IncidentStatus.open, by=supervisor)
    db.session.refresh(incident)
    assert incident.owner_id is None


def test_the_list_shows_the_customer_owner_and_state_and_filters_by_them(client, login_as, db):
    supervisor = login_as(Role.supervisor, locale="en")
    ana = factories.conversation(factories.contact(name="Ana Cliente"))
    bruno = factories.conversation(factories.contact(name="Bruno Cliente"))
    open_one = incidents.create_manual(ana, Severity.low, "a", by=supervisor)
    done = incidents.create_manual(bruno, Severity.low, "b", by=supervisor)
    incidents.update_handling(done, owner=supervisor, status=IncidentStatus.resolved, by=supervisor)
    db.session.commit()

    def listed(query: str = "") -> set[int]:
        html = client.get(f"/incidents?{query}").get_data(as_text=True)
        return {int(n) for n in re.findall(r'href="/incidents/(\d+)"', html)}

    html = client.get("/incidents").get_data(as_text=True)
    assert "Ana Cliente" in html and "Bruno Cliente" in html and supervisor.name in html
    assert ">Open<" in html and ">Resolved<" in html
    assert listed("status=open") == {open_one.id}
    assert listed("status=resolved") == {done.id}
    assert listed(f"owner={supervisor.id}") == {done.id}

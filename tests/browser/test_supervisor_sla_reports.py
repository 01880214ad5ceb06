"""SLA settings, incidents and reports in a real browser: the CSP allows everything they need
(inline SVG, no inline script), and HTMX filters update the page and its URL."""

from datetime import UTC, datetime, timedelta

from portal.models import ConversationStatus, IncidentKind, Priority, Role, Severity, SlaMetric
from portal.services import incidents
from tests import factories


def _supervisor(db, browser_login):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    db.session.commit()
    browser_login(supervisor)
    return supervisor


def test_the_report_draws_its_chart_and_filters_by_priority(page, db, browser_login):
    now = datetime.now(UTC).replace(tzinfo=None)
    for priority, response in ((Priority.urgent, 1200), (Priority.normal, 300)):
        conversation = factories.conversation(priority=priority, started_at=now - timedelta(hours=2))
        db.session.add(SlaMetric(conversation_id=conversation.id, response_time_sec=response))
    _supervisor(db, browser_login)

    page.goto("/reports")
    assert page.locator('[data-metric="opened"]').inner_text() == "2"
    assert page.locator("svg.day-chart rect.bar-opened").count() == 30
    page.get_by_label("Priority").select_option("urgent")
    page.wait_for_url("**priority=urgent**")
    assert page.locator('[data-metric="opened"]').inner_text() == "1"
    assert page.locator('[data-metric="first_response_p50"]').inner_text() == "20m"


def test_a_supervisor_sets_business_hours(page, db, browser_login):
    _supervisor(db, browser_login)
    page.goto("/sla")
    page.get_by_label("Count only business hours").check()
    page.locator("input[name='days-0-opens']").fill("08:00")
    page.locator("input[name='days-0-closes']").fill("18:00")
    page.get_by_role("button", name="Save SLA settings").click()
    page.get_by_text("SLA settings saved.").wait_for()
    assert page.locator("input[name='days-0-opens']").input_value() == "08:00"


def test_incident_filters_swap_the_list(page, db, browser_login):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    conversation = factories.conversation(status=ConversationStatus.active)
    incidents.create_manual(conversation, Severity.critical, "Cliente sem retorno", by=supervisor)
    incidents.open_sla_breach(conversation, Severity.medium, "First response target missed")
    db.session.commit()
    browser_login(supervisor)
    page.goto("/incidents")
    page.get_by_label("Kind").select_option(IncidentKind.sla_breach.value)
    page.wait_for_url("**kind=sla_breach**")
    assert page.get_by_text("Cliente sem retorno").count() == 0
    assert page.get_by_text("First response target missed").count() == 1

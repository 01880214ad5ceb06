"""An SLA warning reaches the assignee's open inbox live (issue 19, part f): the warning job runs
with the clock held at 80 % of the urgent first-response target, and the tab, which polls only
once an hour here, shows the notice and the row's badge from the stream."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from portal.jobs.sla import warn_sla
from portal.models import Priority, Role, utcnow
from tests import factories
from tests.browser.test_live_updates import stream_server  # noqa: F401  (a fixture)


def test_an_sla_warning_shows_up_live_in_the_assignees_inbox(stream_server, app, page, db, browser_login):  # noqa: F811
    agent = factories.agent(name="Ana Souza", role=Role.agent)
    start = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    conversation = factories.conversation(
        factories.contact(name="Rita Alves"), priority=Priority.urgent, started_at=start, assigned_to=agent.id
    )
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")
    expect(page.locator("#live[data-live-connected]")).to_have_count(1)
    page.evaluate("window.sameDocument = true")
    row = page.locator(f'.conversation-row[data-conversation-id="{conversation.id}"]')
    expect(row).to_be_visible()
    expect(row.locator("[data-sla-badge]")).to_have_count(0)

    with app.app_context():
        assert warn_sla(now=start + timedelta(minutes=12)) == 1

    expect(page.locator(".sla-notice")).to_contain_text(
        "SLA warning: Rita Alves is close to the first response target"
    )
    expect(row.locator("[data-sla-badge]")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True

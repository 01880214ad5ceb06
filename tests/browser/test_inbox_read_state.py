"""Read state in Chromium: a background tab marks nothing read and sends no receipt; the thread
is read once the page is visible; a supervisor looking at a colleague's conversation sends nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from portal.models import ConversationRead, Role, utcnow
from portal.queue import OUTBOUND
from tests import factories

HIDDEN_TAB = """
(() => {
  let state = "hidden";
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
  Object.defineProperty(document, "hidden", {configurable: true, get: () => state === "hidden"});
  window.__showTab = () => { state = "visible"; document.dispatchEvent(new Event("visibilitychange")); };
})();
"""


@pytest.fixture
def fast_polling(app):
    app.config["INBOX_POLL_SECONDS"] = 1
    yield
    app.config.pop("INBOX_POLL_SECONDS")


def _reads() -> list[ConversationRead]:
    _db.session.expire_all()
    return list(_db.session.query(ConversationRead))


def _wait_for_a_thread_poll(page) -> None:
    with page.expect_response(lambda r: "/changes" in r.url and "/conversations/" in r.url):
        pass


def test_a_background_tab_marks_nothing_read_and_sends_no_receipt_until_shown(
    page, db, browser_login, run_jobs, graph_simulator, fast_polling
):
    agent = factories.agent(name="Helena")
    conversation = factories.conversation(factories.contact(name="Iara Costa"), assigned_to=agent.id)
    factories.message(conversation, body="Tem horário amanhã?", external_id="wamid.background",
                      sent_at=utcnow() - timedelta(minutes=2))
    db.session.commit()
    read_url = f"/conversations/{conversation.id}/read"
    browser_login(agent)
    page.add_init_script(HIDDEN_TAB)

    page.goto(f"/conversations/{conversation.id}")
    expect(page.locator(".msg-inbound")).to_contain_text("Tem horário amanhã?")
    _wait_for_a_thread_poll(page)
    _wait_for_a_thread_poll(page)
    run_jobs(OUTBOUND)
    assert _reads() == []
    assert graph_simulator.read_receipts() == []

    with page.expect_response(lambda r: r.url.endswith(read_url)) as posted:
        page.evaluate("window.__showTab()")
    assert posted.value.status == 204
    run_jobs(OUTBOUND)
    assert [r.agent_id for r in _reads()] == [agent.id]
    assert graph_simulator.read_receipts() == ["wamid.background"]


def test_a_supervisor_peeking_sends_nothing_and_leaves_it_unread_for_the_assignee(
    page, db, browser_login, run_jobs, graph_simulator
):
    assignee = factories.agent(name="Joana")
    supervisor = factories.agent(role=Role.supervisor, name="Kátia")
    conversation = factories.conversation(factories.contact(name="Lucas Prado"), assigned_to=assignee.id)
    factories.message(conversation, body="Alguém aí?", external_id="wamid.peek")
    db.session.commit()
    browser_login(supervisor)

    with page.expect_response(lambda r: r.url.endswith(f"/conversations/{conversation.id}/read")):
        page.goto(f"/conversations/{conversation.id}")
    run_jobs(OUTBOUND)

    assert graph_simulator.read_receipts() == []
    assert [r.agent_id for r in _reads()] == [supervisor.id]
    _db.session.expire_all()
    assert all(m.read_at is None for m in conversation.messages)

"""Live updates in Chromium with the stream server running: a webhook shows up without reload
and counts in the tab title; two agents see each other in a thread; a restarted stream server
catches the tab up with what it missed (Last-Event-ID)."""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from portal.channels.whatsapp.webhook import signature_header
from portal.cli.webhooks import inbound_text_notification
from portal.models import ConversationStatus, Role
from portal.services import conversations
from tests import factories
from tests.conftest import TEST_PASSWORD
from tests.live_support import StreamServer


@pytest.fixture
def stream_server(app, live_server):
    """The stream server on its own port, as scripts/run starts it; pages poll only once an hour,
    so what appears came over the stream. Tests ask for it before `page`, so the page closes
    before the server stops."""
    server = StreamServer(app).start()
    saved = {key: app.config.get(key) for key in ("EVENTS_URL", "PUBLIC_BASE_URL", "INBOX_POLL_SECONDS")}
    app.config.update(EVENTS_URL=server.url, PUBLIC_BASE_URL=live_server, INBOX_POLL_SECONDS=3600)
    yield server
    server.stop()
    app.config.update(saved)


def _connected(page):
    expect(page.locator("#live[data-live-connected]")).to_have_count(1)


def _post_webhook(app, live_server, payload: dict) -> None:
    body = json.dumps(payload).encode()
    response = requests.post(
        f"{live_server}/webhooks/whatsapp", data=body, timeout=10,
        headers={"Content-Type": "application/json",
                 "X-Hub-Signature-256": signature_header(body, app.config["WHATSAPP_APP_SECRET"])},
    )
    assert response.status_code == 200


def test_webhook_appears_without_reload_and_counts_in_the_title(
    stream_server, app, page, db, browser_login, live_server, run_jobs
):
    agent = factories.agent(role=Role.agent)
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")
    _connected(page)
    page.evaluate("window.sameDocument = true")
    expect(page).to_have_title(re.compile(r"^Inbox"))

    with app.app_context():
        payload = inbound_text_notification("5511987651234", "Meu pedido não chegou", "Lívia Prado")
    _post_webhook(app, live_server, payload)
    run_jobs("webhooks")

    expect(page.locator(".conversation-row")).to_contain_text("Meu pedido não chegou")
    expect(page).to_have_title(re.compile(r"^\(1\) Inbox"))
    assert page.evaluate("window.sameDocument") is True


def test_two_agents_in_one_thread_see_each_other(stream_server, app, browser, page, db, browser_login, live_server):
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima", password=TEST_PASSWORD)
    conversation = factories.conversation()
    db.session.commit()
    browser_login(ana)
    page.goto(f"/conversations/{conversation.id}")
    _connected(page)

    other = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    other.set_default_timeout(5000)
    theirs = other.new_page()
    theirs.goto("/login")
    theirs.fill("input[name=email]", bruno.email)
    theirs.fill("input[name=password]", TEST_PASSWORD)
    theirs.click("button[type=submit]")
    theirs.wait_for_url(lambda url: "/login" not in url)
    theirs.goto(f"/conversations/{conversation.id}")
    _connected(theirs)
    theirs.locator("form[data-reply-form] textarea").press_sequentially("Olá")

    expect(page.locator(".presence")).to_contain_text("Typing: Bruno Lima")
    expect(theirs.locator(".presence")).to_contain_text("Also here: Ana Souza", timeout=8000)
    other.close()


def test_after_a_stream_server_restart_the_tab_catches_up(stream_server, page, db, browser_login):
    conversation = factories.conversation(factories.contact(name="Rita Alves"))
    agent = factories.agent()
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")
    _connected(page)
    page.evaluate("""window.heard = [];
        document.addEventListener('atende:live-change', e => window.heard.push(e.detail))""")

    errors_before = len(page.console_errors)
    stream_server.stop()
    expect(page.locator("#live[data-live-connected]")).to_have_count(0)
    conversations.change_status(conversation, ConversationStatus.triage, by=None)
    db.session.commit()
    stream_server.start()

    page.wait_for_function(
        "id => window.heard.some(d => d.conversation === id && d.type === 'conversation.status_changed')",
        arg=conversation.id, timeout=15000,
    )
    _connected(page)
    # The cut stream and the refused reconnection attempts were logged while the server was down.
    del page.console_errors[errors_before:]


def test_a_live_update_keeps_the_older_rows_and_the_focus(stream_server, page, db, browser_login):
    first = factories.conversation(factories.contact(name="Primeira Cliente"))
    for _ in range(30):
        factories.conversation()
    agent = factories.agent()
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")
    _connected(page)
    page.get_by_role("link", name="Older conversations").click()
    expect(page.locator(".conversation-row")).to_have_count(31)
    page.locator(f"#conversation-link-{first.id}").focus()

    factories.message(first, body="Chegou agora")
    conversations.change_status(first, ConversationStatus.triage, by=None)
    db.session.commit()

    expect(page.locator(f'li[data-conversation-id="{first.id}"]')).to_contain_text("Chegou agora")
    expect(page.locator(".conversation-row")).to_have_count(31)
    expect(page.locator(f"#conversation-link-{first.id}")).to_be_focused()

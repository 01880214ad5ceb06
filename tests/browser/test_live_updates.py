"""Live updates in Chromium with the stream server running: a webhook shows up without reload
and counts in the tab title, with the sound and desktop notification the agent chose (none for
their own sends); two agents see each other in a thread, and a closed browser drops out within
seconds; replying in a colleague's conversation asks first; a hand-over shows in the colleague's
list; a restarted stream server catches the tab up with what it missed (Last-Event-ID)."""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

from portal.channels.whatsapp.cli import inbound_text_notification
from portal.channels.whatsapp.webhook import signature_header
from portal.extensions import db as _db
from portal.models import ConversationStatus, Direction, Message, Role
from portal.queue import OUTBOUND
from portal.services import conversations
from tests import factories
from tests.browser.conftest import BROWSER_TIMEOUT_MS
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


def _signed_in_page(browser, live_server, agent, *, viewport=None):
    """A second browser (its own context, so its own cookies) signed in as `agent`."""
    context = browser.new_context(base_url=live_server, viewport=viewport or {"width": 1280, "height": 800})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    theirs = context.new_page()
    theirs.goto("/login")
    theirs.fill("input[name=email]", agent.email)
    theirs.fill("input[name=password]", TEST_PASSWORD)
    theirs.click("button[type=submit]")
    theirs.wait_for_url(lambda url: "/login" not in url)
    return theirs


# Records each desktop notification and sound the page makes, then lets the browser's own run.
RECORD_ALERTS = """
(() => {
  window.__notified = [];
  window.__sounds = 0;
  const RealNotification = window.Notification;
  function RecordedNotification(title, options) {
    window.__notified.push({title: title, body: (options || {}).body || ""});
    return new RealNotification(title, options);
  }
  Object.defineProperty(RecordedNotification, "permission", {get: () => RealNotification.permission});
  RecordedNotification.requestPermission = RealNotification.requestPermission.bind(RealNotification);
  window.Notification = RecordedNotification;
  const realPlay = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () { window.__sounds += 1; return realPlay.call(this); };
  window.__heard = [];
  document.addEventListener("atende:live-change", e => window.__heard.push(e.detail));
})();
"""


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

    theirs = _signed_in_page(browser, live_server, bruno)
    theirs.goto(f"/conversations/{conversation.id}")
    _connected(theirs)
    theirs.locator("form[data-reply-form] textarea").press_sequentially("Olá")

    expect(page.locator(".presence")).to_contain_text("Typing: Bruno Lima")
    expect(theirs.locator(".presence")).to_contain_text("Also here: Ana Souza")
    theirs.context.close()


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


def test_chosen_sound_and_desktop_notification_for_a_customer_message_not_for_ones_own_send(
    stream_server, app, page, db, browser_login, live_server, run_jobs, graph_simulator
):
    agent = factories.agent(role=Role.agent, locale="en")
    colleague = factories.agent(role=Role.agent)
    theirs = factories.conversation(factories.contact(phone="+5511912340000"), assigned_to=colleague.id)
    db.session.commit()
    page.context.grant_permissions(["notifications"])
    page.add_init_script(RECORD_ALERTS)
    browser_login(agent)
    page.goto("/profile")
    page.check("#profile-alert_sound")
    page.check("#profile-alert_desktop")
    page.click("form:has(#profile-alert_sound) button[type=submit]")
    page.goto("/inbox")
    _connected(page)
    assert page.evaluate("[window.__notified.length, window.__sounds, Notification.permission]") == [0, 0, "granted"]

    with app.app_context():  # a colleague's customer writes: out of this agent's scope
        _post_webhook(app, live_server, inbound_text_notification("5511912340000", "Só para a colega", "Outra"))
        _post_webhook(app, live_server, inbound_text_notification("5511987650001", "Quero um orçamento", "Nina Rocha"))
    run_jobs("webhooks")

    page.wait_for_function("window.__notified.length > 0")
    notified = page.evaluate("window.__notified")
    assert {n["body"] for n in notified} == {"Nina Rocha"}
    assert {n["title"] for n in notified} <= {"New conversation", "New message"}
    assert page.evaluate("window.__sounds") == len(notified)
    assert theirs.id not in page.evaluate("window.__heard.map(d => d.conversation)")

    conversation = _db.session.query(Message).filter_by(body="Quero um orçamento").one().conversation
    sender = page.context.new_page()  # the same agent answers from another tab
    sender.goto(f"/conversations/{conversation.id}")
    sender.fill("form[data-reply-form] textarea", "Claro, já envio")
    sender.click("form[data-reply-form] button[type=submit]")
    expect(sender.locator(".msg-outbound")).to_contain_text("Claro, já envio")
    run_jobs(OUTBOUND)
    assert [s["text"]["body"] for s in graph_simulator.sends()] == ["Claro, já envio"]

    page.wait_for_function(
        "id => window.__heard.some(d => d.conversation === id && d.type === 'message.created' && d.direction === 'outbound')",
        arg=conversation.id,
    )
    expect(page.locator(f'li[data-conversation-id="{conversation.id}"]')).to_contain_text("Claro, já envio")
    assert page.evaluate("window.__notified") == notified
    assert page.evaluate("window.__sounds") == len(notified)


def test_a_closed_browser_drops_out_of_presence_within_seconds(
    stream_server, app, browser, page, db, browser_login, live_server
):
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima", password=TEST_PASSWORD)
    conversation = factories.conversation()
    db.session.commit()
    browser_login(ana)
    page.goto(f"/conversations/{conversation.id}")
    _connected(page)
    theirs = _signed_in_page(browser, live_server, bruno)
    theirs.goto(f"/conversations/{conversation.id}")
    _connected(theirs)
    expect(page.locator(".presence")).to_contain_text("Also here: Bruno Lima")

    # The browser goes away without a word (a crash, a lost network): no "left" beat arrives.
    theirs.route("**/presence", lambda route: route.abort())
    theirs.context.close()

    expect(page.locator(".presence")).to_be_hidden(timeout=20000)


def test_replying_in_a_colleagues_conversation_asks_first_and_cancelling_sends_nothing(
    page, db, browser_login, run_jobs, graph_simulator
):
    supervisor = factories.agent(role=Role.supervisor, name="Sara")
    holder = factories.agent(name="Joana Dias")
    conversation = factories.conversation(assigned_to=holder.id)
    factories.message(conversation, body="Oi, preciso de ajuda")
    db.session.commit()
    browser_login(supervisor)
    page.goto(f"/conversations/{conversation.id}")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.fill("form[data-reply-form] textarea", "Deixa comigo")
    page.click("form[data-reply-form] button[type=submit]")
    expect(page.locator("form[data-reply-form] textarea")).to_have_value("Deixa comigo")
    assert asked == ["Joana Dias is handling this conversation. Send your reply anyway?"]
    run_jobs(OUTBOUND)
    assert graph_simulator.sends() == []
    assert _db.session.query(Message).filter_by(direction=Direction.outbound).count() == 0

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.click("form[data-reply-form] button[type=submit]")
    expect(page.locator(".msg-outbound")).to_contain_text("Deixa comigo")
    run_jobs(OUTBOUND)
    assert len(asked) == 2
    assert [s["text"]["body"] for s in graph_simulator.sends()] == ["Deixa comigo"]


def test_a_hand_over_shows_live_in_the_colleagues_browser(
    stream_server, app, browser, page, db, browser_login, live_server
):
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima", password=TEST_PASSWORD)
    conversation = factories.conversation(factories.contact(name="Paula Reis"), assigned_to=ana.id)
    factories.message(conversation, body="Podem me ligar?")
    db.session.commit()
    theirs = _signed_in_page(browser, live_server, bruno)
    theirs.goto("/inbox?assignee=mine")
    _connected(theirs)
    expect(theirs.locator("[data-tab-count=mine]")).to_have_text("0")
    expect(theirs.locator(".conversation-row")).to_have_count(0)

    browser_login(ana)
    page.goto(f"/conversations/{conversation.id}")
    page.select_option("#assignee", str(bruno.id))

    row = theirs.locator(f'li[data-conversation-id="{conversation.id}"]')
    expect(row).to_contain_text("Paula Reis")
    expect(theirs.locator("[data-tab-count=mine]")).to_have_text("1")
    # Ana may no longer open it: her tab goes back to her list and says where it went.
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator(".flash")).to_contain_text("The conversation with Paula Reis is now assigned to Bruno Lima.")
    theirs.context.close()

"""Working together in Chromium (issue 17 parts 5-8): a note never reaches the Graph API
simulator; a mention reaches the other agent's tab live; a transfer's note shows in the thread and
the conversation in the colleague's list; a snooze leaves for the Snoozed tab and comes back when
the scheduled job runs at a time the test chooses; the keyboard shortcuts, and none of them while
typing."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from rq import Queue

from portal.models import QuickReply, utcnow
from portal.queue import DEFAULT, redis_connection
from portal.services import settings
from tests import factories
from tests.browser.test_live_updates import stream_server  # noqa: F401  (a fixture)
from tests.conftest import TEST_PASSWORD

# The machine running the suite may be busy: waits are generous (they end as soon as the page is ready).
PATIENCE_MS = 20_000


def _patient(page):
    """Generous waits for this test's page (not an autouse fixture: the stream server must be set
    up before the page, so that the page closes first)."""
    page.context.set_default_timeout(PATIENCE_MS)


def _second_agent_page(browser, live_server, agent):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


def test_a_note_is_shown_apart_and_never_reaches_the_simulator(page, db, browser_login, run_jobs, graph_simulator):
    _patient(page)
    agent = factories.agent(name="Ana Souza")
    conversation = factories.conversation(factories.contact(name="Rita Alves"))
    factories.message(conversation, body="Meu pedido atrasou")
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    page.click("[data-composer-tab=note]")
    expect(page.locator("#note-composer")).to_be_visible()
    expect(page.locator("#composer")).to_be_hidden()
    page.fill("#note-body", "Cliente irritada, oferecer frete grátis")
    page.click(".note-submit")
    note = page.locator(".msg-note")
    expect(note).to_contain_text("Cliente irritada, oferecer frete grátis")
    expect(note).to_contain_text("Note by Ana Souza")
    page.click("[data-composer-tab=reply]")
    page.fill("form[data-reply-form] textarea[name=body]", "Já verifiquei, chega amanhã")
    page.click("form[data-reply-form] button[type=submit]")
    expect(page.locator(".msg-outbound")).to_contain_text("Já verifiquei")
    run_jobs("outbound")

    assert [send["text"]["body"] for send in graph_simulator.sends()] == ["Já verifiquei, chega amanhã"]
    assert not any("frete" in str(request) for request in graph_simulator.requests)


def test_a_mention_reaches_the_other_agent_live(stream_server, app, browser, page, db, browser_login, live_server):  # noqa: F811
    _patient(page)
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima", password=TEST_PASSWORD)
    conversation = factories.conversation(factories.contact(name="Rita Alves"))
    db.session.commit()
    other, theirs = _second_agent_page(browser, live_server, bruno)
    theirs.goto("/inbox")
    expect(theirs.locator("#live[data-live-connected]")).to_have_count(1)
    theirs.evaluate("window.sameDocument = true")

    browser_login(ana)
    page.goto(f"/conversations/{conversation.id}")
    page.click("[data-composer-tab=note]")
    page.locator("#note-body").press_sequentially("Pode assumir, @Bru")
    expect(page.locator("[data-mention-picker] [role=option]")).to_have_text(["Bruno Lima"])
    page.keyboard.press("Enter")
    expect(page.locator("#note-body")).to_have_value("Pode assumir, @Bruno Lima ")
    page.click(".note-submit")
    expect(page.locator(".msg-note")).to_contain_text("@Bruno Lima")

    expect(theirs.locator("[data-mention-count]")).to_have_text("1")
    expect(theirs.locator(".mention-notice")).to_contain_text("Rita Alves: a colleague mentioned you in a note")
    assert theirs.evaluate("window.sameDocument") is True
    theirs.click("#mentions-link")
    expect(theirs.locator(".mention-item")).to_contain_text("Pode assumir, @Bruno Lima")
    expect(theirs.locator(".mention-item")).to_contain_text("in the conversation with Rita Alves")
    other.close()


def test_a_transfer_with_a_note_shows_in_the_thread_and_in_the_colleagues_list(browser, page, db, browser_login, live_server):
    _patient(page)
    ana = factories.agent(name="Ana Souza")
    bruno = factories.agent(name="Bruno Lima", password=TEST_PASSWORD)
    conversation = factories.conversation(factories.contact(name="Rita Alves"), assigned_to=ana.id)
    db.session.commit()
    browser_login(ana)
    page.goto(f"/conversations/{conversation.id}")

    page.click("[data-transfer-menu] summary")
    page.select_option("#transfer-to", label="Bruno Lima")
    page.fill("#transfer-note", "Ela quer a segunda via do boleto")
    page.click("#transfer-submit")
    # Ana may no longer open it (an agent sees their own and unassigned ones): back to the inbox.
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator(".conversation-row")).to_have_count(0)

    other, theirs = _second_agent_page(browser, live_server, bruno)
    theirs.goto("/inbox?assignee=mine")
    row = theirs.locator(".conversation-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Rita Alves")
    row.locator("a.row-link").click()
    line = theirs.locator(".msg-note")
    expect(line).to_contain_text("Ana Souza transferred the conversation to Bruno Lima")
    expect(line).to_contain_text("Ela quer a segunda via do boleto")
    other.close()


def test_a_snooze_leaves_for_the_snoozed_tab_and_comes_back_when_the_job_runs_on_time(app, page, db, browser_login, run_jobs):
    _patient(page)
    agent = factories.agent(name="Ana Souza")
    conversation = factories.conversation(factories.contact(name="Rita Alves"), assigned_to=agent.id)
    db.session.commit()
    zone = ZoneInfo(settings.time_zone())
    until = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    local = until.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    page.click("[data-snooze-menu] summary")
    page.check("input[name=until][value=custom]")
    page.fill("#snooze-at", local)
    page.click("#snooze-submit")
    expect(page.locator(".snoozed-banner")).to_contain_text("Snoozed until")
    expect(page.locator(".activity-line")).to_contain_text("Ana Souza snoozed the conversation until")

    page.goto("/inbox")
    expect(page.locator(".conversation-row")).to_have_count(0)
    expect(page.locator('[data-tab-count="snoozed"]')).to_have_text("1")
    page.click("label.tab:has-text('Snoozed')")
    expect(page.locator(".conversation-row")).to_contain_text("Rita Alves")

    queue = Queue(DEFAULT, connection=redis_connection(app))
    queue.enqueue("portal.jobs.snooze.wake_snoozed", until - timedelta(seconds=1))
    run_jobs(DEFAULT)
    page.goto("/inbox?assignee=snoozed")
    expect(page.locator(".conversation-row")).to_have_count(1)

    queue.enqueue("portal.jobs.snooze.wake_snoozed", until)
    queue.enqueue("portal.jobs.snooze.wake_snoozed", until + timedelta(minutes=1))
    run_jobs(DEFAULT)
    page.goto("/inbox?assignee=mine")
    expect(page.locator(".conversation-row")).to_contain_text("Rita Alves")
    expect(page.locator('[data-tab-count="snoozed"]')).to_have_text("0")
    page.locator(".conversation-row a.row-link").click()
    expect(page.locator(".activity-line")).to_have_count(2)
    expect(page.locator(".activity-line").last).to_contain_text("Back from its snooze: its time came")


def test_shortcuts_move_write_and_close_and_none_fires_while_typing(page, db, browser_login):
    _patient(page)
    agent = factories.agent(name="Ana Souza")
    for n, name in enumerate(("Primeira", "Segunda", "Terceira")):
        conversation = factories.conversation(factories.contact(name=name), last_message_at=utcnow() - timedelta(minutes=n))
        factories.message(conversation, body=f"Oi {name}")
    db.session.add(QuickReply(shortcut="obrigado", body="Obrigado pelo contato!"))
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")

    page.keyboard.press("j")
    expect(page.locator("#thread-title")).to_contain_text("Primeira")
    page.keyboard.press("j")
    expect(page.locator("#thread-title")).to_contain_text("Segunda")
    page.keyboard.press("k")
    expect(page.locator("#thread-title")).to_contain_text("Primeira")

    page.keyboard.press("r")
    reply = page.locator("form[data-reply-form] textarea[name=body]")
    expect(reply).to_be_focused()
    page.keyboard.type("jk e n?")
    expect(reply).to_have_value("jk e n?")
    expect(page.locator("#thread-title")).to_contain_text("Primeira")
    expect(page.locator("#shortcuts-help")).to_be_hidden()
    expect(page.locator("#note-composer")).to_be_hidden()

    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("n")
    expect(page.locator("#note-body")).to_be_focused()
    expect(page.locator("#note-composer")).to_be_visible()

    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")
    expect(reply).to_be_focused()
    expect(page.locator("#quick-reply-options [role=option]")).to_have_count(1)
    page.keyboard.press("Escape")

    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    expect(page.locator("#shortcuts-help")).to_contain_text("Next / previous conversation")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()

    page.keyboard.press("e")
    expect(page.locator("#current-status")).to_have_text("Closed")


def test_an_over_limit_reply_is_split_only_with_consent_and_sent_in_order(page, db, browser_login, run_jobs, graph_simulator):
    _patient(page)
    agent = factories.agent(name="Ana Souza")
    conversation = factories.conversation(factories.contact(name="Rita Alves"))
    factories.message(conversation, body="Pode mandar o contrato inteiro aqui?")
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")
    text = "\n\n".join(f"Cláusula {n}. " + ("O contratante se obriga a pagar. " * 60).strip() for n in range(1, 4))
    box = page.locator("form[data-reply-form] textarea[name=body]")
    box.focus()
    page.keyboard.insert_text(text)

    page.click("form[data-reply-form] button[type=submit]:not([name])")
    offer = page.locator("[data-split-offer]")
    expect(offer).to_contain_text("Send it as 2 messages, in order?")
    page.click("[data-split-decline]")
    expect(offer).to_have_count(0)
    expect(box).to_be_focused()
    assert box.evaluate("el => el.value") == text
    run_jobs("outbound")
    assert graph_simulator.sends() == []
    expect(page.locator(".msg-outbound")).to_have_count(0)

    page.click("form[data-reply-form] button[type=submit]:not([name])")
    page.click("#split-send")
    expect(page.locator(".msg-outbound")).to_have_count(2)
    run_jobs("outbound")
    sent = [send["text"]["body"] for send in graph_simulator.sends()]
    assert len(sent) == 2 and sent[0].startswith("Cláusula 1.") and sent[1].startswith("Cláusula 3.")
    assert "\n\n".join(sent) == text

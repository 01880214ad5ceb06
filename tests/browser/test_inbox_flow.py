"""The inbox in headless Chromium: find a conversation, reply with Ctrl+Enter, watch the bubble
reach "sent", close the conversation; scope; phone width; keyboard alone."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.models import utcnow
from portal.queue import OUTBOUND
from tests import factories


@pytest.fixture
def fast_polling(app):
    """Poll every second instead of five, so waiting for a live update stays short."""
    app.config["INBOX_POLL_SECONDS"] = 1
    yield
    app.config.pop("INBOX_POLL_SECONDS")


def _conversation(name: str, phone: str, body: str, **fields):
    conversation = factories.conversation(factories.contact(name=name, phone=phone), **fields)
    factories.message(conversation, body=body, sent_at=utcnow() - timedelta(minutes=4))
    return conversation


def test_agent_finds_replies_sees_it_sent_then_closes_and_it_leaves_the_open_filter(
    page, db, browser_login, run_jobs, graph_simulator, fast_polling
):
    agent = factories.agent(name="Gabriela")
    _conversation("Fernanda Lima", "+5511987650001", "Meu boleto venceu")
    _conversation("Rodrigo Alves", "+5511987650002", "Bom dia")
    db.session.commit()

    browser_login(agent)
    page.goto("/inbox")
    expect(page.locator(".conversation-row")).to_have_count(2)
    page.fill("#q", "fernanda")
    expect(page.locator(".conversation-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=fernanda"))
    page.click("text=Fernanda Lima")

    expect(page.locator(".msg-inbound")).to_contain_text("Meu boleto venceu")
    page.fill("#composer textarea[name=body]", "Já estou verificando o seu boleto.")
    page.press("#composer textarea[name=body]", "Control+Enter")
    reply = page.locator(".msg-outbound", has_text="Já estou verificando o seu boleto.")
    expect(reply.locator(".tick")).to_have_attribute("data-status", "queued")
    expect(page.locator("#composer textarea[name=body]")).to_have_value("")

    run_jobs(OUTBOUND)
    expect(reply.locator(".tick")).to_have_attribute("data-status", "sent")
    expect(reply.locator(".tick")).to_contain_text("Sent")
    assert graph_simulator.sends()[0]["text"]["body"] == "Já estou verificando o seu boleto."

    page.select_option("#status", "closed")
    expect(page.locator("#current-status")).to_have_text("Closed")

    page.reload()
    expect(page.locator(".conversation-row")).to_have_count(1)
    expect(page.locator(".conversation-list")).not_to_contain_text("Fernanda Lima")


def test_new_messages_appear_in_the_open_list_and_thread_without_reload(page, db, browser_login, fast_polling):
    agent = factories.agent()
    conversation = _conversation("Helena Costa", "+5511987650003", "Oi")
    db.session.commit()
    browser_login(agent)

    page.goto("/inbox")
    expect(page.locator(".conversation-row")).to_have_count(1)
    factories.message(conversation, body="Ainda estou esperando")
    db.session.commit()
    expect(page.locator(".conversation-row")).to_contain_text("Ainda estou esperando")

    page.click("text=Helena Costa")
    factories.message(conversation, body="Mais uma coisa")
    db.session.commit()
    expect(page.locator(".msg-inbound").last).to_contain_text("Mais uma coisa")


def test_earlier_messages_load_above_and_stay_when_a_new_message_arrives(page, db, browser_login, fast_polling):
    agent = factories.agent()
    conversation = factories.conversation(factories.contact(name="Igor Dias", phone="+5511987650009"))
    base = utcnow() - timedelta(hours=1)
    for i in range(60):
        factories.message(conversation, body=f"linha {i:02d}", sent_at=base + timedelta(seconds=i))
    db.session.commit()
    browser_login(agent)

    page.goto(f"/conversations/{conversation.id}")
    expect(page.locator(".msg-inbound")).to_have_count(50)
    expect(page.locator(".msg-inbound").first).to_contain_text("linha 10")
    page.get_by_role("link", name="Show earlier messages").click()
    expect(page.locator(".msg-inbound")).to_have_count(60)
    expect(page.locator(".msg-inbound").first).to_contain_text("linha 00")
    expect(page.get_by_role("link", name="Show earlier messages")).to_have_count(0)

    factories.message(conversation, body="linha nova")
    db.session.commit()
    expect(page.locator(".msg-inbound").last).to_contain_text("linha nova")
    expect(page.locator(".msg-inbound")).to_have_count(61)


def test_agent_does_not_see_and_gets_403_on_a_conversation_assigned_to_someone_else(page, db, browser_login):
    agent = factories.agent()
    colleague = factories.agent()
    theirs = _conversation("Julia Prado", "+5511987650005", "Olá", assigned_to=colleague.id)
    _conversation("Karina Reis", "+5511987650006", "Olá")
    db.session.commit()
    browser_login(agent)

    page.goto("/inbox?status=all")
    expect(page.locator(".conversation-row")).to_have_count(1)
    expect(page.locator(".conversation-list")).not_to_contain_text("Julia Prado")
    response = page.goto(f"/conversations/{theirs.id}")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("You do not have permission")
    # The refused page load is the one console error this test expects.
    assert [e for e in page.console_errors if "403" not in e] == []
    page.console_errors.clear()


def _fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_inbox_and_thread_fit_a_phone_screen(page, db, browser_login):
    agent = factories.agent()
    conversation = _conversation(
        "Luiza Fernandes de Albuquerque Cavalcanti", "+5511987650007", "Uma mensagem bem comprida " * 20
    )
    db.session.commit()
    page.set_viewport_size({"width": 375, "height": 740})
    browser_login(agent)

    page.goto("/inbox")
    expect(page.locator(".conversation-row")).to_have_count(1)
    assert _fits_the_width(page)
    page.goto(f"/conversations/{conversation.id}")
    expect(page.locator("#composer textarea[name=body]")).to_be_visible()
    assert _fits_the_width(page)


def _tab_until(page, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_whole_reply_works_with_the_keyboard_alone(page, db, browser_login):
    agent = factories.agent()
    _conversation("Marcos Dias", "+5511987650008", "Preciso de ajuda")
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")

    _tab_until(page, ".row-link")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator("#thread-title")).to_contain_text("Marcos Dias")

    _tab_until(page, "#composer textarea[name=body]")
    page.keyboard.type("Vamos resolver agora.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".msg-outbound")).to_contain_text("Vamos resolver agora.")

    _tab_until(page, "#priority")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#conversation-details .badges")).to_contain_text("High")
    expect(page.locator("#priority")).to_be_focused()  # each change saves at once; the control keeps focus
    _tab_until(page, "#priority")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#conversation-details .badges")).to_contain_text("Urgent")


def test_answering_a_specific_message_shows_its_quote(page, db, browser_login):
    agent = factories.agent()
    conversation = _conversation("Nina Rocha", "+5511987650009", "Qual o prazo de entrega?")
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    page.click("text=Reply to this")
    expect(page.locator("[data-reply-note]")).to_contain_text("Qual o prazo de entrega?")
    expect(page.locator("#composer textarea[name=body]")).to_be_focused()
    page.keyboard.type("Chega amanhã.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".msg-outbound .reply-context")).to_contain_text("Qual o prazo de entrega?")

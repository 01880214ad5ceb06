"""The agent's workspace in Chromium: list | thread | details on a desktop, one pane at a time on
a phone; opening a conversation and coming back keeps filters, loaded pages and scroll."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from portal.models import Conversation, ConversationStatus, Priority, Role, utcnow
from portal.services import conversations
from portal.services.inbox_queries import PAGE_SIZE
from tests import factories

PHONE = {"width": 390, "height": 844}


def _many_conversations(count: int) -> list:
    rows = []
    for n in range(count):
        conversation = factories.conversation(
            factories.contact(name=f"Cliente {n:02d}", phone=f"+55119876{n:05d}"),
            last_message_at=utcnow() - timedelta(minutes=n),
        )
        factories.message(conversation, body=f"Mensagem {n:02d}", sent_at=utcnow() - timedelta(minutes=n))
        rows.append(conversation)
    return rows


def _list_scroll(page) -> int:
    return page.evaluate("document.querySelector('[data-list-pane]').scrollTop")


def test_three_panes_and_back_keeps_filters_loaded_pages_and_scroll(page, db, browser_login):
    agent = factories.agent(name="Olívia")
    _many_conversations(PAGE_SIZE + 5)
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")

    page.click("label.tab:has-text('Unassigned')")
    expect(page).to_have_url(re.compile(r"assignee=unassigned"))
    page.click("text=Older conversations")
    expect(page.locator(".conversation-row")).to_have_count(PAGE_SIZE + 5)
    page.locator(".conversation-row").nth(PAGE_SIZE + 2).scroll_into_view_if_needed()
    scrolled = _list_scroll(page)
    assert scrolled > 0

    page.click("text=Cliente 27")
    expect(page.locator("#thread-title")).to_contain_text("Cliente 27")
    expect(page).to_have_url(re.compile(r"/conversations/\d+$"))
    for pane in ("[data-list-pane]", ".thread", "#conversation-details"):
        expect(page.locator(pane)).to_be_visible()
    boxes = [page.locator(p).bounding_box() for p in ("[data-list-pane]", ".thread", "#conversation-details")]
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert page.locator(".conversation-row").count() == PAGE_SIZE + 5
    assert _list_scroll(page) == scrolled
    expect(page.locator(".conversation-row[aria-current=true]")).to_contain_text("Cliente 27")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/inbox\?assignee=unassigned"))
    expect(page.locator(".conversation-row")).to_have_count(PAGE_SIZE + 5)
    expect(page.locator("input[name=assignee][value=unassigned]")).to_be_checked()
    assert _list_scroll(page) == scrolled


def test_a_deep_link_renders_the_same_three_panes(page, db, browser_login):
    agent = factories.agent()
    [conversation] = _many_conversations(1)
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")
    for pane in ("[data-list-pane]", ".thread", "#conversation-details"):
        expect(page.locator(pane)).to_be_visible()
    expect(page.locator(".conversation-row[aria-current=true]")).to_contain_text("Cliente 00")


def test_tabs_count_mine_unassigned_and_all(page, db, browser_login):
    agent = factories.agent()
    rows = _many_conversations(3)
    rows[0].assigned_to = agent.id
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")
    expect(page.locator("[data-tab-count=mine]")).to_have_text("1")
    expect(page.locator("[data-tab-count=unassigned]")).to_have_text("2")
    expect(page.locator("[data-tab-count=all]")).to_have_text("3")


def test_on_a_phone_one_pane_at_a_time_and_back_keeps_the_list_as_it_was(page, db, browser_login):
    page.set_viewport_size(PHONE)
    agent = factories.agent()
    _many_conversations(PAGE_SIZE + 5)
    db.session.commit()
    browser_login(agent)
    page.goto("/inbox")
    page.fill("#q", "Cliente")
    expect(page).to_have_url(re.compile(r"q=Cliente"))
    page.click("text=Older conversations")
    expect(page.locator(".conversation-row")).to_have_count(PAGE_SIZE + 5)
    page.locator(".conversation-row").nth(PAGE_SIZE + 1).scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0

    page.click("text=Cliente 26")
    expect(page.locator("#thread-title")).to_contain_text("Cliente 26")
    expect(page.locator("[data-list-pane]")).to_be_hidden()
    expect(page.locator("#conversation-details")).to_be_hidden()
    page.click("text=Details")
    expect(page.locator("#conversation-details")).to_be_visible()
    expect(page.locator(".thread")).to_be_hidden()
    page.click("text=Back to the conversation")
    expect(page.locator(".thread")).to_be_visible()

    page.click("[data-back-to-list]")
    expect(page.locator("[data-list-pane]")).to_be_visible()
    expect(page.locator(".conversation-row")).to_have_count(PAGE_SIZE + 5)
    expect(page.locator("#q")).to_have_value("Cliente")
    page.wait_for_function(f"window.scrollY === {scrolled}")


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor, Role.admin])
def test_on_a_phone_the_header_is_a_menu_and_the_first_conversation_shows_without_scrolling(
    page, db, browser_login, role
):
    page.set_viewport_size(PHONE)
    me = factories.agent(role=role)
    _many_conversations(3)
    db.session.commit()
    browser_login(me)
    page.goto("/inbox")

    first = page.locator(".conversation-row").first
    box = first.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator(".topbar .nav")).to_be_hidden()
    page.click("[data-menu-toggle]")
    expect(page.locator(".topbar .nav")).to_be_visible()
    expect(page.locator("[data-menu-toggle]")).to_have_attribute("aria-expanded", "true")


def test_a_detail_saves_on_change_and_a_failed_save_reverts_with_a_reason(page, db, browser_login):
    agent = factories.agent()
    [conversation] = _many_conversations(1)
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    page.select_option("#priority", "high")
    expect(page.locator("#conversation-details .badges")).to_contain_text("High")

    page.route("**/priority", lambda route: route.fulfill(status=500, body="boom"))
    page.select_option("#priority", "urgent")
    expect(page.locator("[data-save-error]")).to_contain_text("answered with an error")
    expect(page.locator("#priority")).to_have_value("high")
    _db.session.expire_all()
    assert _db.session.get(Conversation, conversation.id).priority == Priority.high
    page.console_errors.clear()  # the refused request is logged by Chromium on purpose here


@pytest.fixture
def no_polling(app):
    """Thread refreshes come only when the test triggers them."""
    app.config["INBOX_POLL_SECONDS"] = 3600
    yield
    app.config.pop("INBOX_POLL_SECONDS")


def _refresh_thread(page) -> None:
    """What a live update (or a poll) does: the thread's fragment, with the details out of band."""
    with page.expect_response(lambda r: "/changes" in r.url and "/conversations/" in r.url):
        page.evaluate("htmx.trigger(document.querySelector('[data-live-refresh=thread]'), 'atende:refresh')")


def test_a_save_that_fails_while_a_live_update_rerenders_the_details_still_says_why(
    page, db, browser_login, no_polling
):
    agent = factories.agent()
    colleague = factories.agent(name="Clara Nunes")
    [conversation] = _many_conversations(1)
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")
    held = []
    page.route("**/assignee", lambda route: held.append(route))

    page.select_option("#assignee", str(colleague.id))
    while not held:
        page.wait_for_timeout(20)
    conversations.change_status(conversation, ConversationStatus.triage, by=None)
    db.session.commit()
    _refresh_thread(page)  # the pane holding the sending form is replaced while the save waits
    expect(page.locator("#current-status")).to_have_text("Triage")
    held[0].abort()

    expect(page.locator("[data-save-error]")).to_contain_text("did not answer")
    expect(page.locator("#assignee")).to_have_value("")

    conversations.set_priority(conversation, Priority.high, by=None)
    db.session.commit()
    _refresh_thread(page)
    expect(page.locator("#conversation-details .badges")).to_contain_text("High")
    expect(page.locator("[data-save-error]")).to_contain_text("did not answer")
    page.console_errors.clear()  # the cut request is logged by Chromium on purpose here


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, PHONE], ids=["desktop", "phone"])
def test_with_two_inboxes_rows_and_the_thread_name_the_inbox_without_a_line_more(page, db, browser_login, viewport):
    page.set_viewport_size(viewport)
    sales = factories.inbox(name="Vendas")
    supervisor = factories.agent(role=Role.supervisor)
    conversation = factories.conversation(factories.contact(name="Cliente Vendas"), inbox=sales)
    factories.message(conversation, body="Quero um orçamento")
    factories.message(factories.conversation(factories.contact(name="Cliente Suporte")), body="Meu pedido atrasou")
    db.session.commit()
    browser_login(supervisor)
    page.goto("/inbox")

    row = page.locator(".conversation-row", has_text="Cliente Vendas")
    inbox_badge, status_badge = row.locator(".inbox-name"), row.locator(".badge.status-new")
    expect(inbox_badge).to_have_text("Vendas")
    expect(page.locator(".conversation-row", has_text="Cliente Suporte").locator(".inbox-name")).to_be_visible()
    # Dense: the inbox rides on the row's badge line, it does not open a line of its own.
    assert abs(inbox_badge.bounding_box()["y"] - status_badge.bounding_box()["y"]) < 2
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    row.locator(".row-link").click()
    head = page.locator(".thread-head")
    expect(head.locator(".inbox-name")).to_have_text("Vendas")
    # Beside the contact's name, not cut off with it, and clear of the phone's Details link.
    badge, title = head.locator(".inbox-name").bounding_box(), head.locator("#thread-title").bounding_box()
    assert badge["x"] >= title["x"] + title["width"] and badge["x"] + badge["width"] <= viewport["width"]
    if viewport == PHONE:
        assert badge["x"] + badge["width"] <= head.locator("[data-show-details]").bounding_box()["x"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

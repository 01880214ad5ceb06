"""The agent's workspace in Chromium: list | thread | details on a desktop, one pane at a time on
a phone; opening a conversation and coming back keeps filters, loaded pages and scroll."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.models import Role, utcnow
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


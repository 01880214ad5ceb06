"""Writing first in a real browser: from a contact's page to a sent template, the page saying
that only a template can open the conversation before anything is typed; the same page at a
phone's width."""

from portal.extensions import db as _db
from portal.models import Conversation, MessageTemplate, Role
from tests import factories


def test_an_agent_starts_a_conversation_from_a_contact_page(page, db, browser_login):
    agent = factories.agent(role=Role.agent, locale="en")
    contact = factories.contact(name="Joana Prado")
    _db.session.add(MessageTemplate(template_key="pedido_chegou", language="pt_BR", body="Olá, {{1}}!"))
    db.session.commit()
    browser_login(agent)
    page.goto(f"/contacts/{contact.id}")
    page.locator("#start-conversation").click()
    page.wait_for_url("**/conversations/new?contact_id=*")
    assert "only a template can start the conversation" in page.locator("#window-reason").inner_text()
    assert page.locator("textarea[name=body]").count() == 0
    page.get_by_label("Template").select_option(label="pedido_chegou")
    page.get_by_role("button", name="Use this template").click()
    page.get_by_label("Value for {{1}}").fill("Joana")
    page.get_by_role("button", name="Send template").click()
    page.wait_for_url("**/conversations/*")
    page.get_by_text("Olá, Joana!").first.wait_for()
    db.session.rollback()
    assert db.session.query(Conversation).one().assigned_to == agent.id


def test_a_new_number_from_the_inbox_on_a_phone(page, db, browser_login):
    agent = factories.agent(role=Role.agent, locale="en")
    db.session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(agent)
    page.goto("/inbox")
    page.locator("#new-conversation").click()
    page.get_by_label("Name or phone number").fill("11 98765-4321")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Name of the new contact").wait_for()
    assert page.locator("#window-reason").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

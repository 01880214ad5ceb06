"""A campaign in a real browser: the form maps the template's parameters to contact fields, the
preview shows what each recipient receives and who is excluded before anything is sent, and the
campaign's page follows the real worker's sending by itself; the pages fit a phone."""

from portal.extensions import db as _db
from portal.models import MessageTemplate, Role, utcnow
from portal.queue import OUTBOUND
from portal.services import campaigns, conversations
from tests import factories


def _audience():
    for name, opted_out in (("Ana Lima", False), ("Bruno Reis", False), ("Carla Dias", True)):
        contact = factories.contact(name=name, city="Recife")
        if opted_out:
            contact.opted_out_at, contact.opted_out_text = utcnow(), "SAIR"
        conversations.set_tags(factories.conversation(contact), ["vip"], by=None)
    _db.session.add(MessageTemplate(template_key="promo", language="pt_BR", body="Olá {{1}}, novidades em {{2}}!"))


def test_a_supervisor_previews_confirms_and_follows_a_campaign(page, db, browser_login, run_jobs, graph_simulator):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    _audience()
    db.session.commit()
    browser_login(supervisor)
    page.goto("/campaigns")
    page.locator("#new-campaign").click()
    page.get_by_label("Inbox", exact=True).select_option(label="WhatsApp")
    page.locator("#continue").click()
    page.get_by_label("Template").select_option(label="promo")
    page.locator("#continue").click()
    page.get_by_label("Name", exact=True).fill("Novidades")
    page.get_by_label("Value for {{1}}").select_option(label="First name")
    page.get_by_label("Value for {{2}}").select_option(label="City")
    page.get_by_label("Tags (any of them)").select_option(label="vip")
    page.locator("#preview-campaign").click()
    preview = page.locator("#preview")
    preview.get_by_text("Olá Ana, novidades em Recife!").wait_for()
    assert "Excluded: Opted out" in preview.inner_text()
    assert graph_simulator.sends() == []
    page.locator("#campaign-confirm").click()
    page.locator("#campaign-status").get_by_text("Sending").wait_for()
    db.session.rollback()
    run_jobs(OUTBOUND)
    campaigns.tick(commit=_db.session.commit)
    # The page polls its progress and shows the outcome without a reload.
    page.locator("#campaign-status").get_by_text("Completed").wait_for()
    assert page.locator('[data-count="sent"]').inner_text() == "2"
    assert page.locator('[data-count="excluded"]').inner_text() == "1"
    assert len(graph_simulator.sends()) == 2


def test_the_campaign_pages_fit_a_phone(page, db, browser_login):
    supervisor = factories.agent(role=Role.supervisor, locale="pt_BR")
    _audience()
    db.session.commit()
    template = _db.session.query(MessageTemplate).one()
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(supervisor)
    page.goto(f"/campaigns/new?inbox_id={factories.default_inbox().id}&template_id={template.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#name").fill("Celular")
    page.locator("#param_1").select_option(value="contact.first_name")
    page.locator("#param_2").select_option(value="contact.city")
    page.locator("#city").fill("Recife")
    page.locator("#preview-campaign").click()
    page.locator("#preview").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

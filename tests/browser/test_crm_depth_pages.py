"""Custom fields and LGPD tools in a real browser: the details panel saves a CPF over HTMX (a bad
one is refused beside its input, the good one shows formatted), and erasing a contact asks for the
name first."""

from portal.models import Contact, Role
from portal.services import custom_fields
from tests import factories


def test_the_details_panel_saves_a_cpf_and_shows_a_refusal_beside_it(page, db, browser_login):
    agent = factories.agent(role=Role.agent, locale="en")
    admin = factories.agent(role=Role.admin)
    custom_fields.create_definition(entity="contact", key="cpf", label="CPF", field_type="cpf", by=admin)
    conversation = factories.conversation(factories.contact(name="Ana Souza"), assigned_to=agent.id)
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")
    cpf = page.locator("#cf-contact-cpf")
    cpf.fill("529.982.247-26")
    page.locator("#save-custom-fields").click()
    page.locator("#cf-contact-cpf-errors").get_by_text("Not a valid CPF: check the digits.").wait_for()
    assert page.locator("#cf-contact-cpf").input_value() == "529.982.247-26"
    page.locator("#cf-contact-cpf").fill("52998224725")
    page.locator("#save-custom-fields").click()
    page.locator("#cf-contact-cpf-errors").wait_for(state="detached")
    assert page.locator("#cf-contact-cpf").input_value() == "529.982.247-25"
    db.session.expire_all()
    assert db.session.get(Contact, conversation.contact_id).custom_fields == {"cpf": "52998224725"}


def test_erasing_a_contact_asks_for_its_name_first(page, db, browser_login):
    admin = factories.agent(role=Role.admin, locale="en")
    contact = factories.contact(name="Rita Alves")
    factories.message(factories.conversation(contact), body="texto da Rita")
    db.session.commit()
    browser_login(admin)
    page.goto(f"/contacts/{contact.id}")
    page.locator("#contact-privacy").click()
    page.get_by_text("Erasing cannot be undone").wait_for()
    page.get_by_label("Type the contact's name to confirm").fill("Rita")
    page.locator("#erase-contact").click()
    page.get_by_text("Type the contact's name exactly as shown to confirm.").wait_for()
    page.get_by_label("Type the contact's name to confirm").fill("Rita Alves")
    page.locator("#erase-contact").click()
    page.locator("#contact-erased").wait_for()
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).erased_at is not None

"""The auto-rule form in a real browser: only the chosen trigger's parameter field is shown."""

from portal.models import MessageTemplate, Role
from tests import factories


def test_the_form_shows_the_parameter_of_the_chosen_trigger(page, db, browser_login):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    db.session.add(MessageTemplate(template_key="prazo", body="Olá {{1}}, seguimos com seu pedido."))
    db.session.commit()
    browser_login(supervisor)
    page.goto("/rules/new")

    keyword, minutes = page.get_by_label("Keyword"), page.get_by_label("Minutes without a reply")
    assert not keyword.is_visible() and not minutes.is_visible()

    page.get_by_label("When").select_option("no_reply_after")
    assert minutes.is_visible() and not keyword.is_visible()
    minutes.fill("20")
    page.get_by_label("Send template").select_option(label="prazo (pt_BR)")
    page.get_by_role("button", name="Save rule").click()

    page.wait_for_url("**/rules")
    assert (
        page.locator("tbody tr")
        .first.inner_text()
        .startswith("No reply to the customer after some minutes: 20 minutes")
    )

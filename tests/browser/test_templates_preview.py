"""The template form in a real browser: the preview follows the body as the supervisor types."""

from portal.models import Role
from tests import factories


def test_the_preview_fills_sample_values_while_typing(page, db, browser_login):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    db.session.commit()
    browser_login(supervisor)
    page.goto("/templates/new")

    page.get_by_label("Body").fill("Oi {{1}}, seu pedido {{2}} saiu.")
    page.get_by_label("Sample values for the preview").fill("Ana|#42")

    preview = page.locator("#template-preview .bubble")
    preview.get_by_text("#42").wait_for()
    assert preview.inner_text() == "Oi Ana, seu pedido #42 saiu."

    page.get_by_label("Body").fill("Oi {{1}}, pedido {{3}}")
    page.locator("#template-preview .errors").wait_for()

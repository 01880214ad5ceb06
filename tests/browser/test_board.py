"""The pipeline board in a real browser: move a card with the keyboard path and by dragging."""

from portal.models import ConversationStatus, Role
from tests import factories


def _supervisor_on_board(page, db, browser_login, name):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    conversation = factories.conversation(factories.contact(name=name), status=ConversationStatus.new)
    db.session.commit()
    browser_login(supervisor)
    page.goto("/board")
    return conversation


def test_a_card_moves_with_its_status_menu_and_keeps_focus(page, db, browser_login):
    conversation = _supervisor_on_board(page, db, browser_login, "Ana Souza")
    card = page.locator(f"#card-{conversation.id}")
    card.get_by_label("Move Ana Souza to").select_option("active")
    card.get_by_role("button", name="Move").click()

    active_column = page.locator('[data-board-column="active"]')
    active_column.locator(f"#card-{conversation.id}").wait_for()
    assert page.locator('[data-board-column="new"]').get_by_text("Ana Souza").count() == 0
    assert page.evaluate("document.activeElement.id") == f"move-{conversation.id}"
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.active


def test_dragging_a_card_to_another_column_moves_it(page, db, browser_login):
    conversation = _supervisor_on_board(page, db, browser_login, "Caio Reis")
    page.locator(f"#card-{conversation.id}").drag_to(page.locator('[data-board-column="waiting"]'))

    page.locator(f'[data-board-column="waiting"] #card-{conversation.id}').wait_for()
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.waiting

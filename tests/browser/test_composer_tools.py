"""The reply box's helpers in headless Chromium: "/" opens the quick replies and inserts one filled
for the conversation (keyboard only), a pasted text over WhatsApp's 4,096 characters is kept whole
and refused with a clear error (never cut), and the emoji picker inserts at the caret."""

from datetime import timedelta

from playwright.sync_api import expect

from portal.models import Message, QuickReply, utcnow
from tests import factories


def _conversation(db):
    conversation = factories.conversation(factories.contact(name="Fernanda Lima", phone="+5511987650001"))
    factories.message(conversation, body="Meu boleto venceu", sent_at=utcnow() - timedelta(minutes=4))
    return conversation


def test_slash_opens_quick_replies_and_enter_inserts_one_filled_for_the_contact(page, db, browser_login):
    agent = factories.agent(name="Gabriela Souza")
    conversation = _conversation(db)
    db.session.add_all([
        QuickReply(shortcut="boleto", body="Olá {{contact.first_name}}, segue o boleto. {{agent.first_name}}"),
        QuickReply(shortcut="bomdia", body="Bom dia, {{contact.name}}!"),
        QuickReply(shortcut="pix", body="Chave pix: {{agent.name}}", owner_id=None),
    ])
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    box = page.locator("#composer textarea[name=body]")
    box.focus()
    page.keyboard.type("Oi! /bo")
    options = page.locator("#quick-reply-options [role=option]")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")

    expect(box).to_have_value("Oi! Olá Fernanda, segue o boleto. Gabriela")
    expect(page.locator("[data-quick-reply-picker]")).to_be_hidden()

    page.keyboard.type(" /zzz")
    expect(page.locator("[data-quick-reply-empty]")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("[data-quick-reply-picker]")).to_be_hidden()
    expect(box).to_have_value("Oi! Olá Fernanda, segue o boleto. Gabriela /zzz")


def test_a_pasted_4100_character_text_is_kept_whole_and_refused_never_cut(page, db, browser_login):
    agent = factories.agent()
    conversation = _conversation(db)
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    text = "a" * 4100
    box = page.locator("#composer textarea[name=body]")
    box.focus()
    # A paste is an insertText of the whole clipboard: the browser applies maxlength to it.
    page.keyboard.insert_text(text)
    assert box.evaluate("el => el.value.length") == 4100
    expect(page.locator("[data-char-counter]")).to_contain_text("4 characters over the limit")

    page.click("#composer button[type=submit]")
    expect(page.locator("#composer .errors:not([data-attachment-error])")).to_contain_text("at most 4096 characters")
    assert page.locator("#composer textarea[name=body]").evaluate("el => el.value") == text
    assert db.session.query(Message).filter_by(direction="outbound").count() == 0


def test_emoji_picker_inserts_at_the_caret(page, db, browser_login):
    agent = factories.agent()
    conversation = _conversation(db)
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    box = page.locator("#composer textarea[name=body]")
    box.fill("Obrigado!")
    page.click("[data-emoji-toggle]")
    page.fill("[data-emoji-search]", "thumbs up")
    page.click("[data-emoji='👍']")
    expect(box).to_have_value("Obrigado!👍")
    expect(page.locator("[data-emoji-panel]")).to_be_hidden()
    expect(page.locator("[data-char-counter]")).to_have_text("10 / 4096")

"""The reply box's helpers in headless Chromium: "/" opens the quick replies and inserts one filled
for the conversation (keyboard only), and one that carries a PDF sends it as a document; a pasted
text over WhatsApp's 4,096 characters is kept whole and refused with a clear error (never cut); the
counter counts against a caption's 1,024 while a file is attached; the emoji picker inserts at the
caret."""

import io
from datetime import timedelta

from playwright.sync_api import expect

from portal.models import Message, QuickReply, utcnow
from portal.queue import OUTBOUND
from portal.services import quick_replies
from tests import factories
from tests.attachment_files import PDF


class _File:
    """A file as the quick-reply form brings it (werkzeug's FileStorage has these attributes)."""

    def __init__(self, data: bytes, filename: str, mimetype: str):
        self.stream, self.filename, self.mimetype = io.BytesIO(data), filename, mimetype


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


def test_a_quick_reply_with_a_pdf_picked_with_slash_reaches_the_simulator_as_a_document(
    app, page, db, browser_login, run_jobs, graph_simulator
):
    agent = factories.agent(name="Gabriela Souza")
    conversation = _conversation(db)
    reply = quick_replies.create(
        "tabela", "Olá {{contact.first_name}}, segue a tabela.", owner=None, by=agent,
        file=_File(PDF, "tabela.pdf", "application/pdf"),
    )
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    box = page.locator("#composer textarea[name=body]")
    box.focus()
    page.keyboard.type("/tab")
    expect(page.locator("#quick-reply-options [role=option]")).to_contain_text(["tabela.pdf"])
    page.keyboard.press("Enter")
    expect(box).to_have_value("Olá Fernanda, segue a tabela.")
    expect(page.locator("[data-attachment-chip]")).to_contain_text("tabela.pdf")
    # The text is now the file's caption: counted against a caption's 1,024 characters.
    expect(page.locator("[data-char-counter]")).to_have_text("29 / 1024")
    page.click("#composer button[type=submit]")

    expect(page.locator("#messages .media")).to_have_count(1)
    expect(page.locator("[data-attachment-chip]")).to_be_hidden()
    run_jobs(OUTBOUND)
    [sent] = graph_simulator.sends()
    assert sent["type"] == "document"
    assert (sent["document"]["caption"], sent["document"]["filename"]) == ("Olá Fernanda, segue a tabela.", "tabela.pdf")
    assert graph_simulator.state.media[sent["document"]["id"]].data == PDF
    db.session.expire_all()
    [message] = db.session.query(Message).filter_by(direction="outbound").all()
    assert message.media_url == reply.media_url


def test_the_counter_counts_against_a_caption_while_a_file_is_attached(page, db, browser_login):
    agent = factories.agent()
    conversation = _conversation(db)
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")

    box = page.locator("#composer textarea[name=body]")
    box.focus()
    page.keyboard.insert_text("a" * 1030)
    counter = page.locator("[data-char-counter]")
    expect(counter).to_have_text("1030 / 4096")

    page.set_input_files("[data-attachment-input]", files=[{"name": "nota.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(page.locator("[data-attachment-chip]")).to_contain_text("nota.pdf")
    expect(counter).to_contain_text("6 characters over the limit of a caption (1024)")

    page.click("[data-attachment-remove]")
    expect(counter).to_have_text("1030 / 4096")

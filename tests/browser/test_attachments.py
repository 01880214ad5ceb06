"""Attachments and voice notes in headless Chromium: an image pasted into the reply box and sent
reaches the Graph API simulator as a media upload and an image send; a file over WhatsApp's size
for its kind is refused before any upload; a voice note recorded from Chromium's fake microphone
is sent as voice audio (Ogg/Opus)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.models import Direction, Message, MessageStatus, utcnow
from portal.queue import OUTBOUND
from tests import factories
from tests.attachment_files import png
from tests.browser.conftest import BROWSER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS


def _conversation(db):
    conversation = factories.conversation(factories.contact(name="Fernanda Lima", phone="+5511987650001"))
    factories.message(conversation, body="Pode mandar a foto?", sent_at=utcnow() - timedelta(minutes=4))
    db.session.commit()
    return conversation


def _outbound(db) -> list[Message]:
    db.session.expire_all()
    return db.session.query(Message).filter_by(direction=Direction.outbound).all()


def _uploads(graph_simulator) -> list[dict]:
    return [r for r in graph_simulator.requests if r["endpoint"] == "media_upload"]


def test_an_image_pasted_and_sent_reaches_the_simulator_as_a_media_send(
    page, db, browser_login, graph_simulator, run_jobs
):
    conversation = _conversation(db)
    agent = factories.agent()
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")
    image = png(width=8, height=8)

    box = page.locator("#composer textarea[name=body]")
    box.focus()
    box.evaluate(
        """(box, data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "image.png", {type: "image/png"}));
            box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true}));
        }""",
        base64.b64encode(image).decode(),
    )
    expect(page.locator("[data-attachment-chip]")).to_contain_text("image.png")
    page.keyboard.type("Segue a foto")
    page.click("#composer button[type=submit]")

    expect(page.locator("#messages .media img")).to_have_count(1)
    expect(page.locator("[data-attachment-chip]")).to_be_hidden()
    [message] = _outbound(db)
    assert (message.message_type, message.body, message.status) == ("image", "Segue a foto", MessageStatus.queued)

    run_jobs(OUTBOUND)
    [upload] = _uploads(graph_simulator)
    assert upload["upload"]["type"] == "image/png" and upload["upload"]["size"] == len(image)
    [sent] = graph_simulator.sends()
    assert sent["type"] == "image"
    assert sent["image"]["caption"] == "Segue a foto"
    assert graph_simulator.state.media[sent["image"]["id"]].data == image


def test_a_file_too_big_for_its_kind_is_refused_before_any_upload(page, db, browser_login, graph_simulator):
    conversation = _conversation(db)
    agent = factories.agent()
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{conversation.id}")
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)

    page.set_input_files(
        "[data-attachment-input]",
        files=[{"name": "foto-grande.png", "mimeType": "image/png", "buffer": png(padding=6 * 1024 * 1024)}],
    )

    expect(page.locator("[data-attachment-error]")).to_contain_text("foto-grande.png is 6 MB: Image files may have at most 5 MB.")
    expect(page.locator("[data-attachment-chip]")).to_be_hidden()
    assert not any("/attachments" in url for url in posted)
    assert _outbound(db) == [] and _uploads(graph_simulator) == []


@pytest.fixture
def microphone_page(browser, live_server, db):
    """A page of a second Chromium whose microphone is the fake device (a beep), allowed without
    asking (launched from the session's Playwright: one per process)."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
        headless=True,
    )
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    context.grant_permissions(["microphone"])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    chromium.close()
    assert errors == [], f"console errors: {errors}"


def test_a_voice_note_recorded_from_the_fake_microphone_is_sent_as_voice_audio(
    microphone_page, db, graph_simulator, run_jobs
):
    from tests.conftest import TEST_PASSWORD

    page = microphone_page
    conversation = _conversation(db)
    agent = factories.agent()
    db.session.commit()
    page.goto("/login")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"/conversations/{conversation.id}")

    page.click("[data-voice-record]")
    expect(page.locator("[data-voice-status]")).to_be_visible()
    expect(page.locator("[data-voice-timer]")).to_have_text("0:01")
    page.click("[data-voice-stop]")
    expect(page.locator("[data-attachment-chip]")).to_contain_text("Voice note")
    page.click("#composer button[type=submit]")

    expect(page.locator("#messages .media audio")).to_have_count(1)
    [message] = _outbound(db)
    assert (message.message_type, message.media_mime_type, message.payload_json) == ("audio", "audio/ogg", {"voice": True})

    run_jobs(OUTBOUND)
    [upload] = _uploads(graph_simulator)
    assert upload["upload"]["type"] == "audio/ogg"
    [sent] = graph_simulator.sends()
    assert sent["type"] == "audio"
    assert sent["audio"] == {"id": sent["audio"]["id"], "voice": True}
    data = graph_simulator.state.media[sent["audio"]["id"]].data
    assert data.startswith(b"OggS") and b"OpusHead" in data[:100] and b"OpusTags" in data[:200]

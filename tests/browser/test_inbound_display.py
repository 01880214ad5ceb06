"""A thread fed with Meta-shaped notifications, in headless Chromium: the reaction sits on the
bubble it answers, the ad the customer came from is beside the thread, a location opens a map,
an order, an unsupported message, an edit and a deletion read as sentences (docs/whatsapp-inbound.md)."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import ConversationStatus, Direction
from tests import factories

OURS = "wamid.HBgNNTUyMTk5ODc2NTQzMhUCABEYEjAUTBOUND01"


@pytest.fixture
def thread_with_every_kind(db, deliver, whatsapp_payload):
    """Maria's conversation after one notification of each kind; returns its id."""
    contact = factories.contact(phone="+5521998765432", name="Maria Souza")
    conversation = factories.conversation(contact, status=ConversationStatus.active)
    factories.message(conversation, Direction.outbound, body="Entregamos, sim! Qual o endereço?", external_id=OURS)
    db.session.commit()
    deleted = whatsapp_payload("text")
    message = deleted["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(id="wamid.DELETED", text={"body": "Meu CPF é 123.456.789-00"})
    revoke = whatsapp_payload("revoke")
    revoke["entry"][0]["changes"][0]["value"]["messages"][0]["revoke"]["original_message_id"] = "wamid.DELETED"
    deliver(
        whatsapp_payload("text_from_ad"),
        whatsapp_payload("text"),
        whatsapp_payload("location"),
        whatsapp_payload("order"),
        whatsapp_payload("unsupported_poll"),
        deleted,
        whatsapp_payload("reaction"),
        whatsapp_payload("edit"),
        revoke,
    )
    return conversation.id


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}])
def test_every_kind_of_inbound_reads_for_what_it_is(page, db, browser_login, thread_with_every_kind, viewport):
    page.set_viewport_size(viewport)
    agent = factories.agent(locale="en")
    db.session.commit()
    browser_login(agent)
    page.goto(f"/conversations/{thread_with_every_kind}")

    ours = page.locator(".msg-outbound", has_text="Entregamos, sim!")
    expect(ours.locator(".reaction")).to_contain_text("👍")
    expect(page.locator(".msg", has_text="[reaction]")).to_have_count(0)

    referral = page.locator(".referral")
    expect(referral).to_contain_text("Plano Pro com 30 dias grátis")
    expect(referral.locator("a")).to_have_attribute("href", "https://fb.me/3cr4Wqqkv")

    place = page.locator(".msg .location")
    expect(place).to_contain_text("Loja Centro")
    expect(place.locator("a.map-link")).to_have_attribute("href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=-22\.906800&mlon=-43\.172900"))
    expect(page.locator(".msg .order")).to_contain_text("Order of 3 items")
    expect(page.locator(".msg .unsupported")).to_contain_text("The customer sent a poll")
    expect(page.locator(".msg", has_text="São Gonçalo")).to_contain_text("Edited by the customer")
    expect(page.locator(".msg", has_text="Meu CPF")).to_contain_text("The customer deleted this message")
    for visible in (ours.locator(".reaction"), place, referral):
        if visible is referral and viewport["width"] < 800:
            page.click("[data-show-details]")  # on a phone the details are a pane of their own
        visible.scroll_into_view_if_needed()
        box = visible.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]

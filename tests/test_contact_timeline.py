"""The contact page's timeline: conversations on every channel, notes, CRM events, opt-out and
opt-in, newest first and paged, within the agent's inboxes."""

from datetime import timedelta

from portal.models import Channel, ConversationStatus, Direction, Role, utcnow
from portal.services import audit, contact_admin, contact_timeline
from tests import factories


def _history(app, monkeypatch):
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_URL", "http://crm.invalid/hook")
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_SECRET", "s")
    now = utcnow()
    contact = factories.contact(name="Rita Alves", email="rita@example.com")
    whatsapp = factories.conversation(contact, started_at=now - timedelta(days=10))
    email_inbox = factories.inbox(channel=Channel.email, name="E-mail", phone_number_id=None)
    email = factories.conversation(
        contact,
        inbox=email_inbox,
        channel=Channel.email,
        started_at=now - timedelta(days=5),
        status=ConversationStatus.closed,
        closed_at=now - timedelta(days=4),
    )
    factories.message(
        whatsapp,
        Direction.internal,
        body="cliente pediu desconto",
        message_type="note",
        status="sent",
        external_id=None,
        sent_at=now - timedelta(days=9),
    )
    factories.message(
        email,
        Direction.internal,
        body="nota na caixa de e-mail",
        message_type="note",
        status="sent",
        external_id=None,
        sent_at=now - timedelta(days=4, hours=12),
    )
    opt_out = audit.record("contact.opted_out", target=contact, word="SAIR")
    opt_out.at = now - timedelta(days=3)
    contact_admin.update(contact, by=None, city="Olinda")  # a contact.updated CRM event, now
    return contact, whatsapp, email, email_inbox


def test_the_timeline_lists_everything_newest_first_and_pages(app, db, monkeypatch):
    contact, whatsapp, email, email_inbox = _history(app, monkeypatch)
    supervisor = factories.agent(Role.supervisor)
    entries = contact_timeline.page(contact, supervisor, 1, per_page=50).entries
    assert [e.kind for e in entries] == [
        "crm",
        "consent",
        "closed",
        "note",
        "conversation",
        "note",
        "conversation",
    ]
    assert entries[0].row.event_type == "contact.updated"
    assert [e.row.id for e in entries if e.kind == "conversation"] == [email.id, whatsapp.id]
    first, second, third = (contact_timeline.page(contact, supervisor, n, per_page=3) for n in (1, 2, 3))
    assert (first.has_more, second.has_more, third.has_more) == (True, True, False)
    paged = [(e.kind, e.row.id) for p in (first, second, third) for e in p.entries]
    assert paged == [(e.kind, e.row.id) for e in entries]


def test_an_agent_sees_only_the_conversations_and_notes_of_their_inboxes(app, db, monkeypatch):
    contact, whatsapp, email, _ = _history(app, monkeypatch)
    agent = factories.agent()  # a member of the WhatsApp inbox only
    entries = contact_timeline.page(contact, agent, 1).entries
    shown = {(e.kind, getattr(e.row, "conversation_id", e.row.id)) for e in entries if e.kind != "crm"}
    assert ("conversation", whatsapp.id) in shown and ("note", whatsapp.id) in shown
    assert ("conversation", email.id) not in shown and ("closed", email.id) not in shown
    assert ("note", email.id) not in shown


def test_the_contact_page_shows_the_timeline_and_its_older_page(app, client, db, login_as, monkeypatch):
    login_as(Role.supervisor)
    contact, whatsapp, *_ = _history(app, monkeypatch)
    monkeypatch.setattr(contact_timeline, "PER_PAGE", 2)
    db.session.commit()
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert 'id="contact-timeline"' in page and "Sent to the CRM: contact.updated" in page
    assert "opted out" in page and "cliente pediu desconto" not in page  # on a later page
    third = client.get(f"/contacts/{contact.id}?page=3", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "<html" not in third and "cliente pediu desconto" in third and "?page=4" in third
    last = client.get(f"/contacts/{contact.id}?page=4", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'Conversation <a href="/conversations/{whatsapp.id}">#{whatsapp.id}</a> started' in last
    assert "Older" not in last

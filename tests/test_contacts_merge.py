"""Merging two contacts moves their conversations and loses nothing."""

from __future__ import annotations

from datetime import timedelta

from portal.models import (
    AuditLog,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    Priority,
    Role,
    Tag,
    utcnow,
)
from tests import factories


def merge(client, survivor, other):
    """Merge as the confirmation page's button does."""
    return client.post(f"/contacts/{survivor.id}/merge", data={"other_id": other.id, "confirmed": "yes"})


def test_merge_moves_conversations_fills_blanks_and_deletes_the_duplicate(client, login_as, db):
    supervisor = login_as(Role.supervisor)
    survivor = factories.contact(name="Helena", email=None, city="Recife")
    other = factories.contact(name="Helena S.", email="helena@example.com", city="Olinda")
    old = factories.conversation(other, status=ConversationStatus.closed)
    factories.message(old, body="antiga")
    db.session.commit()
    other_id, other_phone = other.id, other.phone
    assert merge(client, survivor, other).status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, other_id) is None
    assert db.session.get(Conversation, old.id).contact_id == survivor.id
    assert (survivor.name, survivor.city, survivor.email) == ("Helena", "Recife", "helena@example.com")
    entry = db.session.query(AuditLog).filter_by(action="contact.merged").one()
    assert entry.actor_id == supervisor.id
    assert entry.details["merged_contact"]["phone"] == other_phone  # the removed number is on record
    assert entry.details["filled"] == ["email"]


def test_two_open_conversations_become_one_with_every_message(client, login_as, db):
    login_as(Role.supervisor)
    now = utcnow()
    survivor = factories.contact(name="Iris")
    other = factories.contact(name="Iris dup")
    older = factories.conversation(other, started_at=now - timedelta(days=2), priority=Priority.low)
    newer = factories.conversation(survivor, started_at=now - timedelta(hours=1), priority=Priority.urgent)
    older.tags = [Tag(name="lead")]
    newer.tags = [Tag(name="vip")]
    factories.message(older, body="primeira")
    factories.message(newer, Direction.outbound, body="resposta")
    factories.message(newer, body="segunda")
    db.session.commit()
    assert merge(client, survivor, other).status_code == 302
    db.session.expire_all()
    open_ones = [c for c in survivor.conversations if c.is_open]
    assert [c.id for c in open_ones] == [older.id]
    kept = open_ones[0]
    assert sorted(m.body for m in db.session.query(Message).filter_by(conversation_id=kept.id)) == [
        "primeira",
        "resposta",
        "segunda",
    ]
    assert [t.name for t in kept.tags] == ["lead", "vip"]
    assert kept.priority == Priority.urgent
    emptied = db.session.get(Conversation, newer.id)
    assert emptied.status == ConversationStatus.closed and emptied.contact_id == survivor.id
    assert emptied.closed_at is not None and emptied.sla.resolved_at is not None
    assert db.session.query(Message).filter_by(conversation_id=newer.id).count() == 0
    assert db.session.query(Message).count() == 3


def test_open_conversations_in_different_inboxes_both_stay_open(db):
    from portal.services import contact_admin

    survivor = factories.contact()
    other = factories.contact()
    sales = factories.inbox(name="Sales")
    factories.conversation(survivor)
    factories.conversation(other, inbox=sales)
    contact_admin.merge(survivor, other, by=None)
    db.session.commit()
    db.session.expire_all()
    assert sorted(c.inbox.name for c in survivor.conversations if c.is_open) == ["Sales", "WhatsApp"]


def test_a_placeholder_name_is_replaced_by_the_duplicates_real_name(db):
    from portal.services import contact_admin

    survivor = factories.contact(phone="+5511987650000", name="+5511987650000")
    other = factories.contact(name="João Real")
    contact_admin.merge(survivor, other, by=None)
    db.session.commit()
    assert survivor.name == "João Real"


def test_merge_page_finds_candidates_and_refuses_merging_a_contact_with_itself(client, login_as, db):
    login_as(Role.supervisor)
    survivor = factories.contact(name="Julia")
    factories.contact(name="Julia Dup")
    db.session.commit()
    html = client.get(f"/contacts/{survivor.id}/merge?q=julia").get_data(as_text=True)
    assert "Julia Dup" in html and html.count('name="other_id"') == 1
    response = merge(client, survivor, survivor)
    assert response.status_code == 200 and "Choose a different contact" in response.get_data(as_text=True)


def test_merging_first_shows_both_contacts_and_the_conversations_that_move(client, login_as, db):
    login_as(Role.supervisor)
    survivor = factories.contact(name="Helena", email=None, city="Recife")
    other = factories.contact(name="Helena S.", email="helena@example.com", city="Olinda")
    mine = factories.conversation(survivor, status=ConversationStatus.active, started_at=utcnow() - timedelta(days=2))
    theirs = factories.conversation(other, status=ConversationStatus.new)
    old = factories.conversation(other, status=ConversationStatus.closed)
    db.session.commit()
    response = client.post(f"/contacts/{survivor.id}/merge", data={"other_id": other.id})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Merge Helena S. into Helena?" in html
    assert "Recife" in html and "Olinda" in html and "helena@example.com" in html
    assert f'id="moving-{theirs.id}"' in html and f'id="moving-{old.id}"' in html
    assert f"the messages of #{theirs.id} move into #{mine.id}" in html
    assert 'name="confirmed" value="yes"' in html
    db.session.expire_all()
    assert db.session.get(Contact, other.id) is not None  # nothing merged yet
    assert db.session.query(AuditLog).filter_by(action="contact.merged").count() == 0

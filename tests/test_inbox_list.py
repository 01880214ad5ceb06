"""The conversation list at /inbox: role scope, what each row shows, every filter, search,
keyset pagination, HTMX fragments and the cheap "changed since" poll."""

import re
from datetime import timedelta

import pytest

from portal.models import (
    Channel,
    ConversationStatus,
    Direction,
    MessageStatus,
    Priority,
    Role,
    SlaMetric,
    Tag,
    utcnow,
)
from portal.services import conversations, inbox_queries
from tests import factories

HTMX = {"HX-Request": "true"}


def _listed_ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'data-conversation-id="(\d+)"', response.get_data(as_text=True))]


def test_agent_sees_own_and_unassigned_conversations_but_not_others(client, db, login_as):
    me = login_as(Role.agent)
    someone_else = factories.agent()
    mine = factories.conversation(assigned_to=me.id)
    unassigned = factories.conversation()
    theirs = factories.conversation(assigned_to=someone_else.id)
    db.session.commit()

    listed = _listed_ids(client.get("/inbox"))
    assert sorted(listed) == sorted([mine.id, unassigned.id])
    assert theirs.id not in listed


def test_supervisor_sees_every_conversation(client, db, login_as):
    login_as(Role.supervisor)
    other = factories.agent()
    rows = [factories.conversation(), factories.conversation(assigned_to=other.id)]
    db.session.commit()
    assert sorted(_listed_ids(client.get("/inbox"))) == sorted(r.id for r in rows)


def test_row_shows_contact_preview_unread_badges_tags_and_assignee(client, db, login_as):
    me = login_as(Role.agent, name="Beatriz Agente")
    contact = factories.contact(name="Ana Souza", phone="+5511987654321")
    conversation = factories.conversation(contact, assigned_to=me.id, priority=Priority.high)
    factories.message(conversation, body="primeira", sent_at=utcnow() - timedelta(minutes=3))
    factories.message(conversation, body="Quero saber do pedido 42", sent_at=utcnow() - timedelta(minutes=2))
    factories.message(conversation, body="lida", sent_at=utcnow() - timedelta(minutes=4), read_at=utcnow())
    conversations.set_tags(conversation, ["vip"], by=me)
    db.session.commit()

    page = client.get("/inbox").get_data(as_text=True)
    assert "Ana Souza" in page
    assert "(11) 98765-4321" in page
    assert "Quero saber do pedido 42" in page
    assert "2 unread" in page
    assert "priority-high" in page and "status-new" in page
    assert "#vip" in page
    assert "Beatriz Agente" in page


def test_waiting_time_is_marked_when_past_the_first_response_target(client, db, login_as):
    login_as(Role.agent)
    late = factories.conversation(priority=Priority.urgent, started_at=utcnow() - timedelta(minutes=30))
    factories.message(late, sent_at=utcnow() - timedelta(minutes=30))
    recent = factories.conversation(priority=Priority.low, started_at=utcnow() - timedelta(minutes=30))
    factories.message(recent, sent_at=utcnow() - timedelta(minutes=30))
    db.session.commit()

    page = client.get("/inbox").get_data(as_text=True)
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'data-conversation-id="(\d+)".*?</li>', page, re.S)}
    assert "past target" in rows[late.id] and "overdue" in rows[late.id]
    assert "Waiting" in rows[recent.id] and "past target" not in rows[recent.id]


def test_a_delivered_human_reply_or_a_recorded_first_response_ends_the_wait(client, db, login_as):
    me = login_as(Role.agent)
    replied = factories.conversation(started_at=utcnow() - timedelta(hours=6))
    factories.message(replied, sent_at=utcnow() - timedelta(hours=6))
    factories.message(replied, Direction.outbound, sender_agent_id=me.id)
    recorded = factories.conversation(started_at=utcnow() - timedelta(hours=6))
    factories.message(recorded, sent_at=utcnow() - timedelta(hours=6))
    db.session.add(SlaMetric(conversation_id=recorded.id, first_response_at=utcnow()))
    automatic_only = factories.conversation(started_at=utcnow() - timedelta(hours=6))
    factories.message(automatic_only, sent_at=utcnow() - timedelta(hours=6))
    factories.message(automatic_only, Direction.outbound, is_automatic=True)
    failed_only = factories.conversation(started_at=utcnow() - timedelta(hours=6))
    factories.message(failed_only, sent_at=utcnow() - timedelta(hours=6))
    factories.message(failed_only, Direction.outbound, sender_agent_id=me.id, status=MessageStatus.failed)
    db.session.commit()

    page = client.get("/inbox").get_data(as_text=True)
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'data-conversation-id="(\d+)".*?</li>', page, re.S)}
    assert "Waiting" not in rows[replied.id]
    assert "Waiting" not in rows[recorded.id]
    assert "Waiting" in rows[automatic_only.id]
    assert "Waiting" in rows[failed_only.id]


def test_open_is_the_default_status_filter(client, db, login_as):
    login_as(Role.agent)
    open_ = factories.conversation(status=ConversationStatus.active)
    closed = factories.conversation(status=ConversationStatus.closed)
    lost = factories.conversation(status=ConversationStatus.lost)
    db.session.commit()

    assert _listed_ids(client.get("/inbox")) == [open_.id]
    assert _listed_ids(client.get("/inbox?status=closed")) == [closed.id]
    assert sorted(_listed_ids(client.get("/inbox?status=all"))) == sorted([open_.id, closed.id, lost.id])


def test_priority_channel_and_tag_filters(client, db, login_as):
    me = login_as(Role.agent)
    urgent = factories.conversation(priority=Priority.urgent)
    email = factories.conversation(channel=Channel.email)
    tagged = factories.conversation()
    conversations.set_tags(tagged, ["boleto"], by=me)
    db.session.commit()

    assert _listed_ids(client.get("/inbox?priority=urgent")) == [urgent.id]
    assert _listed_ids(client.get("/inbox?channel=email")) == [email.id]
    assert _listed_ids(client.get("/inbox?tag=boleto")) == [tagged.id]
    assert _listed_ids(client.get("/inbox?tag=unknown")) == []


def test_assignee_filter_mine_unassigned_all(client, db, login_as):
    me = login_as(Role.supervisor)
    other = factories.agent()
    mine = factories.conversation(assigned_to=me.id)
    unassigned = factories.conversation()
    theirs = factories.conversation(assigned_to=other.id)
    db.session.commit()

    assert _listed_ids(client.get("/inbox?assignee=mine")) == [mine.id]
    assert _listed_ids(client.get("/inbox?assignee=unassigned")) == [unassigned.id]
    assert sorted(_listed_ids(client.get("/inbox?assignee=all"))) == sorted([mine.id, unassigned.id, theirs.id])


@pytest.mark.parametrize(
    "query",
    ["Ana", "souza", "+55 11 98765-4321", "(11) 98765-4321", "11987654321", "+55 11 8765-4321", "4321", "pedido 42"],
)
def test_search_finds_by_name_phone_in_any_format_and_message_body(client, db, login_as, query):
    login_as(Role.agent)
    ana = factories.conversation(factories.contact(name="Ana Souza", phone="+5511987654321"))
    factories.message(ana, body="Sobre o PEDIDO 42, por favor")
    other = factories.conversation(factories.contact(name="Bruno Lima", phone="+5521912345678"))
    factories.message(other, body="bom dia")
    db.session.commit()

    assert _listed_ids(client.get("/inbox", query_string={"q": query})) == [ana.id]


def test_search_for_a_whole_phone_number_matches_the_contacts_phone_not_message_text(client, db, login_as):
    login_as(Role.agent)
    ana = factories.conversation(factories.contact(name="Ana Souza", phone="+5511987654321"))
    other = factories.conversation(factories.contact(name="Bruno Lima", phone="+5521912345678"))
    factories.message(other, body="Liga pra Ana: +55 11 98765-4321")
    db.session.commit()

    assert _listed_ids(client.get("/inbox", query_string={"q": "+55 11 98765-4321"})) == [ana.id]
    assert _listed_ids(client.get("/inbox", query_string={"q": "+55 11 00004-2424"})) == []
    assert sorted(_listed_ids(client.get("/inbox", query_string={"q": "98765-4321"}))) == sorted([ana.id, other.id])


def test_search_treats_like_wildcards_literally(client, db, login_as):
    login_as(Role.agent)
    factories.conversation(factories.contact(name="Ana"))
    db.session.commit()
    assert _listed_ids(client.get("/inbox", query_string={"q": "%"})) == []


def test_keyset_pagination_walks_every_conversation_once_newest_first(client, db, login_as):
    login_as(Role.agent)
    base = utcnow()
    rows = [factories.conversation(last_message_at=base - timedelta(minutes=i % 7)) for i in range(30)]
    db.session.commit()
    expected = [c.id for c in sorted(rows, key=lambda c: (c.last_message_at, c.id), reverse=True)]

    first = client.get("/inbox")
    seen = _listed_ids(first)
    assert len(seen) == 25
    next_url = re.search(r'hx-get="(/inbox\?after=[^"]+)"', first.get_data(as_text=True)).group(1)
    second = client.get(next_url.replace("&amp;", "&"), headers=HTMX)
    more = _listed_ids(second)
    assert "<html" not in second.get_data(as_text=True)
    assert seen + more == expected
    assert "Older conversations" not in second.get_data(as_text=True)


def test_filter_change_over_htmx_answers_the_list_fragment_only(client, db, login_as):
    login_as(Role.agent)
    factories.conversation(priority=Priority.high)
    db.session.commit()

    full = client.get("/inbox?priority=high").get_data(as_text=True)
    fragment = client.get("/inbox?priority=high", headers=HTMX).get_data(as_text=True)
    assert "<html" in full and 'hx-push-url="true"' in full
    assert "<html" not in fragment and 'id="inbox-list"' in fragment
    restore = client.get("/inbox?priority=high", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_unknown_filter_values_fall_back_to_defaults(client, db, login_as):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    assert _listed_ids(client.get("/inbox?status=bogus&priority=x&assignee=y&channel=z&after=junk")) == [
        conversation.id
    ]


def test_poll_answers_204_until_something_changes(client, db, login_as):
    me = login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    page = client.get("/inbox").get_data(as_text=True)
    poll_url = re.search(r'hx-get="(/inbox/changes\?[^"]+)"', page).group(1).replace("&amp;", "&")

    assert client.get(poll_url, headers=HTMX).status_code == 204

    factories.message(conversation, body="nova mensagem")
    db.session.commit()
    changed = client.get(poll_url, headers=HTMX)
    assert changed.status_code == 200 and "nova mensagem" in changed.get_data(as_text=True)

    page = client.get("/inbox").get_data(as_text=True)
    poll_url = re.search(r'hx-get="(/inbox/changes\?[^"]+)"', page).group(1).replace("&amp;", "&")
    conversations.set_priority(conversation, Priority.urgent, by=me)
    db.session.commit()
    assert "priority-urgent" in client.get(poll_url, headers=HTMX).get_data(as_text=True)


def test_poll_keeps_the_filters(client, db, login_as):
    login_as(Role.agent)
    factories.conversation(priority=Priority.low)
    db.session.commit()
    page = client.get("/inbox?priority=urgent").get_data(as_text=True)
    poll_url = re.search(r'hx-get="(/inbox/changes\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "priority=urgent" in poll_url
    factories.message(factories.conversation(priority=Priority.low))
    db.session.commit()
    assert _listed_ids(client.get(poll_url, headers=HTMX)) == []


def test_tags_filter_lists_existing_tags(client, db, login_as):
    login_as(Role.agent)
    db.session.add(Tag(name="reembolso"))
    db.session.commit()
    assert '<option value="reembolso">reembolso</option>' in client.get("/inbox").get_data(as_text=True)


def test_a_live_refresh_keeps_as_many_rows_as_the_tab_loaded(client, db, login_as):
    login_as(Role.agent)
    for _ in range(inbox_queries.PAGE_SIZE + 5):
        factories.conversation()
    db.session.commit()
    page = client.get("/inbox").get_data(as_text=True)
    poll_url = re.search(r'hx-get="(/inbox/changes\?[^"]+)"', page).group(1).replace("&amp;", "&")

    refreshed = client.get(poll_url.replace("since=", "since=stale") + f"&loaded={inbox_queries.PAGE_SIZE + 5}",
                           headers=HTMX)

    assert len(_listed_ids(refreshed)) == inbox_queries.PAGE_SIZE + 5

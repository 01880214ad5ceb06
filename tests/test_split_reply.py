"""A reply over the channel's limit goes out in parts only with the agent's consent, in order
(portal/services/outbound.py, queue_reply_in_parts): each part ends at a paragraph, line or word
when one is within the limit, the next part is sent only once the previous one was accepted, and
a part that fails holds back the ones after it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from portal.models import AuditLog, Direction, Message, MessageStatus
from portal.services.outbound import split_text
from tests import factories


def _reply(client, conversation, body, **extra):
    return client.post(f"/conversations/{conversation.id}/reply", data={"body": body, **extra},
                       headers={"HX-Request": "true"}).get_data(as_text=True)


def _outbound(db) -> list[Message]:
    return db.session.query(Message).filter_by(direction=Direction.outbound).order_by(Message.id).all()


def test_parts_end_at_a_paragraph_then_a_line_then_a_word_else_at_the_limit():
    assert split_text("aaaa bbbb\n\ncccc dddd", 12) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("aaaa\nbbbb cccc", 11) == ["aaaa", "bbbb cccc"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]
    assert split_text("short", 10) == ["short"]


@given(st.text(alphabet=st.sampled_from("ab \n"), min_size=1, max_size=300), st.integers(min_value=3, max_value=40))
def test_every_part_fits_and_only_breaks_are_dropped(text, limit):
    text = text.strip()
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts) or not text
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_an_over_limit_reply_is_refused_with_an_offer_and_nothing_queued(client, db, login_as):
    login_as()
    conversation = factories.conversation()
    db.session.commit()
    page = _reply(client, conversation, ("palavra " * 600).strip())
    assert "A message holds at most 4096 characters." in page
    assert "Send as 2 messages" in page
    assert _outbound(db) == []


def test_with_consent_the_parts_are_sent_in_order_one_after_the_other(client, db, login_as, run_jobs, graph_simulator):
    login_as()
    conversation = factories.conversation()
    db.session.commit()
    text = "\n\n".join(f"Parágrafo {n}: " + "texto " * 300 for n in range(5))
    _reply(client, conversation, text, split="1")
    parts = _outbound(db)
    assert len(parts) == 3 and [p.payload_json["split"]["part"] for p in parts] == [1, 2, 3]
    assert all(len(p.body) <= 4096 for p in parts)
    assert db.session.query(AuditLog).filter_by(action="message.split").count() == 1

    run_jobs("outbound")

    assert [send["text"]["body"] for send in graph_simulator.sends()] == [p.body for p in parts]
    db.session.expire_all()
    assert {p.status for p in _outbound(db)} == {MessageStatus.sent}


def test_a_part_that_fails_holds_back_the_parts_after_it(client, db, login_as, run_jobs, graph_simulator):
    login_as()
    conversation = factories.conversation()
    db.session.commit()
    _reply(client, conversation, "x " * 5000, split="1")
    graph_simulator.fail(131026)
    run_jobs("outbound")

    db.session.expire_all()
    parts = _outbound(db)
    assert len(parts) == 3
    assert [p.status for p in parts] == [MessageStatus.failed] * 3
    assert "held back" in parts[1].error_title and "held back" in parts[2].error_title
    assert graph_simulator.sends() and len(graph_simulator.sends()) == 1

"""Replies and templates go out through the outbound queue: stored queued, posted by the send
job to the Graph API (the simulator), retried by error code, never sent twice once WhatsApp's id
is recorded."""

from datetime import timedelta

import pytest
from rq.registry import FailedJobRegistry

from portal.models import Direction, Message, MessageStatus, MessageTemplate, Role, utcnow
from portal.queue import OUTBOUND, enqueue_now, get_queue
from portal.services import outbound, settings
from tests import factories


@pytest.fixture
def agent(login_as):
    return login_as(Role.agent)


def _reply(client, db, conversation, body="Olá, como posso ajudar?", **data):
    response = client.post(
        f"/conversations/{conversation.id}/reply", data={"body": body, **data}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    db.session.expire_all()
    return response


def _only_outbound(db) -> Message:
    return db.session.query(Message).filter_by(direction=Direction.outbound).one()


def test_reply_is_stored_queued_then_the_job_sends_it(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation()
    db.session.commit()

    response = _reply(client, db, conversation)
    message = _only_outbound(db)
    assert message.status == MessageStatus.queued
    assert message.sender_agent_id == agent.id and not message.is_automatic
    assert 'data-status="queued"' in response.get_data(as_text=True)

    run_jobs(OUTBOUND)
    db.session.expire_all()
    assert message.status == MessageStatus.sent
    assert message.external_id.startswith("wamid.")
    assert message.send_attempts == 1
    [sent] = graph_simulator.sends()
    assert sent["to"] == conversation.contact.wa_id
    assert sent["text"]["body"] == "Olá, como posso ajudar?"
    assert "context" not in sent


def test_a_reply_to_a_customer_message_carries_its_context(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation()
    inbound = factories.message(conversation, external_id="wamid.original")
    db.session.commit()

    _reply(client, db, conversation, reply_to=str(inbound.id))
    run_jobs(OUTBOUND)
    assert graph_simulator.sends()[0]["context"] == {"message_id": "wamid.original"}


@pytest.mark.parametrize("code", [130429, 131056, 4, 80007, 131000, 2, 503])
def test_transient_errors_are_retried_until_the_send_succeeds(client, db, agent, run_jobs, graph_simulator, code):
    conversation = factories.conversation()
    db.session.commit()
    graph_simulator.fail(code, times=2, endpoint="messages")

    _reply(client, db, conversation)
    run_jobs(OUTBOUND)
    db.session.expire_all()
    message = _only_outbound(db)
    assert message.status == MessageStatus.sent
    assert message.send_attempts == 3
    assert message.error_code is None and message.error_title is None


def test_exhausted_retries_leave_the_message_failed_and_the_job_in_the_failed_registry(
    client, db, agent, run_jobs, graph_simulator
):
    conversation = factories.conversation()
    db.session.commit()
    graph_simulator.fail(130429, times=outbound.SEND_RETRIES + 5, endpoint="messages")

    _reply(client, db, conversation)
    run_jobs(OUTBOUND)
    db.session.expire_all()
    message = _only_outbound(db)
    assert message.status == MessageStatus.failed
    assert message.send_attempts == outbound.SEND_RETRIES + 1
    assert message.error_code == 130429
    assert message.external_id is None
    registry = FailedJobRegistry(queue=get_queue(OUTBOUND))
    assert registry.count == 1

    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert 'data-status="failed"' in page
    assert "rate limit" in page


def test_an_admin_requeueing_the_dead_letter_sends_the_message_again(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation()
    db.session.commit()
    graph_simulator.fail(503, times=outbound.SEND_RETRIES + 1, endpoint="messages")
    _reply(client, db, conversation)
    run_jobs(OUTBOUND)
    registry = FailedJobRegistry(queue=get_queue(OUTBOUND))
    [job_id] = registry.get_job_ids()
    assert _only_outbound(db).status == MessageStatus.failed

    registry.requeue(job_id)
    run_jobs(OUTBOUND)
    db.session.expire_all()
    message = _only_outbound(db)
    assert message.status == MessageStatus.sent
    assert message.external_id is not None
    assert registry.count == 0


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (131047, "send a template instead"),
        (131026, "Undeliverable"),
        (100, "refused a parameter"),
        (131008, "parameter is missing"),
        (132001, "template does not exist"),
        (190, "access token expired"),
    ],
)
def test_permanent_errors_fail_at_once_with_a_readable_reason(
    client, db, agent, run_jobs, graph_simulator, code, reason
):
    conversation = factories.conversation()
    db.session.commit()
    graph_simulator.fail(code, times=5, endpoint="messages")

    _reply(client, db, conversation)
    run_jobs(OUTBOUND)
    db.session.expire_all()
    message = _only_outbound(db)
    assert message.status == MessageStatus.failed
    assert message.send_attempts == 1
    assert message.error_code == code
    assert len(graph_simulator.sends()) == 1
    assert FailedJobRegistry(queue=get_queue(OUTBOUND)).count == 0

    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert reason in page


def test_a_message_is_never_sent_twice_once_the_api_id_is_recorded(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation()
    db.session.commit()
    _reply(client, db, conversation)
    run_jobs(OUTBOUND)
    message = _only_outbound(db)

    # A duplicate job (a redelivered enqueue, an admin requeue) finds the recorded id and stops,
    # even if the row's status were still queued.
    message.status = MessageStatus.queued
    db.session.commit()
    enqueue_now(outbound.SEND_JOB, message.id, queue=OUTBOUND)
    run_jobs(OUTBOUND)
    assert len(graph_simulator.sends()) == 1


def test_a_timed_out_send_is_retried_and_that_is_the_at_least_once_edge(
    client, db, agent, run_jobs, graph_simulator
):
    """The simulator accepts the first send but answers after the client gave up: no id was
    recorded, so the retry sends again (README: Delivery guarantees)."""
    conversation = factories.conversation()
    db.session.commit()
    graph_simulator.fail("timeout", times=1, delay=1.5, endpoint="messages")

    _reply(client, db, conversation)
    run_jobs(OUTBOUND)
    db.session.expire_all()
    message = _only_outbound(db)
    assert message.status == MessageStatus.sent
    assert message.send_attempts == 2
    assert len(graph_simulator.sends()) == 2


def test_a_failed_message_can_be_sent_again_from_its_bubble(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation()
    db.session.commit()
    graph_simulator.fail(131026, times=1, endpoint="messages")
    _reply(client, db, conversation)
    run_jobs(OUTBOUND)
    message = _only_outbound(db)
    assert message.status == MessageStatus.failed

    response = client.post(
        f"/conversations/{conversation.id}/messages/{message.id}/retry", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    run_jobs(OUTBOUND)
    db.session.expire_all()
    assert message.status == MessageStatus.sent
    assert message.error_code is None


def test_reply_outside_the_24_hour_window_is_refused_with_the_reason(client, db, agent, graph_simulator):
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(hours=25))
    db.session.commit()

    response = _reply(client, db, conversation)
    assert "More than 24 hours" in response.get_data(as_text=True)
    assert db.session.query(Message).count() == 0


def test_empty_and_too_long_replies_are_refused(client, db, agent):
    conversation = factories.conversation()
    db.session.commit()
    assert "Write a message" in _reply(client, db, conversation, body="   ").get_data(as_text=True)
    too_long = _reply(client, db, conversation, body="x" * (outbound.MAX_TEXT_LENGTH + 1))
    assert "at most 4096 characters" in too_long.get_data(as_text=True)
    assert db.session.query(Message).count() == 0


def test_template_is_sent_outside_the_window_with_its_parameters(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(days=3))
    template = MessageTemplate(template_key="retomar_contato", language="pt_BR", body="Olá {{1}}, seu pedido {{2}}.")
    db.session.add(template)
    db.session.commit()

    response = client.post(
        f"/conversations/{conversation.id}/template",
        data={"template_id": template.id, "params-0": "Ana", "params-1": "#42"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    db.session.expire_all()
    message = _only_outbound(db)
    assert message.body == "Olá Ana, seu pedido #42."
    assert message.template_id == template.id and message.template_params == ["Ana", "#42"]

    run_jobs(OUTBOUND)
    [sent] = graph_simulator.sends()
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "retomar_contato"
    assert sent["template"]["language"] == {"code": "pt_BR"}
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == ["Ana", "#42"]
    db.session.expire_all()
    assert message.status == MessageStatus.sent


def test_template_needs_every_parameter(client, db, agent):
    conversation = factories.conversation(last_inbound_at=utcnow() - timedelta(days=3))
    template = MessageTemplate(template_key="retomar", language="pt_BR", body="Olá {{1}}, pedido {{2}}.")
    db.session.add(template)
    db.session.commit()

    response = client.post(
        f"/conversations/{conversation.id}/template",
        data={"template_id": template.id, "params-0": "Ana", "params-1": ""},
        headers={"HX-Request": "true"},
    )
    assert "needs 2 filled-in parameters" in response.get_data(as_text=True)
    assert db.session.query(Message).count() == 0


def test_viewing_a_conversation_marks_it_read_and_sends_one_read_receipt(
    client, db, agent, run_jobs, graph_simulator
):
    conversation = factories.conversation()
    factories.message(conversation, sent_at=utcnow() - timedelta(minutes=2), external_id="wamid.older")
    latest = factories.message(conversation, sent_at=utcnow() - timedelta(minutes=1), external_id="wamid.latest")
    db.session.commit()

    assert client.post(f"/conversations/{conversation.id}/read", data={"up_to": latest.id}).status_code == 204
    run_jobs(OUTBOUND)
    db.session.expire_all()
    assert all(m.read_at is not None for m in conversation.messages)
    assert graph_simulator.read_receipts() == [latest.external_id]

    client.post(f"/conversations/{conversation.id}/read", data={"up_to": latest.id})
    run_jobs(OUTBOUND)
    assert graph_simulator.read_receipts() == [latest.external_id]


def test_read_receipts_are_not_sent_when_the_setting_is_off(client, db, agent, run_jobs, graph_simulator):
    conversation = factories.conversation()
    message = factories.message(conversation)
    settings.put("send_read_receipts", False)
    db.session.commit()

    client.post(f"/conversations/{conversation.id}/read", data={"up_to": message.id})
    run_jobs(OUTBOUND)
    db.session.expire_all()
    assert all(m.read_at is not None for m in conversation.messages)
    assert graph_simulator.read_receipts() == []

"""`simulate-inbound` posts a correctly signed WhatsApp message to a running portal."""

import threading

from sqlalchemy import select
from werkzeug.serving import make_server

from portal.models import Contact, Message, WebhookEvent, WebhookStatus


def test_simulate_inbound_delivers_a_signed_text_to_a_running_portal(app, db, runner, run_jobs):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = runner.invoke(
            args=[
                "simulate-inbound", "--from", "5511987654321", "--text", "Olá",
                "--url", f"http://127.0.0.1:{server.server_port}/webhooks/whatsapp",
            ]
        )
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert result.exit_code == 0, result.output
    assert "the portal answered 200" in result.output
    run_jobs("webhooks")
    db.session.expire_all()
    assert db.session.scalar(select(WebhookEvent.status)) == WebhookStatus.processed
    assert db.session.scalar(select(Message.body)) == "Olá"
    assert db.session.scalar(select(Contact.phone)) == "+5511987654321"


def test_simulate_inbound_reports_a_portal_that_is_not_running(runner):
    result = runner.invoke(
        args=["simulate-inbound", "--from", "5511987654321", "--text", "Olá", "--url", "http://127.0.0.1:9/webhooks/whatsapp"]
    )
    assert result.exit_code != 0
    assert "Could not reach" in result.output


def test_simulate_inbound_to_another_number_lands_in_its_inbox(app, db, runner, run_jobs):
    from portal.models import Conversation
    from tests import factories

    second = factories.inbox(name="Vendas")
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = runner.invoke(
            args=[
                "simulate-inbound", "--from", "5511987654321", "--text", "Olá", "--to", second.phone_number_id,
                "--url", f"http://127.0.0.1:{server.server_port}/webhooks/whatsapp",
            ]
        )
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert result.exit_code == 0, result.output
    run_jobs("webhooks")
    db.session.expire_all()
    assert db.session.scalar(select(Conversation.inbox_id)) == second.id

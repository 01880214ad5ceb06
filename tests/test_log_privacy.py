"""A racing duplicate's IntegrityError reaches the logs (RQ logs the failed job's traceback) and the
event's `error`: neither may carry the SQL parameters, which hold message bodies and contact names."""

import logging

import pytest
from sqlalchemy import select

from portal.channels.whatsapp import inbound
from portal.extensions import db as _db
from portal.models import WebhookEvent, WebhookStatus
from portal.services import contacts

BODY = "Bom dia! Vocês entregam em Niterói?"  # the text fixture's body and profile name
NAME = "Maria Souza"


def test_every_engine_hides_sql_parameters(app, db):
    assert _db.engines and all(engine.hide_parameters for engine in _db.engines.values())


@pytest.mark.parametrize(
    "race_window",
    [
        # The other worker's message was not committed when this one looked for it.
        pytest.param(lambda monkeypatch: monkeypatch.setattr(inbound, "_by_external_id", lambda wamid: None), id="message"),
        # Nor was the contact it created for the same sender.
        pytest.param(
            lambda monkeypatch: (
                monkeypatch.setattr(inbound, "_by_external_id", lambda wamid: None),
                monkeypatch.setattr(contacts, "find_by_phone", lambda e164: None),
            ),
            id="contact",
        ),
    ],
)
def test_a_racing_duplicate_logs_no_body_and_no_name(
    db, post_whatsapp, whatsapp_payload, run_jobs, caplog, monkeypatch, race_window
):
    assert post_whatsapp(whatsapp_payload("text")).status_code == 200
    run_jobs("webhooks")

    race_window(monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        assert post_whatsapp(whatsapp_payload("text")).status_code == 200
        run_jobs("webhooks")

    db.session.expire_all()
    duplicate = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert duplicate.status == WebhookStatus.failed
    assert "IntegrityError" in duplicate.error and "IntegrityError" in caplog.text
    for secret in (BODY, NAME):
        assert secret not in caplog.text
        assert secret not in duplicate.error

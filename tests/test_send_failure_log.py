"""A permanent send error is logged as a refused send, not as a refused read receipt (issue 13 item 13)."""

from __future__ import annotations

import logging

from portal.channels.whatsapp.client import GraphError
from portal.models import Direction, MessageStatus
from portal.services import outbound
from tests import factories


class RefusingClient:
    def send_text(self, *args, **kwargs):
        raise GraphError(131026, "Message undeliverable", retryable=False)


def test_a_permanent_send_error_logs_a_refused_send(db, caplog):
    message = factories.message(
        factories.conversation(), Direction.outbound, status=MessageStatus.queued, external_id=None
    )
    with caplog.at_level(logging.WARNING, logger="portal.services.outbound"):
        assert outbound.send(message, save_attempt=db.session.flush, client=RefusingClient())
    assert message.status == MessageStatus.failed
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.services.outbound"]
    assert lines == [f"send of message {message.id} refused: code 131026"]

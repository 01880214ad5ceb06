"""A permanent send error is logged as a refused send, not as a refused read receipt (issue 13 item 13)."""

from __future__ import annotations

import logging

from portal.models import Direction, Message, MessageStatus, Role
from portal.queue import OUTBOUND
from tests import factories


def test_a_permanent_send_error_logs_a_refused_send(client, login_as, db, run_jobs, graph_simulator, caplog):
    login_as(Role.agent)
    conversation = factories.conversation()
    db.session.commit()
    graph_simulator.fail(131026, times=5, endpoint="messages")
    client.post(f"/conversations/{conversation.id}/reply", data={"body": "Olá"}, headers={"HX-Request": "true"})
    with caplog.at_level(logging.WARNING, logger="portal.services.outbound"):
        run_jobs(OUTBOUND)
    db.session.expire_all()
    message = db.session.query(Message).filter_by(direction=Direction.outbound).one()
    assert message.status == MessageStatus.failed
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.services.outbound"]
    assert f"send of message {message.id} refused: code 131026" in lines
    assert not any("read receipt" in line for line in lines)

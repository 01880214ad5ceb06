"""The admin health page shows the /metrics figures with green/amber/red states (portal/ops/health.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.models import Role, WebhookEvent, WebhookStatus, utcnow
from portal.ops.health import ACT, GOOD, WATCH, readings


def _failed_events(db, count: int) -> None:
    db.session.add_all(
        WebhookEvent(provider="whatsapp", event_type="messages", payload_json={}, status=WebhookStatus.failed,
                     received_at=utcnow() - timedelta(minutes=1))
        for _ in range(count)
    )
    db.session.commit()


def _level_of(label: str) -> str:
    overall, _ = readings()
    return next(r.level for r in overall if r.label == label)


def test_failed_webhook_events_turn_amber_then_red(app, db):
    with app.test_request_context():
        assert _level_of("Webhook events failed") == GOOD
        _failed_events(db, 1)
        assert _level_of("Webhook events failed") == WATCH
        _failed_events(db, 9)
        assert _level_of("Webhook events failed") == ACT


def test_admin_sees_the_health_page_linked_from_the_overview(app, db, client, login_as):
    login_as(Role.admin)
    _failed_events(db, 10)
    overview = client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/health"' in overview
    page = client.get("/admin/health")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Webhook events failed" in html
    assert "Act now" in html
    # The sign-in above was counted; the histogram holds this process's earlier requests too.
    assert re.search(r"Sign-in: \d+ requests?<", html)


def test_health_page_speaks_portuguese(app, db, client, login_as):
    login_as(Role.admin, locale="pt_BR")
    html = client.get("/admin/health").get_data(as_text=True)
    assert "Saúde" in html
    assert "Eventos de webhook com falha" in html


def test_supervisors_cannot_open_the_health_page(app, db, client, login_as):
    login_as(Role.supervisor)
    assert client.get("/admin/health").status_code == 403

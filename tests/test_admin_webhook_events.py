"""The webhook event log: filters, a masked payload view whose reveals are audited, and replay."""

import re
from datetime import datetime

import pytest

from portal.extensions import db as _db
from portal.models import AuditLog, Role, WebhookEvent, WebhookStatus
from portal.queue import WEBHOOKS
from portal.services import webhook_events

PHONE = "5511987654321"


def _event(
    provider="whatsapp", event_type="messages", status=WebhookStatus.processed, **fields
) -> WebhookEvent:
    row = WebhookEvent(
        provider=provider,
        event_type=event_type,
        status=status,
        payload_json=fields.pop("payload", {"from": PHONE, "text": {"body": "oi"}}),
        **fields,
    )
    _db.session.add(row)
    _db.session.flush()
    return row


def _listed_ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'id="event-(\d+)"', html)}


def test_filters_by_provider_type_status_and_date(client, login_as, db):
    login_as(Role.admin)
    wa = _event(received_at=datetime(2026, 3, 1, 12))
    crm = _event(provider="crm", event_type="contact.updated", received_at=datetime(2026, 3, 2, 12))
    failed = _event(event_type="statuses", status=WebhookStatus.failed, received_at=datetime(2026, 3, 3, 12))
    db.session.commit()

    def listed(query: str) -> set[int]:
        return _listed_ids(client.get(f"/admin/webhook-events?{query}").get_data(as_text=True))

    assert listed("") == {wa.id, crm.id, failed.id}
    assert listed("provider=crm") == {crm.id}
    assert listed("event_type=statuses") == {failed.id}
    assert listed("status=failed") == {failed.id}
    assert listed("date_from=2026-03-02&date_to=2026-03-02") == {crm.id}
    assert listed("date_from=2026-03-02") == {crm.id, failed.id}


def test_htmx_filtering_answers_only_the_table(client, login_as, db):
    login_as(Role.admin)
    _event()
    db.session.commit()
    html = client.get("/admin/webhook-events?provider=whatsapp", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "<table" in html and "<html" not in html


def test_payload_is_pretty_json_with_phones_masked(client, login_as, db):
    login_as(Role.admin)
    event = _event()
    db.session.commit()
    html = client.get(f"/admin/webhook-events/{event.id}").get_data(as_text=True)
    assert PHONE not in html
    assert "*********4321" in html
    assert "&#34;from&#34;: &#34;" in html or '"from": "' in html


def test_reveal_shows_the_phone_and_is_recorded(client, login_as, db):
    admin = login_as(Role.admin)
    event = _event()
    db.session.commit()
    response = client.post(f"/admin/webhook-events/{event.id}/reveal", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and PHONE in html and "<html" not in html
    entry = _db.session.query(AuditLog).filter_by(action="webhook_event.revealed").one()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "webhook_events", str(event.id))


@pytest.fixture
def counting_provider(monkeypatch):
    processed = []
    monkeypatch.setitem(webhook_events.PROCESSORS, "counting", processed.append)
    return processed


def test_replay_many_processes_them_again_and_is_audited(client, login_as, db, run_jobs, counting_provider):
    login_as(Role.admin)
    first = _event(provider="counting", status=WebhookStatus.failed, error="boom")
    second = _event(provider="counting", status=WebhookStatus.failed, error="boom")
    untouched = _event(provider="counting", status=WebhookStatus.failed, error="boom")
    db.session.commit()

    response = client.post("/admin/webhook-events/replay", data={"event_id": [first.id, second.id]})
    assert response.status_code == 302
    run_jobs(WEBHOOKS)
    for row in (first, second, untouched):
        db.session.refresh(row)
    assert (first.status, second.status, untouched.status) == (
        WebhookStatus.processed,
        WebhookStatus.processed,
        WebhookStatus.failed,
    )
    replays = _db.session.query(AuditLog).filter_by(action="webhook_event.replayed").count()
    assert replays == 2


def test_replaying_one_event_returns_to_its_page(client, login_as, db, run_jobs, counting_provider):
    login_as(Role.admin)
    event = _event(provider="counting", status=WebhookStatus.failed)
    db.session.commit()
    response = client.post(
        "/admin/webhook-events/replay",
        data={"event_id": event.id},
        headers={"Referer": f"http://localhost/admin/webhook-events/{event.id}"},
    )
    assert response.headers["Location"].endswith(f"/admin/webhook-events/{event.id}")
    run_jobs(WEBHOOKS)
    db.session.refresh(event)
    assert event.status == WebhookStatus.processed and len(counting_provider) == 1


def test_notes_stored_in_english_read_in_the_admins_language(client, login_as, db):
    """Processing stores its notes in English; the event page shows them translated, note by note,
    and a note it does not know as it is."""
    from portal.channels.whatsapp import notes

    stored = "; ".join(
        [
            webhook_events.stored_text(notes.UNKNOWN_STATUS, wamid="wamid.ABC"),
            webhook_events.stored_text(notes.WHATSAPP_ERROR, code=131042, title="Business eligibility payment issue"),
            "something no processor registered",
        ]
    )
    event = _event(status=WebhookStatus.processed, error=stored)
    db.session.commit()
    login_as(Role.admin, locale="pt_BR")
    html = client.get(f"/admin/webhook-events/{event.id}").get_data(as_text=True)
    assert "wamid.ABC" in html and "A status update for message" not in html
    assert "código 131042" in html and "Business eligibility payment issue" in html
    assert "something no processor registered" in html

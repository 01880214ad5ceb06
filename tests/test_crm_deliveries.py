"""The admin's CRM deliveries page: attempts and answers, and a retry that really resends."""

from __future__ import annotations

import pytest

from portal.models import AuditLog, CrmDelivery, DeliveryStatus, Role
from portal.queue import CRM
from portal.services import contact_admin
from tests import crm_server

SECRET = "deliveries-secret"


@pytest.fixture
def fake_crm(app):
    with crm_server.configured(app, SECRET) as server:
        yield server


def test_page_shows_attempts_status_codes_and_responses(client, login_as, db, fake_crm, run_jobs):
    login_as(Role.admin)
    fake_crm.fail_next(1, status=400)
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    html = client.get("/crm/deliveries").get_data(as_text=True)
    assert "contact.created" in html and "HTTP 400" in html and "refused by the CRM" in html
    assert "&#34;status&#34;: 400" in html or '"status": 400' in html
    assert ">Retry<" in html


def test_retry_resends_a_failed_delivery_until_delivered(client, login_as, db, fake_crm, run_jobs):
    admin = login_as(Role.admin)
    fake_crm.fail_next(1, status=410)
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    delivery = db.session.query(CrmDelivery).one()
    assert delivery.status == DeliveryStatus.failed
    response = client.post(f"/crm/deliveries/{delivery.id}/retry")
    assert response.status_code == 302
    run_jobs(CRM)
    db.session.expire_all()
    assert delivery.status == DeliveryStatus.delivered and delivery.attempts == 2
    assert [r.status for r in fake_crm.requests] == [410, 200]
    assert db.session.query(AuditLog).filter_by(action="crm.delivery_retried", actor_id=admin.id).count() == 1


def test_retrying_a_delivered_event_sends_nothing(client, login_as, db, fake_crm, run_jobs):
    login_as(Role.admin)
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    db.session.commit()
    run_jobs(CRM)
    delivery = db.session.query(CrmDelivery).one()
    client.post(f"/crm/deliveries/{delivery.id}/retry")
    run_jobs(CRM)
    assert len(fake_crm.requests) == 1


def test_status_filter_and_htmx_fragment(client, login_as, db, fake_crm, run_jobs):
    login_as(Role.admin)
    fake_crm.fail_next(1, status=404)
    contact_admin.create(name="Ana", phone="11987654321", by=None)
    contact_admin.create(name="Bia", phone="11987654322", by=None)
    db.session.commit()
    run_jobs(CRM)
    failed = client.get("/crm/deliveries?status=failed", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert failed.count('<tr id="delivery-') == 1 and "<html" not in failed
    assert client.get("/crm/deliveries").get_data(as_text=True).count('<tr id="delivery-') == 2


def test_supervisors_cannot_open_deliveries(client, login_as, db):
    login_as(Role.supervisor)
    assert client.get("/crm/deliveries").status_code == 403

"""The settings page: effective configuration with secrets masked, the webhook URL for Meta,
runtime switches, and a test message through the Graph API."""

from portal.extensions import db as _db
from portal.models import AuditLog, Role
from portal.services import settings
from tests import factories


def test_secrets_show_only_whether_set_and_at_most_four_characters(app, client, login_as, db):
    login_as(Role.admin)
    secret = "s3cr3t-value-that-is-long-ABCD"
    saved = app.config["CRM_WEBHOOK_SECRET"]
    app.config["CRM_WEBHOOK_SECRET"] = secret
    try:
        html = client.get("/admin/settings").get_data(as_text=True)
    finally:
        app.config["CRM_WEBHOOK_SECRET"] = saved
    for name in ("SECRET_KEY", "WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_VERIFY_TOKEN"):
        assert app.config[name] not in html
    assert secret not in html and secret[:-4] not in html
    assert "…ABCD" in html
    assert "WHATSAPP_API_BASE" in html and app.config["WHATSAPP_API_BASE"] in html


def test_database_passwords_are_hidden(app, db):
    from portal.services.admin_settings import without_password

    assert "hunter2" not in without_password("postgresql://atende:hunter2@db:5432/atende")
    assert "hunter2" not in without_password("redis://:hunter2@cache:6379/0")


def test_the_webhook_url_and_token_states_are_shown(app, client, login_as, db):
    login_as(Role.admin)
    html = client.get("/admin/settings").get_data(as_text=True)
    assert app.config["PUBLIC_BASE_URL"].rstrip("/") + "/webhooks/whatsapp" in html
    assert 'id="verify-token-state">Verify token: set' in html
    assert 'id="app-secret-state">App secret (signature check): set' in html


def test_read_receipts_can_be_switched_off(client, login_as, db):
    login_as(Role.admin)
    assert settings.send_read_receipts() is True
    assert client.post("/admin/settings/runtime", data={}).status_code == 302
    assert settings.send_read_receipts() is False
    assert _db.session.query(AuditLog).filter_by(action="settings.changed").count() == 1


def test_a_test_message_is_sent_through_the_graph_api(client, login_as, db, graph_simulator):
    login_as(Role.admin)
    response = client.post(
        "/admin/settings/test-message",
        data={"inbox": factories.default_inbox().id, "phone": "+55 11 98765-4321", "text": "Teste do Atende"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "WhatsApp message id: wamid." in html
    (sent,) = graph_simulator.sends()
    assert sent["to"] == "5511987654321" and sent["text"]["body"] == "Teste do Atende"
    entry = _db.session.query(AuditLog).filter_by(action="settings.test_message_sent").one()
    assert "5511987654321" not in str(entry.details)


def test_a_refused_test_message_shows_the_graph_error(client, login_as, db, graph_simulator):
    login_as(Role.admin)
    graph_simulator.fail(131047)
    data = {"inbox": factories.default_inbox().id, "phone": "+5511987654321", "text": "oi"}
    response = client.post("/admin/settings/test-message", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The Graph API refused the message: More than 24 hours since the customer" in html
    assert 'title="WhatsApp error 131047: ' in html  # the raw code only in the tooltip


def test_an_invalid_phone_is_answered_without_calling_the_api(client, login_as, db, graph_simulator):
    login_as(Role.admin)
    data = {"inbox": factories.default_inbox().id, "phone": "12", "text": "oi"}
    html = client.post("/admin/settings/test-message", data=data).get_data(as_text=True)
    assert "not a valid phone number" in html
    assert graph_simulator.sends() == []


def test_a_test_message_leaves_from_the_chosen_inbox(client, login_as, db, graph_simulator):
    from portal.services import inboxes

    sales = inboxes.create_whatsapp_inbox(name="Vendas", phone_number_id="209876543210987", access_token="token-b", by=None)
    _db.session.commit()
    graph_simulator.add_number("209876543210987", "token-b")
    login_as(Role.admin)
    client.post("/admin/settings/test-message", data={"inbox": sales.id, "phone": "+5511987654321", "text": "oi"})
    [send] = [r for r in graph_simulator.requests if r["endpoint"] == "messages"]
    assert (send["phone_number_id"], send["token"]) == ("209876543210987", "token-b")

"""The Graph API client against the local simulator: sends, read receipts, media, and every kind
of failure classified as docs/architecture.md, "WhatsApp", says."""

import base64
import hashlib
import hmac
import json
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from portal.channels.whatsapp.client import GraphClient, GraphError, timeout_seconds
from portal.channels.whatsapp.simulator import create_simulator


def _client(app) -> GraphClient:
    """A client as the app's configured number (the simulator fixture's)."""
    config = app.config
    return GraphClient(
        config["WHATSAPP_API_BASE"],
        config["WHATSAPP_API_VERSION"],
        config["WHATSAPP_ACCESS_TOKEN"],
        config["WHATSAPP_PHONE_NUMBER_ID"],
        timeout=timeout_seconds(config),
    )


def test_send_text_returns_the_wamid_and_the_simulator_records_the_body(app, graph_simulator):
    with app.app_context():
        result = _client(app).send_text("5521998765432", "Olá!", reply_to="wamid.ABC")
    assert result.message_id.startswith("wamid.")
    assert result.message_status is None
    [sent] = graph_simulator.sends()
    assert sent == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5521998765432",
        "type": "text",
        "text": {"body": "Olá!", "preview_url": False},
        "context": {"message_id": "wamid.ABC"},
    }
    assert graph_simulator.requests[0]["authorization"] == f"Bearer {app.config['WHATSAPP_ACCESS_TOKEN']}"
    assert graph_simulator.requests[0]["path"] == (
        f"/{app.config['WHATSAPP_API_VERSION']}/{app.config['WHATSAPP_PHONE_NUMBER_ID']}/messages"
    )


def test_send_template_carries_name_language_and_parameters(app, graph_simulator):
    with app.app_context():
        result = _client(app).send_template(
                "5521998765432",
                "boas_vindas",
                "pt_BR",
                [{"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}],
            )
    assert result.message_status == "accepted"
    template = graph_simulator.sends()[0]["template"]
    assert template == {
        "name": "boas_vindas",
        "language": {"code": "pt_BR"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}],
    }


def test_send_media_by_id_and_mark_read(app, graph_simulator):
    with app.app_context():
        client = _client(app)
        client.send_media("5521998765432", "document", media_id="123", filename="nf.pdf", caption="NF")
        client.mark_read("wamid.IN1")
    assert graph_simulator.sends()[0]["document"] == {"id": "123", "caption": "NF", "filename": "nf.pdf"}
    assert graph_simulator.read_receipts() == ["wamid.IN1"]


def test_a_text_longer_than_4096_characters_is_refused_as_a_permanent_parameter_error(app, graph_simulator):
    with app.app_context(), pytest.raises(GraphError) as failure:
        _client(app).send_text("5521998765432", "x" * 4097)
    assert failure.value.code == 100
    assert failure.value.retryable is False


@pytest.mark.parametrize(
    ("code", "http_status", "retryable", "admin_alert"),
    [
        (130429, 429, True, False),
        (131056, 429, True, False),
        (131000, 400, True, False),
        (131047, 400, False, False),
        (131026, 400, False, False),
        (132001, 400, False, False),
        (131048, 400, False, True),
        (190, 401, False, True),
        (500, 500, True, False),
        (503, 503, True, False),
    ],
)
def test_injected_errors_are_classified(app, graph_simulator, code, http_status, retryable, admin_alert):
    graph_simulator.fail(code)
    with app.app_context(), pytest.raises(GraphError) as failure:
        _client(app).send_text("5521998765432", "Olá")
    error = failure.value
    assert error.http_status == http_status
    assert error.retryable is retryable
    assert error.needs_admin_alert is admin_alert
    if code < 500:
        assert error.code == code
        assert error.title


def test_the_131047_error_keeps_its_title_and_details(app, graph_simulator):
    graph_simulator.fail(131047)
    with app.app_context(), pytest.raises(GraphError) as failure:
        _client(app).send_text("5521998765432", "Olá")
    assert failure.value.title == "(#131047) Re-engagement message"
    assert "24 hours" in failure.value.details


def test_an_injected_failure_lasts_only_the_given_number_of_calls(app, graph_simulator):
    graph_simulator.fail(130429, times=2)
    with app.app_context():
        client = _client(app)
        for _ in range(2):
            with pytest.raises(GraphError):
                client.send_text("5521998765432", "Olá")
        assert client.send_text("5521998765432", "Olá").message_id


def test_a_slow_api_is_a_retryable_timeout_and_the_send_was_still_accepted(app, graph_simulator):
    graph_simulator.fail("timeout", delay=1.5)
    with app.app_context(), pytest.raises(GraphError) as failure:
        _client(app).send_text("5521998765432", "Olá")
    assert failure.value.code is None and failure.value.http_status is None
    assert failure.value.retryable is True
    assert len(graph_simulator.sends()) == 1


def test_an_unreachable_api_is_a_retryable_error(app):
    client = GraphClient("http://127.0.0.1:9", "v21.0", "token", "1", timeout=1)
    with pytest.raises(GraphError) as failure:
        client.send_text("5521998765432", "Olá")
    assert failure.value.retryable is True


def test_a_wrong_access_token_gets_error_190(app, graph_simulator):
    client = GraphClient(graph_simulator.url, "v21.0", "wrong", app.config["WHATSAPP_PHONE_NUMBER_ID"])
    with pytest.raises(GraphError) as failure:
        client.send_text("5521998765432", "Olá")
    assert failure.value.code == 190 and failure.value.needs_admin_alert


def test_media_lookup_and_download_need_the_bearer_token(app, graph_simulator):
    media = graph_simulator.add_media(b"%PDF-1.4 fake", "application/pdf")
    with app.app_context():
        client = _client(app)
        info = client.media_info(media.id)
        data = client.download_media(info["url"])
    assert data == b"%PDF-1.4 fake"
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["mime_type"] == "application/pdf" and info["file_size"] == str(len(data))
    assert requests.get(info["url"], timeout=5).status_code == 401


def test_an_unknown_media_id_is_a_permanent_error(app, graph_simulator):
    with app.app_context(), pytest.raises(GraphError) as failure:
        _client(app).media_info("999")
    assert failure.value.code == 100 and not failure.value.retryable


def test_registered_media_gives_the_sha256_in_hex_and_as_a_webhook_writes_it(graph_simulator):
    answer = requests.post(
        f"{graph_simulator.url}/_sim/media", json={"data_base64": "aGk=", "mime_type": "text/plain"}, timeout=5
    ).json()
    digest = hashlib.sha256(b"hi").digest()
    assert answer["sha256"] == digest.hex()
    assert base64.b64decode(answer["webhook_sha256"]) == digest


def test_latency_slows_every_call_which_still_answers(app, graph_simulator):
    base = graph_simulator.url
    assert requests.post(f"{base}/_sim/latency", json={"seconds": 0.3}, timeout=5).ok
    registered = graph_simulator.add_media(b"hi", "text/plain")
    started = time.monotonic()
    answer = requests.get(
        f"{base}/v21.0/{registered.id}", headers={"Authorization": f"Bearer {app.config['WHATSAPP_ACCESS_TOKEN']}"}, timeout=5
    )
    assert time.monotonic() - started >= 0.3
    assert answer.ok and answer.json()["id"] == registered.id
    assert requests.post(f"{base}/_sim/latency", json={"seconds": "slow"}, timeout=5).status_code == 400
    graph_simulator.reset()
    assert graph_simulator.state.latency == 0


def test_the_control_api_records_fails_and_resets(graph_simulator):
    base = graph_simulator.url
    assert requests.post(f"{base}/_sim/fail", json={"code": 131047}, timeout=5).ok
    registered = requests.post(f"{base}/_sim/media", json={"data_base64": "aGk=", "mime_type": "text/plain"}, timeout=5)
    assert registered.json()["file_size"] == 2
    answer = requests.post(
        f"{base}/v21.0/any/messages",
        json={"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}},
        headers={"Authorization": "Bearer dev"},
        timeout=5,
    )
    assert answer.status_code == 401  # the fixture's simulator accepts only the app's token
    assert [r["endpoint"] for r in requests.get(f"{base}/_sim/requests", timeout=5).json()] == ["messages"]
    assert requests.post(f"{base}/_sim/reset", timeout=5).ok
    assert requests.get(f"{base}/_sim/requests", timeout=5).json() == []


def test_an_order_for_one_recipient_fails_only_its_sends_and_the_log_keeps_each_answer(app, graph_simulator):
    base = graph_simulator.url
    requests.post(f"{base}/_sim/fail", json={"code": "timeout", "delay": 0.01, "times": 100}, timeout=5)
    requests.post(f"{base}/_sim/fail", json={"code": 503, "to": "+5521911110000"}, timeout=5)

    def send(to: str) -> requests.Response:
        return requests.post(
            f"{base}/v21.0/{app.config['WHATSAPP_PHONE_NUMBER_ID']}/messages",
            json={"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "x"}},
            headers={"Authorization": f"Bearer {app.config['WHATSAPP_ACCESS_TOKEN']}"},
            timeout=5,
        )

    assert send("5521922220000").status_code == 200
    assert send("5521911110000").status_code == 503
    accepted = send("5521911110000")
    log = requests.get(f"{base}/_sim/requests", timeout=5).json()
    assert [(r["json"]["to"], r["answer_status"]) for r in log] == [
        ("5521922220000", 200),
        ("5521911110000", 503),
        ("5521911110000", 200),
    ]
    assert log[1]["wamid"] is None and log[2]["wamid"] == accepted.json()["messages"][0]["id"]
    assert all(r["answered_at"] >= r["at"] for r in log)


def test_an_accepted_send_is_followed_by_signed_sent_delivered_read_webhooks():
    received: list[tuple[bytes, str]] = []
    done = threading.Event()

    def portal(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        received.append((body, environ.get("HTTP_X_HUB_SIGNATURE_256", "")))
        if len(received) == 3:
            done.set()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    portal_server = make_server("127.0.0.1", 0, portal, threaded=True)
    simulator = create_simulator(
        app_secret="s3cret", webhook_url=f"http://127.0.0.1:{portal_server.server_port}/webhooks/whatsapp",
        status_delay=0.01,
    )
    threading.Thread(target=portal_server.serve_forever, daemon=True).start()
    try:
        answer = simulator.test_client().post(
            "/v21.0/1/messages",
            json={"messaging_product": "whatsapp", "to": "5521998765432", "type": "text", "text": {"body": "x"}},
            headers={"Authorization": "Bearer anything"},
        )
        assert done.wait(10)
    finally:
        portal_server.shutdown()
    wamid = answer.get_json()["messages"][0]["id"]
    statuses = []
    for body, signature in received:
        assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        status = json.loads(body)["entry"][0]["changes"][0]["value"]["statuses"][0]
        assert status["id"] == wamid
        statuses.append(status["status"])
    assert statuses == ["sent", "delivered", "read"]


def test_each_number_takes_only_its_own_token_and_the_log_records_both(graph_simulator):
    graph_simulator.add_number("200000000000002", "token-b")
    base = graph_simulator.url
    body = {"messaging_product": "whatsapp", "to": "5521998765432", "type": "text", "text": {"body": "x"}}

    def send(number: str, token: str) -> int:
        return requests.post(
            f"{base}/v21.0/{number}/messages", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5
        ).status_code

    assert send("200000000000002", "token-b") == 200
    assert send("200000000000002", "dev-access-token") == 401
    assert send("999", "token-b") == 401
    assert [(r["phone_number_id"], r["token"]) for r in graph_simulator.requests] == [
        ("200000000000002", "token-b"), ("200000000000002", "dev-access-token"), ("999", "token-b")
    ]

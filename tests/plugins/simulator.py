"""WhatsApp test fixtures.

- `graph_simulator`: the local Graph API simulator serving on 127.0.0.1 (random port) in a thread
  for the whole test session, with the app pointed at it for one test at a time.
- `whatsapp_payload(name)`: a webhook body from tests/fixtures/whatsapp/ (bodies as Meta
  sends them), fresh for each call so tests may edit it.
- `post_whatsapp(payload)`: POST it to /webhooks/whatsapp signed with the app's secret.
- `deliver(*payloads)`: post each, run the webhooks worker, return every stored event.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.channels.whatsapp.simulator import (
    Failure,
    Media,
    SimulatorState,
    create_simulator,
    simulator_state,
)
from portal.channels.whatsapp.webhook import SIGNATURE_HEADER, signature_header
from portal.models import WebhookEvent


class GraphSimulator:
    """What a test sees of the simulator: its URL, the requests it received, and its controls."""

    def __init__(self, url: str, state: SimulatorState) -> None:
        self.url = url
        self.state = state
        self._numbers = dict(state.numbers)

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.requests)

    def sends(self) -> list[dict[str, Any]]:
        """The JSON bodies of message sends (read receipts excluded), oldest first."""
        return [r["json"] for r in self.requests if r["endpoint"] == "messages" and "status" not in (r["json"] or {})]

    def read_receipts(self) -> list[str]:
        return [r["json"]["message_id"] for r in self.requests if r["endpoint"] == "messages" and "status" in (r["json"] or {})]

    def fail(self, code: int | str, times: int = 1, delay: float = 2.0, endpoint: str | None = None) -> None:
        """Make the next `times` calls fail with a Graph error code, an HTTP 5xx or "timeout"."""
        with self.state.lock:
            self.state.failures.append(Failure(code, times, delay, endpoint))

    def slow_down(self, seconds: float) -> None:
        """Every call from now on answers after `seconds` (and still answers): a slow Graph API."""
        with self.state.lock:
            self.state.latency = seconds

    def add_number(self, phone_number_id: str, access_token: str) -> None:
        """Serve another business number (an inbox's), with its own token, until the test ends."""
        self.state.add_number(phone_number_id, access_token)

    def add_media(self, data: bytes, mime_type: str, media_id: str | None = None, sha256: str | None = None) -> Media:
        return self.state.add_media(data, mime_type, media_id, sha256)

    def set_templates(self, waba_id: str, templates: list[dict[str, Any]]) -> None:
        """The business account's templates in Meta's shape (GET /{waba-id}/message_templates)."""
        self.state.set_templates(waba_id, templates)

    def reset(self) -> None:
        """Forget requests, failures and media, and serve only the session's own number again."""
        self.state.reset()
        with self.state.lock:
            self.state.numbers = dict(self._numbers)


@pytest.fixture(scope="session")
def _graph_simulator_server(app) -> Iterator[GraphSimulator]:
    simulator = create_simulator(numbers={app.config["WHATSAPP_PHONE_NUMBER_ID"]: app.config["WHATSAPP_ACCESS_TOKEN"]})
    server = make_server("127.0.0.1", 0, simulator, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="graph-simulator", daemon=True)
    thread.start()
    yield GraphSimulator(f"http://127.0.0.1:{server.server_port}", simulator_state(simulator))
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def graph_simulator(app, _graph_simulator_server) -> Iterator[GraphSimulator]:
    """The simulator, fresh for this test; the app's WHATSAPP_API_BASE points at it until the test ends.
    Client calls time out after 1 s here, so `fail("timeout")` (2 s) is a real timeout."""
    saved = {key: app.config.get(key) for key in ("WHATSAPP_API_BASE", "WHATSAPP_API_TIMEOUT")}
    app.config.update(WHATSAPP_API_BASE=_graph_simulator_server.url, WHATSAPP_API_TIMEOUT=1.0)
    _graph_simulator_server.reset()
    yield _graph_simulator_server
    _graph_simulator_server.reset()
    for key, value in saved.items():
        if value is None:
            app.config.pop(key, None)
        else:
            app.config[key] = value


PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp"


@pytest.fixture(scope="session")
def _whatsapp_payloads() -> dict[str, Any]:
    return {path.stem: json.loads(path.read_text()) for path in PAYLOADS.glob("*.json")}


@pytest.fixture
def whatsapp_payload(_whatsapp_payloads):
    def load(name: str) -> dict[str, Any]:
        return copy.deepcopy(_whatsapp_payloads[name])

    return load


@pytest.fixture
def post_whatsapp(app, client):
    """post_whatsapp(payload) posts a dict (as JSON) or raw bytes, signed unless `signature` is given."""

    def post(payload: dict[str, Any] | bytes, signature: str | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if signature is None:
            signature = signature_header(body, app.config["WHATSAPP_APP_SECRET"])
        return client.post(
            "/webhooks/whatsapp",
            data=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        )

    return post


@pytest.fixture
def deliver(db, post_whatsapp, run_jobs):
    """Post signed payloads, run the webhooks worker, and return the stored events."""

    def _deliver(*payloads):
        for payload in payloads:
            assert post_whatsapp(payload).status_code == 200
        run_jobs("webhooks")
        db.session.expire_all()
        return db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()

    return _deliver

"""A fake CRM for tests: a real HTTP server on 127.0.0.1 (random port) in a thread.

It checks each request's signature the way a CRM would (its own HMAC code, not Atende's), keeps
the events it accepted, and can be told to answer the next N requests with an error status.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ReceivedRequest:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class FakeCrm:
    secret: str
    requests: list[ReceivedRequest] = field(default_factory=list)
    failures_left: int = 0
    failure_status: int = 500
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/atende-events"

    @property
    def events(self) -> list[dict[str, Any]]:
        """Events the CRM accepted (2xx), in arrival order."""
        return [r.event for r in self.requests if 200 <= r.status < 300]

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self.failures_left = count
            self.failure_status = status

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        timestamp = headers.get("X-Atende-Timestamp", "")
        signature = headers.get("X-Atende-Signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        expected = "sha256=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        signature_ok = self.verify(headers, body)
        with self._lock:
            if not signature_ok:
                status = 401
            elif self.failures_left > 0:
                self.failures_left -= 1
                status = self.failure_status
            else:
                status = 200
            self.requests.append(ReceivedRequest(headers, body, signature_ok, status))
        return status


def start(secret: str) -> FakeCrm:
    crm = FakeCrm(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = crm.handle(dict(self.headers.items()), body)
            answer = json.dumps({"ok": status == 200, "status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # keep test output quiet
            pass

    crm.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=crm.server.serve_forever, daemon=True, name="fake-crm").start()
    return crm


def stop(crm: FakeCrm) -> None:
    assert crm.server is not None
    crm.server.shutdown()
    crm.server.server_close()


@contextmanager
def configured(app, secret: str) -> Iterator[FakeCrm]:
    """A fake CRM that the app sends its events to while the block runs."""
    crm = start(secret)
    app.config.update(CRM_WEBHOOK_URL=crm.url, CRM_WEBHOOK_SECRET=secret)
    try:
        yield crm
    finally:
        app.config.update(CRM_WEBHOOK_URL=None, CRM_WEBHOOK_SECRET=None)
        stop(crm)

"""The bare baseline for the ingest bench (1a): check the HMAC, insert one row, enqueue one job.

Nothing else: no blueprints, sessions, CSRF, i18n or logging setup. Served by gunicorn exactly as
the portal is (`gunicorn bench.baseline_app:app`), on the same database, table and Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from flask import Flask, request
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_size=5)
queue = Queue("webhooks", connection=Redis.from_url(os.environ["REDIS_URL"]))
secret = os.environ["WHATSAPP_APP_SECRET"].encode()

INSERT = text(
    "INSERT INTO webhook_events (provider, event_type, payload_json, received_at, status, attempts) "
    "VALUES ('whatsapp', :event_type, CAST(:payload AS json), now(), 'pending', 0) RETURNING id"
)


@app.post("/webhooks/whatsapp")
def receive():
    body = request.get_data()
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return "", 401
    payload = json.loads(body)
    event_type = payload["entry"][0]["changes"][0].get("field", "unknown")
    with engine.begin() as conn:
        event_id = conn.execute(INSERT, {"event_type": event_type, "payload": body.decode()}).scalar_one()
    queue.enqueue_call("bench.noop.noop", args=(event_id,))
    return "", 200

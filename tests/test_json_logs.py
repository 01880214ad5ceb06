"""LOG_FORMAT=json: one JSON object per line with request id, agent id and job id, masked by the
PII filter like text lines (portal/ops/logs.py)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import g

from portal import pii
from portal.models import Role
from portal.ops.logs import JsonFormatter
from portal.queue import DEFAULT, get_queue
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+55 11 98765-4321"


@pytest.fixture
def json_lines():
    """A JSON handler on the root logger with the PII filter, as LOG_FORMAT=json sets it up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    pii.install()
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def log_from_a_job(phone: str) -> None:
    logging.getLogger("portal.test").warning("job writes to %s", phone)


def test_a_request_line_carries_request_and_agent_ids_and_no_phone(app, db, json_lines):
    agent = factories.agent(role=Role.agent)
    db.session.commit()
    with app.test_request_context(headers={"X-Request-ID": "proxy-id-1234"}):
        app.preprocess_request()
        g._login_user = agent
        logging.getLogger("portal.test").warning("customer %s wrote", PHONE)
    (line,) = [entry for entry in json_lines() if entry["logger"] == "portal.test"]
    assert line["request_id"] == "proxy-id-1234"
    assert line["agent_id"] == agent.id
    assert line["level"] == "WARNING"
    assert "98765" not in line["message"] and line["message"].endswith("4321 wrote")


def test_a_job_line_carries_the_job_id(app, db, run_jobs, json_lines):
    job = get_queue(DEFAULT).enqueue("tests.test_json_logs.log_from_a_job", PHONE)
    run_jobs(DEFAULT)
    (line,) = [entry for entry in json_lines() if entry["logger"] == "portal.test"]
    assert line["job_id"] == job.id
    assert "98765" not in line["message"]


def test_responses_send_the_request_id_back(app, db, client):
    kept = client.get("/login", headers={"X-Request-ID": "proxy-id-1234"})
    assert kept.headers["X-Request-ID"] == "proxy-id-1234"
    made_up = client.get("/login", headers={"X-Request-ID": "<script>"})
    assert made_up.headers["X-Request-ID"] not in ("", "<script>")
    assert client.get("/login").headers["X-Request-ID"] != made_up.headers["X-Request-ID"]


def test_log_format_json_makes_the_app_write_masked_json_lines(tmp_path):
    env = {**os.environ, "LOG_FORMAT": "json", "ATENDE_ENV": "development", "ATENDE_INSTANCE_PATH": str(tmp_path)}
    script = f"import wsgi; wsgi.app.logger.warning('customer %s wrote', {PHONE!r})"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    (line,) = [json.loads(text) for text in result.stderr.splitlines() if "customer" in text]
    assert line["level"] == "WARNING"
    assert line["message"].endswith("4321 wrote") and "98765" not in line["message"]


def test_an_unknown_log_format_is_refused(tmp_path):
    env = {**os.environ, "LOG_FORMAT": "xml", "ATENDE_ENV": "development", "ATENDE_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "LOG_FORMAT must be one of text, json" in result.stderr

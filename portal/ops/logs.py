"""Request ids and JSON log lines (docs: README, "Logs").

Every request gets an id: the X-Request-ID the reverse proxy sent, when it looks like one, else a
new one; it is sent back as X-Request-ID. With LOG_FORMAT=json every handler of the root and
gunicorn loggers writes one JSON object per line with the request id, the signed-in agent's id
and the RQ job id beside the message. The PII filter (portal/pii.py) sits on the same handlers and
runs before any formatter, so JSON lines are masked like text ones.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from rq import get_current_job

from portal.config import ConfigError

LOG_FORMATS = ("text", "json")
HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
LOGGERS_WITH_HANDLERS = ("", "gunicorn.error", "gunicorn.access")


def _assign_request_id() -> None:
    sent = request.headers.get(HEADER, "")
    g.request_id = sent if _SANE_ID.fullmatch(sent) else uuid.uuid4().hex


def _send_request_id(response):
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


def _agent_id() -> int | None:
    # Only an agent already loaded for this request: loading one here would query the database
    # from inside a log call.
    user = g.get("_login_user")
    return getattr(user, "id", None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            line["request_id"] = g.get("request_id")
            line["agent_id"] = _agent_id()
        job = get_current_job()
        if job is not None:
            line["job_id"] = job.id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def use_json(logger_names=LOGGERS_WITH_HANDLERS) -> None:
    formatter = JsonFormatter()
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)


def register(app: Flask) -> None:
    log_format = app.config.get("LOG_FORMAT", "text")
    if log_format not in LOG_FORMATS:
        raise ConfigError([f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}."])
    app.before_request(_assign_request_id)
    app.after_request(_send_request_id)
    if log_format == "json":
        use_json()

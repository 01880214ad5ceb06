"""The one logging filter that keeps PII and secrets out of every log line (docs/architecture.md, "Logs").

Phone numbers keep their last four digits, e-mail local parts are masked, and anything passed
as a message body or webhook payload is replaced before a handler formats the record. URLs lose
their secrets wherever they appear (a request line, a Referer, an exception): the token of a
set-password link, Meta's `hub.verify_token`, and search terms (`q`), which name customers.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

# A run of 8+ digits, optionally with +, spaces, dots, dashes or parentheses between them.
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d\s().-]{6,}\d(?![\w])")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
# The set-password link carries its token in the path (portal/profile/views.py).
_SECRET_PATH = re.compile(r"(/set-password/)[^/?#\s\"']+")
# Query parameters whose values are secrets or what an agent searched for.
SECRET_QUERY_PARAMETERS = ("hub.verify_token", "token", "access_token", "password", "q")
_SECRET_PARAMETER = re.compile(
    r"((?:^|[?&;\s])(?:" + "|".join(re.escape(name) for name in SECRET_QUERY_PARAMETERS) + r")=)[^&#\s\"']*"
)
SECRET_FIELDS = frozenset({"body", "text", "payload", "payload_json", "caption", "message", "notes"})
REDACTED = "[redacted]"


def mask_phone(match_or_text: re.Match | str) -> str:
    raw = match_or_text.group(0) if isinstance(match_or_text, re.Match) else match_or_text
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 8:
        return raw
    return ("+" if raw.startswith("+") else "") + "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str) -> str:
    text = _SECRET_PATH.sub(rf"\1{REDACTED}", text)
    text = _SECRET_PARAMETER.sub(rf"\1{REDACTED}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(mask_phone, text)


def mask_value(value: Any) -> Any:
    """Mask a log argument: strings are masked, containers (payloads) are never printed."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict | list | tuple | set | bytes):
        return REDACTED
    return value


class PiiMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            if isinstance(record.args, dict):
                # In place: gunicorn's access log passes a dict subclass that answers "-" for
                # atoms it lacks, and the format relies on that.
                for key, value in record.args.items():
                    record.args[key] = REDACTED if key in SECRET_FIELDS else mask_value(value)
            else:
                record.args = tuple(mask_value(a) for a in record.args)
        record.msg = mask_text(str(record.msg))
        for name in SECRET_FIELDS & record.__dict__.keys():
            setattr(record, name, REDACTED)
        if record.exc_info and not record.exc_text:
            # Exception messages often quote the offending value: format the traceback here,
            # masked, so the handler prints this text instead of formatting it again.
            record.exc_text = mask_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
        return True


_FILTER = PiiMaskingFilter()


def install(*logger_names: str) -> None:
    """Put the filter on every handler of the root logger and the named loggers."""
    for name in ("", *logger_names):
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)

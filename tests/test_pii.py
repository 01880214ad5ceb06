"""Every log line goes through the masking filter."""

import logging

from portal.pii import PiiMaskingFilter, mask_text


def _format(record: logging.LogRecord) -> str:
    PiiMaskingFilter().filter(record)
    return logging.Formatter("%(message)s").format(record)


def _record(msg, args=()):
    return logging.LogRecord("atende.test", logging.INFO, __file__, 1, msg, args, None)


def test_phone_keeps_only_the_last_four_digits():
    line = _format(_record("contact %s wrote", ("+5511987654321",)))
    assert "4321" in line and "98765" not in line and "+5511" not in line


def test_phone_in_other_formats_is_masked():
    assert "98765" not in mask_text("ligar para (11) 98765-4321 amanhã")
    assert "5511987654321" not in mask_text("wa_id=5511987654321")


def test_email_local_part_is_masked():
    line = _format(_record("invite sent to %s", ("maria.silva@example.com",)))
    assert "maria.silva" not in line and "example.com" in line


def test_payloads_and_bodies_are_never_logged():
    payload = {"entry": [{"changes": [{"value": {"messages": [{"text": {"body": "segredo"}}]}}]}]}
    line = _format(_record("event %s stored: %s", (42, payload)))
    assert "segredo" not in line and "[redacted]" in line and "42" in line
    record = _record("message stored")
    record.body = "segredo"
    PiiMaskingFilter().filter(record)
    assert record.body == "[redacted]"


def test_exception_text_is_masked():
    try:
        raise ValueError("bad phone 5511987654321")
    except ValueError:
        import sys

        record = logging.LogRecord("atende.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = _format(record)
    assert "5511987654321" not in line and "4321" in line


def test_the_filter_is_installed_on_the_root_handlers(app):
    handlers = logging.getLogger().handlers
    assert handlers and all(any(isinstance(f, PiiMaskingFilter) for f in h.filters) for h in handlers)

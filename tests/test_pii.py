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


def test_set_password_tokens_verify_tokens_and_search_terms_never_reach_a_log_line():
    line = _format(_record(
        '%s - - [%s] "%s" 200 -',
        ("127.0.0.1", "now", "GET /set-password/eyJhZ2VudCI6MX0.Zx1.secret-part HTTP/1.1"),
    ))
    assert "eyJhZ2VudCI6MX0" not in line and "/set-password/[redacted]" in line
    line = mask_text("GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=s3cr3t-token&hub.challenge=42")
    assert "s3cr3t-token" not in line and "hub.challenge=42" in line and "hub.mode=subscribe" in line
    line = mask_text('"GET /static/app.css HTTP/1.1" 200 "http://portal/inbox?status=new&q=Maria+Silva&page=2"')
    assert "Maria" not in line and "status=new" in line and "page=2" in line
    assert mask_text("q=Jo%C3%A3o&city=Recife") == "q=[redacted]&city=Recife"
    assert mask_text("GET /faq=1") == "GET /faq=1"


def test_the_gunicorn_access_log_masks_the_request_line_query_string_and_referer(tmp_path):
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from portal import pii

    log_file = tmp_path / "access.log"
    cfg = Config()
    cfg.set("accesslog", str(log_file))
    cfg.set("access_log_format", '%(r)s %(s)s %(q)s "%(f)s" "%({x-request-id}i)s"')
    logger = Logger(cfg)
    pii.install("gunicorn.access")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=s3cr3t-token&hub.challenge=7",
        "PATH_INFO": "/webhooks/whatsapp",
        "QUERY_STRING": "hub.mode=subscribe&hub.verify_token=s3cr3t-token&hub.challenge=7",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "http://127.0.0.1:5000/set-password/eyJhZ2VudCI6MX0.token?q=Maria",
    }
    response = SimpleNamespace(status="200 OK", sent=2, headers=[])
    try:
        logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    finally:
        for handler in list(logger.access_log.handlers):
            handler.close()
            logger.access_log.removeHandler(handler)
    line = log_file.read_text()
    assert "GET /webhooks/whatsapp?" in line and "hub.challenge=7" in line and '"-"' in line
    assert "s3cr3t-token" not in line and "eyJhZ2VudCI6MX0" not in line and "Maria" not in line

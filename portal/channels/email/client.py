"""Connections to an inbox's IMAP and SMTP servers (imaplib and smtplib, TLS checked against the
system's certificates). Every failure is a ChannelError: an SMTP 5xx reply is permanent, a 4xx
reply, a refused or dropped connection and a timeout are worth retrying
(docs/architecture.md, "E-mail")."""

from __future__ import annotations

import imaplib
import smtplib
import ssl
from email.message import EmailMessage

from portal.channels.base import ChannelError
from portal.channels.email.config import Server

TIMEOUT_SECONDS = 30
# error_code of a failure with no SMTP reply (connection refused, timeout, TLS or login trouble).
CONNECTION_FAILED = 0


def _context() -> ssl.SSLContext:
    return ssl.create_default_context()


def imap_connect(server: Server, timeout: float = TIMEOUT_SECONDS) -> imaplib.IMAP4:
    try:
        if server.security == "tls":
            connection = imaplib.IMAP4_SSL(server.host, server.port, ssl_context=_context(), timeout=timeout)
        else:
            connection = imaplib.IMAP4(server.host, server.port, timeout=timeout)
            if server.security == "starttls":
                connection.starttls(_context())
        connection.login(server.user, server.password)
    except imaplib.IMAP4.error as exc:
        raise ChannelError(CONNECTION_FAILED, f"IMAP: {_text(exc)}", retryable=True) from None
    except (OSError, ssl.SSLError) as exc:
        raise ChannelError(CONNECTION_FAILED, f"IMAP: {type(exc).__name__}: {_text(exc)}", retryable=True) from None
    return connection


def imap_select(connection: imaplib.IMAP4, folder: str) -> int:
    """Open the folder read-only (nothing is ever deleted or flagged) and return its UIDVALIDITY."""
    status, data = connection.select(_quote(folder), readonly=True)
    if status != "OK":
        raise ChannelError(CONNECTION_FAILED, f"IMAP: SELECT {folder}: {_text(data)}", retryable=True)
    _, values = connection.response("UIDVALIDITY")
    try:
        return int(values[0])
    except (TypeError, ValueError, IndexError):
        raise ChannelError(CONNECTION_FAILED, "IMAP: the server gave no UIDVALIDITY", retryable=True) from None


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def smtp_connect(server: Server, timeout: float = TIMEOUT_SECONDS) -> smtplib.SMTP:
    try:
        if server.security == "tls":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=_context())
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=timeout)
            if server.security == "starttls":
                connection.starttls(context=_context())
        if server.user:
            connection.login(server.user, server.password)
    except smtplib.SMTPResponseException as exc:
        raise smtp_error(exc.smtp_code, exc.smtp_error) from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise ChannelError(CONNECTION_FAILED, f"SMTP: {type(exc).__name__}: {_text(exc)}", retryable=True) from None
    return connection


def smtp_send(server: Server, message: EmailMessage, sender: str, recipients: list[str]) -> None:
    connection = smtp_connect(server)
    try:
        refused = connection.send_message(message, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise smtp_error(code, reply) from None
    except smtplib.SMTPResponseException as exc:
        raise smtp_error(exc.smtp_code, exc.smtp_error) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(CONNECTION_FAILED, f"SMTP: {type(exc).__name__}: {_text(exc)}", retryable=True) from None
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()
    if refused:
        code, reply = next(iter(refused.values()))
        raise smtp_error(code, reply)


def smtp_error(code: int, reply: bytes | str) -> ChannelError:
    """A 5xx reply is final; 4xx (and anything odd) may pass later."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return ChannelError(code, f"{code} {text}"[:500], retryable=not 500 <= code < 600)


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        value = b" ".join(v for v in value if isinstance(v, bytes)) or str(value)
    if isinstance(value, BaseException) and value.args:
        value = value.args[0]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)[:300]


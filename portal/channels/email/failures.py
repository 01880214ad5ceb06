"""Why an e-mail could not be sent, as an agent reads it (SMTP reply codes, bounces), and what
still helps. Stored on the message as error_code (the SMTP code; 0 for no reply at all) and
error_title (the server's own words; a bounce's start with BOUNCE_PREFIX)."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.channels.base import Remedy
from portal.channels.email.client import CONNECTION_FAILED

BOUNCE_PREFIX = "bounce: "


def describe(code: int | None, title: str | None) -> str | None:
    title = title or ""
    if title.startswith(BOUNCE_PREFIX):
        return _("The customer's mail server returned the e-mail: %(reason)s", reason=title[len(BOUNCE_PREFIX):])
    if code is None:
        return title or None
    if code == CONNECTION_FAILED:
        return _("The mail server could not be reached (%(detail)s).", detail=title)
    if code in (530, 534, 535, 538):
        return _("The mail server refused the inbox's credentials: an admin must check its SMTP settings.")
    if code in (550, 551, 553):
        return _("The mail server refused the customer's address: it may not exist (%(detail)s).", detail=title)
    if code == 552:
        return _("The e-mail is too large for the mail server.")
    if 500 <= code < 600:
        return _("The mail server refused the e-mail (%(detail)s).", detail=title)
    if 400 <= code < 500:
        return _("The mail server cannot take the e-mail right now (%(detail)s).", detail=title)
    return _("The e-mail could not be sent (%(detail)s).", detail=title)


def remedy(code: int | None) -> Remedy:
    if code in (550, 551, 552, 553, 554):
        return Remedy.none
    return Remedy.resend


def bounce_code(status: str, diagnostic: str) -> int:
    """The SMTP code a bounce names (`550 5.1.1 ...`), else one from its status class."""
    head = diagnostic.split(" ", 1)[0]
    if head.isdigit() and len(head) == 3:
        return int(head)
    return 550 if status.startswith("5") else 450

"""What the agent reads for a WhatsApp error code on a failed (or retrying) bubble, and what can
still be done; codes as in the Cloud API's error table (docs/architecture.md, "WhatsApp"). A code
missing from the table gets a generic reason; the code and Meta's own English title go in a tooltip
for whoever reports the problem."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.channels.base import Remedy


@dataclass(frozen=True)
class _Known:
    reason: LazyString
    remedy: Remedy


FAILURES: dict[int, _Known] = {
    # Transient: the job retries these with backoff; a resend helps once retries ran out.
    130429: _Known(_l("WhatsApp's rate limit was reached."), Remedy.resend),
    131056: _Known(_l("Too many messages to this customer in a short time."), Remedy.resend),
    4: _Known(_l("Too many requests to WhatsApp from this app."), Remedy.resend),
    80007: _Known(_l("Too many requests to WhatsApp from this account."), Remedy.resend),
    131000: _Known(_l("Something went wrong at WhatsApp."), Remedy.resend),
    131016: _Known(_l("WhatsApp is temporarily unavailable."), Remedy.resend),
    2: _Known(_l("WhatsApp is temporarily unavailable."), Remedy.resend),
    # Permanent for this message.
    131047: _Known(
        _l("More than 24 hours since the customer's last message: send a template instead."), Remedy.template
    ),
    # Meta calls it permanent, but a customer who updates the app or unblocks us is reachable again.
    131026: _Known(
        _l("Undeliverable: the number is not on WhatsApp, uses an old app, or blocked us."), Remedy.resend
    ),
    131048: _Known(
        _l("Sending is paused: too many customers blocked or reported our messages."), Remedy.resend
    ),
    131051: _Known(_l("WhatsApp does not support this message type."), Remedy.none),
    131052: _Known(_l("The media could not be downloaded."), Remedy.none),
    131053: _Known(_l("The media could not be uploaded."), Remedy.none),
    100: _Known(_l("WhatsApp refused a parameter of the message."), Remedy.none),
    131008: _Known(_l("A required parameter is missing."), Remedy.none),
    131009: _Known(_l("A parameter value is not valid."), Remedy.none),
    132000: _Known(_l("The template's parameter count does not match."), Remedy.none),
    132001: _Known(_l("The template does not exist in WhatsApp Manager for this language."), Remedy.none),
    132005: _Known(_l("The filled-in template text is too long."), Remedy.none),
    132012: _Known(_l("A template parameter has the wrong format."), Remedy.none),
    132015: _Known(_l("WhatsApp paused this template for low quality."), Remedy.none),
    132016: _Known(_l("WhatsApp disabled this template."), Remedy.none),
    # Our number, token or account: a resend works once an admin has fixed it.
    133010: _Known(_l("Our phone number is not registered with WhatsApp."), Remedy.resend),
    190: _Known(_l("The WhatsApp access token expired or is invalid; an admin must renew it."), Remedy.resend),
    368: _Known(_l("The WhatsApp account is restricted for policy reasons."), Remedy.resend),
    131031: _Known(_l("The WhatsApp account is locked."), Remedy.resend),
}
UNKNOWN = _Known(_l("WhatsApp did not accept the message."), Remedy.resend)
# No code at all: the call never got an answer (a timeout, a refused connection, an HTTP 5xx).
NO_ANSWER = _Known(_l("WhatsApp could not be reached."), Remedy.resend)


def _known(code: int | None) -> _Known:
    return NO_ANSWER if code is None else FAILURES.get(code, UNKNOWN)


def describe(code: int | None, title: str | None) -> str | None:
    """The readable sentence for a stored failure (None when nothing failed)."""
    if code is None and not title:
        return None
    return str(_known(code).reason)


def remedy(code: int | None) -> Remedy:
    return _known(code).remedy


def details(code: int | None, title: str | None) -> str:
    """WhatsApp's own words, for a tooltip."""
    if code is None:
        return title or ""
    return _("WhatsApp error %(code)s: %(title)s", code=code, title=title or "")

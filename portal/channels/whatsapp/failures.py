"""What the agent reads for a WhatsApp error code, on a failed (or retrying) bubble; codes as in
the Cloud API's error table (docs/architecture.md, "WhatsApp")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FAILURE_REASONS = {
    131047: _l("More than 24 hours since the customer's last message: send a template instead."),
    131026: _l("Undeliverable: the number is not on WhatsApp, uses an old app, or blocked us."),
    131048: _l("Sending is paused: too many customers blocked or reported our messages."),
    131051: _l("WhatsApp does not support this message type."),
    131052: _l("The media could not be downloaded."),
    131053: _l("The media could not be uploaded."),
    100: _l("WhatsApp refused a parameter of the message."),
    131008: _l("A required parameter is missing."),
    131009: _l("A parameter value is not valid."),
    132000: _l("The template's parameter count does not match."),
    132001: _l("The template does not exist in WhatsApp Manager for this language."),
    132005: _l("The filled-in template text is too long."),
    132012: _l("A template parameter has the wrong format."),
    133010: _l("Our phone number is not registered with WhatsApp."),
    190: _l("The WhatsApp access token expired or is invalid; an admin must renew it."),
    368: _l("The WhatsApp account is restricted for policy reasons."),
    131031: _l("The WhatsApp account is locked."),
    130429: _l("WhatsApp's rate limit was reached."),
    131056: _l("Too many messages to this customer in a short time."),
}


def describe(code: int | None, title: str | None) -> str | None:
    """The readable sentence for a code, else WhatsApp's own title (None when there is neither)."""
    reason = FAILURE_REASONS.get(code) if code is not None else None
    return str(reason) if reason else title

"""What e-mail processing notes on a mail's webhook event, or fails it with: stored in English,
shown in the reader's language on the webhook event log (portal.services.webhook_events)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

NO_INBOX = _l("The e-mail inbox %(inbox)s no longer exists.")
MISSING_COPY = _l("The stored copy of the mail (%(file)s) is missing: fetch it again from the server.")
ALREADY_STORED = _l("The mail %(message_id)s was already stored; nothing was added.")
NO_SENDER = _l("The mail has no sender address, so it was not shown in any inbox.")
OWN_MAIL = _l("A mail from the inbox's own address was not shown as a customer's.")
TRUNCATED = _l("The mail was %(size)s bytes, over the limit of %(limit)s bytes: only its beginning was kept.")
BROKEN_MIME = _l("The mail's MIME structure is broken: it was read as far as possible.")
SEVERAL_SENDERS = _l("The mail names several senders; only the first was used.")
MANY_RECIPIENTS = _l("The mail had %(count)s recipients; only the first %(kept)s were kept.")
MISLEADING_NAME = _l(
    "The sender's display name (%(name)s) looked like an e-mail address; the real address %(address)s is shown instead."
)
LONG_BODY = _l("The mail's text was cut to the length Atende keeps.")
MANY_ATTACHMENTS = _l("The mail had more attachments than Atende keeps; the rest were left on the server.")
AUTO_REPLY_ALONE = _l("An automatic reply (%(subject)s) that answers no conversation was not shown.")
BOUNCE_APPLIED = _l("A bounce for message %(message_id)s marked it failed: %(reason)s")
BOUNCE_UNKNOWN = _l("A bounce for %(message_id)s, which Atende did not send, was not applied.")
BOUNCE_DELAYED = _l("A delivery delay notice for %(message_id)s was noted; the mail may still arrive.")

ALL = (
    NO_INBOX, MISSING_COPY, ALREADY_STORED, NO_SENDER, OWN_MAIL, TRUNCATED, BROKEN_MIME, SEVERAL_SENDERS,
    MANY_RECIPIENTS, MISLEADING_NAME, LONG_BODY, MANY_ATTACHMENTS, AUTO_REPLY_ALONE, BOUNCE_APPLIED,
    BOUNCE_UNKNOWN, BOUNCE_DELAYED,
)

"""What WhatsApp processing notes on a webhook event, or fails it with: stored in English, shown in
the reader's language on the webhook event log (portal.services.webhook_events.readable_error)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

UNKNOWN_NUMBER = _l(
    "No inbox has the WhatsApp number ID %(number)s, so nothing was shown in any inbox: add an inbox "
    "with this number under Admin > Inboxes, then replay this event."
)
UNKNOWN_REACTION = _l("A reaction to message %(wamid)s, which Atende does not hold, was not shown.")
UNKNOWN_EDIT = _l("An edit of message %(wamid)s, which Atende does not hold as the customer's, was not applied.")
UNKNOWN_DELETION = _l(
    "A deletion of message %(wamid)s, which Atende does not hold as the customer's, was not applied."
)
UNKNOWN_STATUS = _l(
    "A status update for message %(wamid)s, which Atende did not send or has not yet recorded as sent, was not applied."
)
STATUS_NOT_UNDERSTOOD = _l("A status update Atende does not understand (%(status)s) was ignored.")
NO_CONTACT_FOR_NUMBER_CHANGE = _l("A number change for a customer Atende has no contact for changed nothing.")
UNKNOWN_TEMPLATE_STATUS = _l("Template %(name)s: WhatsApp sent a review status Atende does not know (%(event)s).")
UNKNOWN_TEMPLATE = _l("A review status for template %(name)s (%(language)s), which Atende does not have, was not applied.")
WHATSAPP_ERROR = _l("WhatsApp reported a problem with the number (code %(code)s): %(title)s")
SENDER_ID_NOT_PHONE = _l("Message %(wamid)s: the sender's WhatsApp id is not a phone number.")
OLD_ID_NOT_PHONE = _l("Message %(wamid)s: the old WhatsApp id is not a phone number.")
NEW_ID_NOT_PHONE = _l("Message %(wamid)s: the new WhatsApp id is not a phone number.")
NO_ENTRY = _l("The notification has no entry list.")
CHANGE_WITHOUT_VALUE = _l("A messages change has no value object.")
ENTRY_WITHOUT_CHANGES = _l("An entry has no changes list.")
CHANGE_NOT_OBJECT = _l("A change is not an object.")
MESSAGE_NOT_OBJECT = _l("A message is not an object.")
MESSAGE_WITHOUT_ID = _l("A message has no id.")
MESSAGE_WITHOUT_SENDER = _l(
    "Message %(wamid)s has no sender WhatsApp id (senders known only by a username are not supported)."
)
TEMPLATE_UPDATE_INCOMPLETE = _l("A template status update has no template name or event.")
STATUS_NOT_OBJECT = _l("A status is not an object.")
STATUS_WITHOUT_ID = _l("A status has no message id.")

ALL = tuple(value for name, value in sorted(globals().items()) if name.isupper() and name != "ALL")

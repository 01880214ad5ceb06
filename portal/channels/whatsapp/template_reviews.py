"""WhatsApp's template reviews (message_template_status_update) applied to message_templates."""

from __future__ import annotations

from portal.channels.whatsapp.webhook import TemplateStatusUpdate
from portal.models import TemplateStatus
from portal.services import templates

# WhatsApp's events that are not a state of their own: a reinstated template is approved again.
_EVENT_STATUS = {"REINSTATED": TemplateStatus.approved}


def apply(update: TemplateStatusUpdate) -> str | None:
    """Store WhatsApp's review status on the matching template; a note when none matches or the
    event is not a status we know."""
    status = _EVENT_STATUS.get(update.event.upper())
    if status is None:
        try:
            status = TemplateStatus(update.event.lower())
        except ValueError:
            return f"template {update.name}: status {update.event} not known"
    if not templates.apply_review(update.name, update.language, status, reason=update.reason):
        return f"status {update.event} for unknown template {update.name} ({update.language or '?'})"
    return None

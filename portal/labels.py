"""Translated names of the enum values the UI shows: `{{ conversation.status|label }}` in templates,
the mappings below for form choices. Stored values stay English identifiers."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from portal.models import (
    Channel,
    ConversationStatus,
    DeliveryStatus,
    IncidentKind,
    MessageStatus,
    Priority,
    Role,
    Severity,
    TemplateStatus,
    WebhookStatus,
)

# A context keeps a status apart from the same English word elsewhere ("Closed" as a report column).
STATUS_LABELS = {
    ConversationStatus.new: _lp("conversation status", "New"),
    ConversationStatus.triage: _lp("conversation status", "Triage"),
    ConversationStatus.proposal: _lp("conversation status", "Proposal"),
    ConversationStatus.waiting: _lp("conversation status", "Waiting"),
    ConversationStatus.active: _lp("conversation status", "Active"),
    ConversationStatus.lost: _lp("conversation status", "Lost"),
    ConversationStatus.closed: _lp("conversation status", "Closed"),
}
PRIORITY_LABELS = {
    Priority.low: _l("Low"),
    Priority.normal: _l("Normal"),
    Priority.high: _l("High"),
    Priority.urgent: _l("Urgent"),
}
CHANNEL_LABELS = {Channel.whatsapp: _l("WhatsApp"), Channel.email: _l("E-mail")}
ROLE_LABELS = {Role.agent: _l("Agent"), Role.supervisor: _l("Supervisor"), Role.admin: _lp("role", "Admin")}
SEVERITY_LABELS = {
    Severity.critical: _l("Critical"),
    Severity.high: _l("High"),
    Severity.medium: _l("Medium"),
    Severity.low: _l("Low"),
}
KIND_LABELS = {IncidentKind.sla_breach: _l("SLA breach"), IncidentKind.manual: _l("Manual")}
MESSAGE_STATUS_LABELS = {
    MessageStatus.queued: _l("Queued"),
    MessageStatus.sent: _l("Sent"),
    MessageStatus.delivered: _l("Delivered"),
    MessageStatus.read: _l("Read"),
    MessageStatus.failed: _l("Failed"),
}
WEBHOOK_STATUS_LABELS = {
    WebhookStatus.pending: _l("Pending"),
    WebhookStatus.processed: _l("Processed"),
    WebhookStatus.failed: _l("Failed"),
}
DELIVERY_STATUS_LABELS = {
    DeliveryStatus.pending: _l("Pending"),
    DeliveryStatus.delivered: _l("Delivered"),
    DeliveryStatus.failed: _l("Failed"),
}

TEMPLATE_STATUS_LABELS = {
    TemplateStatus.approved: _lp("template status", "Approved"),
    TemplateStatus.pending: _lp("template status", "In review"),
    TemplateStatus.rejected: _lp("template status", "Rejected"),
    TemplateStatus.paused: _lp("template status", "Paused"),
    TemplateStatus.disabled: _lp("template status", "Disabled"),
    TemplateStatus.flagged: _lp("template status", "Flagged for low quality"),
    TemplateStatus.in_appeal: _lp("template status", "In appeal"),
    TemplateStatus.pending_deletion: _lp("template status", "Being deleted"),
    TemplateStatus.deleted: _lp("template status", "Deleted"),
    TemplateStatus.archived: _lp("template status", "Archived"),
    TemplateStatus.limit_exceeded: _lp("template status", "Over the template limit"),
}

_BY_ENUM: dict[type[StrEnum], dict] = {
    ConversationStatus: STATUS_LABELS,
    Priority: PRIORITY_LABELS,
    Channel: CHANNEL_LABELS,
    Role: ROLE_LABELS,
    Severity: SEVERITY_LABELS,
    IncidentKind: KIND_LABELS,
    MessageStatus: MESSAGE_STATUS_LABELS,
    WebhookStatus: WEBHOOK_STATUS_LABELS,
    DeliveryStatus: DELIVERY_STATUS_LABELS,
    TemplateStatus: TEMPLATE_STATUS_LABELS,
}

_BY_NAME = {enum_cls.__name__: enum_cls for enum_cls in _BY_ENUM}


def label(value: StrEnum | str | None, enum: str = "") -> str:
    """The value's name in the current language. A plain string (e.g. a rule's parameter) names
    its enum: `{{ trigger.parameter|label("ConversationStatus") }}`. Unknown values show as they are."""
    if value is None:
        return ""
    enum_cls = _BY_NAME.get(enum) or type(value)
    labels = _BY_ENUM.get(enum_cls, {})
    try:
        return str(labels.get(enum_cls(value), value))
    except ValueError:
        return str(value)

"""Translated names of the enum values the UI shows: `{{ conversation.status|label }}` in templates,
the mappings below for form choices. Stored values stay English identifiers."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from portal.models import (
    AssignMode,
    CampaignStatus,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    IncidentKind,
    IncidentStatus,
    MessageStatus,
    Priority,
    RecipientStatus,
    Role,
    ScheduledMessageStatus,
    Severity,
    TemplateCategory,
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
INCIDENT_STATUS_LABELS = {
    IncidentStatus.open: _lp("incident status", "Open"),
    IncidentStatus.resolved: _lp("incident status", "Resolved"),
}
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
TEMPLATE_CATEGORY_LABELS = {
    TemplateCategory.marketing: _lp("template category", "Marketing"),
    TemplateCategory.utility: _lp("template category", "Utility"),
    TemplateCategory.authentication: _lp("template category", "Authentication"),
}
CAMPAIGN_STATUS_LABELS = {
    CampaignStatus.draft: _lp("campaign status", "Draft: not sent"),
    CampaignStatus.scheduled: _lp("campaign status", "Scheduled"),
    CampaignStatus.running: _lp("campaign status", "Sending"),
    CampaignStatus.paused: _lp("campaign status", "Paused"),
    CampaignStatus.completed: _lp("campaign status", "Completed"),
    CampaignStatus.cancelled: _lp("campaign status", "Cancelled"),
}
RECIPIENT_STATUS_LABELS = {
    RecipientStatus.pending: _lp("campaign recipient", "Waiting"),
    RecipientStatus.queued: _lp("campaign recipient", "Queued"),
    RecipientStatus.excluded: _lp("campaign recipient", "Excluded"),
    RecipientStatus.failed: _lp("campaign recipient", "Not queued"),
    RecipientStatus.cancelled: _lp("campaign recipient", "Cancelled"),
}
SCHEDULED_STATUS_LABELS = {
    ScheduledMessageStatus.pending: _lp("scheduled message", "Scheduled"),
    ScheduledMessageStatus.sent: _lp("scheduled message", "Sent"),
    ScheduledMessageStatus.failed: _lp("scheduled message", "Not sent"),
    ScheduledMessageStatus.cancelled: _lp("scheduled message", "Cancelled"),
}

# WhatsApp's message types (messages.message_type), for a message without text of its own.
MESSAGE_TYPE_LABELS = {
    "text": _lp("message type", "Text"),
    "image": _lp("message type", "Image"),
    "video": _lp("message type", "Video"),
    "audio": _lp("message type", "Audio"),
    "document": _lp("message type", "Document"),
    "sticker": _lp("message type", "Sticker"),
    "location": _lp("message type", "Location"),
    "contacts": _lp("message type", "Contact card"),
    "interactive": _lp("message type", "Button or list reply"),
    "button": _lp("message type", "Button reply"),
    "reaction": _lp("message type", "Reaction"),
    "order": _lp("message type", "Order"),
    "template": _lp("message type", "Template"),
    "menu": _lp("message type", "Menu"),
    "system": _lp("message type", "System notice"),
    "revoke": _lp("message type", "Deleted message"),
    "unsupported": _lp("message type", "Message type WhatsApp does not support"),
}


def message_type_label(message_type: str | None) -> str:
    """`[sticker]` becomes "Figurinha"; a type WhatsApp adds later reads as "Message"."""
    return str(MESSAGE_TYPE_LABELS.get(message_type or "", _lp("message type", "Message")))


ASSIGN_MODE_LABELS = {
    AssignMode.off: _lp("auto-assignment", "Off"),
    AssignMode.round_robin: _l("Round-robin"),
    AssignMode.fewest_open: _l("Fewest open"),
}

_BY_ENUM: dict[type[StrEnum], dict] = {
    AssignMode: ASSIGN_MODE_LABELS,
    ConversationStatus: STATUS_LABELS,
    Priority: PRIORITY_LABELS,
    Channel: CHANNEL_LABELS,
    Role: ROLE_LABELS,
    Severity: SEVERITY_LABELS,
    IncidentKind: KIND_LABELS,
    IncidentStatus: INCIDENT_STATUS_LABELS,
    MessageStatus: MESSAGE_STATUS_LABELS,
    WebhookStatus: WEBHOOK_STATUS_LABELS,
    DeliveryStatus: DELIVERY_STATUS_LABELS,
    TemplateStatus: TEMPLATE_STATUS_LABELS,
    TemplateCategory: TEMPLATE_CATEGORY_LABELS,
    CampaignStatus: CAMPAIGN_STATUS_LABELS,
    RecipientStatus: RECIPIENT_STATUS_LABELS,
    ScheduledMessageStatus: SCHEDULED_STATUS_LABELS,
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


# -- audit log ------------------------------------------------------------------------------------
# Each action recorded with portal.services.audit.record() as a sentence; %(target)s is the row
# it concerns (TARGET_LABELS). tests/test_pt_br_screens.py fails on an action left out here.
AUDIT_ACTION_LABELS = {
    "agent.created": _l("Created %(target)s"),
    "agent.updated": _l("Edited %(target)s"),
    "agent.role_changed": _l("Changed the role of %(target)s"),
    "agent.inboxes_changed": _l("Changed the inboxes of %(target)s"),
    "inbox.created": _l("Added %(target)s"),
    "inbox.updated": _l("Edited %(target)s"),
    "inbox.enabled": _l("Enabled %(target)s"),
    "inbox.disabled": _l("Disabled %(target)s"),
    "inbox.members_changed": _l("Changed the agents of %(target)s"),
    "agent.deactivated": _l("Deactivated %(target)s"),
    "agent.reactivated": _l("Reactivated %(target)s"),
    "agent.password_reset": _l("Reset the password of %(target)s"),
    "agent.password_set": _l("Set their password through a link"),
    "api_token.created": _l("Created %(target)s"),
    "api_token.revoked": _l("Revoked %(target)s"),
    "api_token.revoked_all": _l("Revoked every API token of %(target)s"),
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Failed to sign in"),
    "auth.logout": _l("Signed out"),
    "auth.login_throttled": _l("Sign-ins refused after too many attempts"),
    "auth.two_factor_failed": _l("Entered a wrong two-factor code"),
    "auth.two_factor_throttled": _l("Two-factor codes refused after too many attempts"),
    "two_factor.enabled": _l("Turned on two-factor sign-in"),
    "two_factor.disabled": _l("Turned off two-factor sign-in"),
    "two_factor.reset": _l("Reset the two-factor sign-in of %(target)s"),
    "two_factor.recovery_code_used": _l("Signed in with a recovery code"),
    "two_factor.recovery_codes_replaced": _l("Replaced their recovery codes"),
    "contact.created": _l("Created %(target)s"),
    "contact.updated": _l("Edited %(target)s"),
    "contact.deleted": _l("Deleted %(target)s"),
    "contact.merged": _l("Merged another contact into %(target)s"),
    "contact.phone_changed": _l("Changed the phone of %(target)s"),
    "conversation.custom_fields_changed": _l("Changed the custom fields of %(target)s"),
    "contact.exported": _l("Exported everything about %(target)s (LGPD)"),
    "contact.erased": _l("Erased %(target)s (LGPD)"),
    "inbox.retention_changed": _l("Changed how long %(target)s keeps messages"),
    "retention.applied": _l("Removed old message text and media of %(target)s (retention)"),
    "custom_field.created": _l("Added the custom field %(target)s"),
    "custom_field.updated": _l("Edited the custom field %(target)s"),
    "custom_field.deleted": _l("Deleted the custom field %(target)s"),
    "contact.opted_out": _l("%(target)s opted out of campaigns"),
    "contact.opted_in": _l("%(target)s opted back in to campaigns"),
    "campaign.created": _l("Prepared %(target)s"),
    "campaign.confirmed": _l("Confirmed %(target)s"),
    "campaign.paused": _l("Paused %(target)s"),
    "campaign.resumed": _l("Resumed %(target)s"),
    "campaign.cancelled": _l("Cancelled %(target)s"),
    "scheduled_message.created": _l("Scheduled a message in %(target)s"),
    "scheduled_message.cancelled": _l("Cancelled a scheduled message in %(target)s"),
    "contact.whatsapp_number_changed": _l("WhatsApp reported a new number for %(target)s"),
    "contacts.exported": _l("Exported contacts"),
    "contacts.listed": _l("Listed contacts through the API"),
    "contacts.imported": _l("Imported contacts"),
    "conversation.assigned": _l("Assigned %(target)s"),
    "conversation.merged": _l("Moved %(target)s in a contact merge"),
    "conversation.priority_changed": _l("Changed the priority of %(target)s"),
    "conversation.status_changed": _l("Changed the status of %(target)s"),
    "conversation.tags_changed": _l("Changed the tags of %(target)s"),
    "conversation.team_changed": _l("Changed the team of %(target)s"),
    "team.created": _l("Created %(target)s"),
    "team.updated": _l("Edited %(target)s"),
    "team.deleted": _l("Deleted %(target)s"),
    "team.hours_changed": _l("Changed the business hours of %(target)s"),
    "inbox.triage_changed": _l("Changed the triage menu of %(target)s"),
    "inbox.csat_changed": _l("Changed the satisfaction survey of %(target)s"),
    "conversation.triaged": _l("Routed %(target)s by its triage menu"),
    "conversation.sla_warned": _l("Warned that %(target)s is close to an SLA target"),
    "agent.capacity_changed": _l("Changed the capacity of %(target)s"),
    "conversation.transferred": _l("Transferred %(target)s with a note"),
    "conversation.exported": _l("Downloaded the transcript of %(target)s"),
    "conversation.snoozed": _l("Snoozed %(target)s"),
    "conversation.unsnoozed": _l("Brought %(target)s back from its snooze"),
    "conversation.snooze_ended": _l("%(target)s came back from its snooze"),
    "crm.delivery_retried": _l("Retried %(target)s"),
    "dead_letter.requeued": _l("Requeued %(target)s"),
    "dead_letter.discarded": _l("Discarded %(target)s"),
    "incident.created": _l("Opened %(target)s"),
    "incident.updated": _l("Edited %(target)s"),
    "message.requeued": _l("Sent %(target)s again"),
    "message.split": _l("Sent a long reply in parts, the first %(target)s"),
    "profile.password_changed": _l("Changed their password"),
    "profile.updated": _l("Edited their profile"),
    "quick_reply.created": _l("Created %(target)s"),
    "quick_reply.updated": _l("Edited %(target)s"),
    "quick_reply.deleted": _l("Deleted %(target)s"),
    "quick_replies.imported": _l("Imported quick replies"),
    "rule.created": _l("Created %(target)s"),
    "rule.updated": _l("Edited %(target)s"),
    "rule.deleted": _l("Deleted %(target)s"),
    "settings.changed": _l("Changed %(target)s"),
    "settings.test_message_sent": _l("Sent a test message"),
    "settings.test_message_failed": _l("Sent a test message that failed"),
    "sla.targets_changed": _l("Changed the SLA targets"),
    "template.created": _l("Created %(target)s"),
    "template.updated": _l("Edited %(target)s"),
    "template.deleted": _l("Deleted %(target)s"),
    "template.status_changed": _l("WhatsApp changed the status of %(target)s"),
    "template.synced": _l("Synced the templates of a WhatsApp business account"),
    "template.sync_failed": _l("Could not sync the templates of a WhatsApp business account"),
    "webhook_event.replayed": _l("Replayed %(target)s"),
    "webhook_event.revealed": _l("Revealed the payload of %(target)s"),
}
# audit_log.target_type (a table name, or a pseudo-target) with its id.
TARGET_LABELS = {
    "agents": _l("agent #%(id)s"),
    "contacts": _l("contact #%(id)s"),
    "conversations": _l("conversation #%(id)s"),
    "messages": _l("message #%(id)s"),
    "incidents": _l("incident #%(id)s"),
    "inboxes": _l("inbox #%(id)s"),
    "webhook_events": _l("webhook event #%(id)s"),
    "message_templates": _l("template #%(id)s"),
    "auto_rules": _l("rule #%(id)s"),
    "quick_replies": _l("quick reply #%(id)s"),
    "teams": _l("team #%(id)s"),
    "api_tokens": _l("API token #%(id)s"),
    "crm_deliveries": _l("CRM delivery #%(id)s"),
    "campaigns": _l("campaign #%(id)s"),
    "custom_field_definitions": _l("#%(id)s"),
    "rq_job": _l("failed job %(id)s"),
    "settings": _l("the setting %(id)s"),
    "sla_targets": _l("the SLA targets"),
}
TARGET_TYPE_LABELS = {
    "agents": _l("Agents"),
    "contacts": _l("Contacts"),
    "conversations": _l("Conversations"),
    "messages": _l("Messages"),
    "incidents": _l("Incidents"),
    "inboxes": _l("Inboxes"),
    "webhook_events": _l("Webhook events"),
    "message_templates": _l("Templates"),
    "auto_rules": _l("Auto-rules"),
    "quick_replies": _l("Quick replies"),
    "teams": _l("Teams"),
    "api_tokens": _l("API tokens"),
    "crm_deliveries": _l("CRM deliveries"),
    "custom_field_definitions": _l("Custom fields"),
    "rq_job": _l("Failed jobs"),
    "settings": _l("Settings"),
    "sla_targets": _l("SLA targets"),
}
# The details' keys most entries carry; others show as recorded.
AUDIT_DETAIL_LABELS = {
    "old": _l("before"),
    "new": _l("after"),
    "fields": _l("fields"),
    "kind": _l("kind"),
    "severity": _l("severity"),
    "method": _l("method"),
    "email": _l("e-mail"),
    "account": _l("account"),
    "role": _l("role"),
    "count": _l("count"),
    "name": _l("name"),
    "reason": _l("reason"),
    "code": _l("code"),
    "queue": _l("queue"),
    "function": _l("job"),
    "status": _l("status"),
    "refusals": _l("refusals"),
    "wait_seconds": _l("wait (seconds)"),
    "locale": _l("language"),
    "template_key": _l("template"),
    "shortcut": _l("shortcut"),
    "language": _l("language"),
    "q": _l("search"),
    "cursor": _l("page after"),
    "open_conversations": _l("open conversations"),
    "phone_number_id": _l("phone number ID"),
    "changed": _l("changed"),
    "members": _l("members"),
    "auto_assign": _l("auto-assignment"),
    "team": _l("team"),
    "automatic": _l("automatic"),
    "business_hours": _l("business hours"),
    "holidays": _l("holidays"),
    "word": _l("word"),
    "message_id": _l("message"),
    "previous": _l("previously"),
    "recipients": _l("recipients"),
    "key": _l("key"),
    "messages": _l("messages"),
    "files": _l("files"),
    "conversations": _l("conversations"),
    "months": _l("months"),
    "webhook_events": _l("webhook events"),
    "erased": _l("erased"),
    "entity": _l("field of"),
    "send_at": _l("send at"),
    # auto-rules (rule.created, rule.updated, rule.deleted; portal.services.rule_steps lists the keys)
    "trigger_key": _l("trigger"),
    "template_id": _l("template"),
    "enabled": _l("enabled"),
    "conditions": _l("conditions"),
    "actions": _l("actions"),
    "cooldown_minutes": _l("cool-down (minutes)"),
    "allow_second_reply": _l("may send a second reply"),
    "inbox_id": _l("inbox"),
    "team_id": _l("team"),
    "agent_id": _l("agent"),
    "tag": _l("tag"),
    "priority": _l("priority"),
    "channel": _l("channel"),
    "contact_field": _l("contact field"),
    "contact_value": _l("contact value"),
    "text": _l("text"),
    # the triage menu (inbox.triage_changed, conversation.triaged, team keywords)
    "keywords": _l("keywords"),
    "team_ids": _l("teams"),
    "default_team_id": _l("default team"),
    "timeout_minutes": _l("minutes to answer"),
    "how": _l("how"),
    "sla_target": _l("SLA target"),
}
# Recorded values that are words of the portal's own, by the key they are recorded under.
AUDIT_VALUE_LABELS = {
    "business_hours": {"inside": _l("inside business hours"), "outside": _l("outside business hours")},
    "how": {
        "choice": _l("the customer's choice"),
        "invalid_answers": _l("answers that chose no team"),
        "timeout": _l("no answer in time"),
    },
    "sla_target": {"first_response": _l("first response"), "resolution": _l("resolution")},
    "contact_field": {"name": _l("name"), "email": _l("e-mail"), "city": _l("city"), "phone": _l("phone")},
}
UNDESCRIBED_ACTION = _l("Recorded action")


def audit_action_label(action: str) -> str:
    """The action without its target, for the filter: "Changed the status of …"."""
    template = AUDIT_ACTION_LABELS.get(action)
    return str(template) % {"target": "…"} if template is not None else f"{UNDESCRIBED_ACTION} ({action})"


def audit_target_label(target_type: str | None, target_id: str | None) -> str:
    if not target_type:
        return ""
    if target_id is None:
        return str(TARGET_TYPE_LABELS.get(target_type, target_type))
    template = TARGET_LABELS.get(target_type)
    return str(template % {"id": target_id}) if template is not None else f"{target_type} {target_id}"


def audit_sentence(action: str, target_type: str | None, target_id: str | None) -> str:
    """"Changed the status of conversation #12": the action with its target, in the reader's language."""
    target = audit_target_label(target_type, target_id)
    template = AUDIT_ACTION_LABELS.get(action)
    if template is None:
        return f"{UNDESCRIBED_ACTION} · {target}" if target else str(UNDESCRIBED_ACTION)
    return str(template) % {"target": target}


def any_enum_label(value: object) -> str:
    """A recorded value that is one of the portal's enum values ("sla_breach", "high"), translated."""
    if isinstance(value, str):
        for labels in _BY_ENUM.values():
            for member, text in labels.items():
                if member.value == value:
                    return str(text)
    if isinstance(value, list):
        return ", ".join(any_enum_label(item) for item in value)
    return str(value)


def _trigger_label(key: object) -> str:
    """An auto-rule's trigger key ("message.keyword:boleto") as the rules page names it."""
    from portal.services.rules import RuleError, parse_trigger_key

    try:
        trigger = parse_trigger_key(str(key))
    except (RuleError, ValueError, KeyError):
        return str(key)
    text = str(trigger.spec.label)
    if trigger.parameter is None:
        return text
    parameter = label(trigger.parameter, "ConversationStatus") if trigger.spec.parameter == "status" else trigger.parameter
    return f"{text}: {parameter}"


def audit_value(key: str, value: object) -> str:
    """One recorded value in the reader's language: nested objects (a rule's conditions and
    actions) with their keys named, yes/no for booleans, enum values and the portal's own words
    translated."""
    if isinstance(value, dict):
        return "; ".join(f"{AUDIT_DETAIL_LABELS.get(k, k)}: {audit_value(k, v)}" for k, v in value.items()) or "—"
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if value is None:
        return "—"
    if key == "trigger_key":
        return _trigger_label(value)
    words = AUDIT_VALUE_LABELS.get(key, {})
    if isinstance(value, str) and value in words:
        return str(words[value])
    return any_enum_label(value)


def audit_details(details: dict | None) -> list[tuple[str, str]]:
    """(label, value) pairs of an entry's details; the caller masks personal data."""
    if not details:
        return []
    return [(str(AUDIT_DETAIL_LABELS.get(key, key)), audit_value(key, value)) for key, value in details.items()]


# -- dead letters ---------------------------------------------------------------------------------
JOB_LABELS = {
    "portal.jobs.outbound.send_message": _l("Send a message to WhatsApp"),
    "portal.jobs.outbound.mark_read": _l("Tell WhatsApp a message was read"),
    "portal.jobs.webhooks.process_webhook_event": _l("Process a webhook event"),
    "portal.jobs.crm.deliver_crm_event": _l("Deliver an event to the CRM"),
    "portal.jobs.media.download_media": _l("Download a customer's media"),
    "portal.jobs.maintenance.sweep_pending": _l("Re-enqueue pending work"),
    "portal.jobs.rules.fire_timed_rules": _l("Run the timed auto-rules"),
    "portal.jobs.sla.check_sla_breaches": _l("Check SLA targets"),
    "portal.jobs.assignment.assign_waiting": _l("Assign waiting conversations"),
    "portal.jobs.sla.warn_sla": _l("Warn of SLA targets close to being missed"),
    "portal.jobs.triage.expire_menus": _l("Route unanswered triage menus to the default team"),
}
QUEUE_LABELS = {
    "webhooks": _l("Webhooks"),
    "outbound": _l("Outgoing messages"),
    "crm": _l("CRM"),
    "default": _l("Other work"),
}
WORKER_STATE_LABELS = {
    "idle": _l("waiting for work"),
    "busy": _l("working"),
    "started": _l("starting"),
    "suspended": _l("suspended"),
}


def job_label(function: str) -> str:
    return str(JOB_LABELS.get(function, _l("Background job")))


def queue_label(name: str) -> str:
    return str(QUEUE_LABELS.get(name, name))


def worker_state_label(state: str) -> str:
    return str(WORKER_STATE_LABELS.get(state, state))


# -- webhook events -------------------------------------------------------------------------------
WEBHOOK_PROVIDER_LABELS = {"whatsapp": _l("WhatsApp"), "crm": _l("CRM")}
# Meta's change fields, and the CRM's event types (README: "CRM integration").
WEBHOOK_EVENT_TYPE_LABELS = {
    "messages": _l("Messages and statuses"),
    "batch": _l("Several kinds at once"),
    "unknown": _l("Unknown kind"),
    "account_update": _l("Account update"),
    "message_template_status_update": _l("Template status update"),
    "phone_number_quality_update": _l("Phone number quality update"),
    "contact.upsert": _l("Contact from the CRM"),
}


def webhook_provider_label(provider: str) -> str:
    return str(WEBHOOK_PROVIDER_LABELS.get(provider, provider))


def webhook_event_type_label(event_type: str) -> str:
    return str(WEBHOOK_EVENT_TYPE_LABELS.get(event_type, event_type))

"""Who reacts to what: the domain-event subscribers and the webhook processors that are not a
channel's, registered once by create_app (docs/architecture.md, "Events"). Handlers of one event
run in the order listed: SLA bookkeeping first, then the CRM record, then the auto-rules (which
may queue sends of their own), then contact upkeep (a stale WhatsApp id, an opt-out word) and snoozes
(a customer's message ends one), a reply credited to its campaign, the triage menu (asked on a new
conversation's first message, answered by the next ones), the satisfaction survey (asked when a
conversation closes, its answers recorded), then auto-assignment (which works
the team queues a change filled or freed), and last the note for open browser tabs (sent once the
change commits)."""

from __future__ import annotations

from portal.services import (
    assignment,
    campaigns,
    contact_admin,
    crm,
    crm_inbound,
    csat,
    events,
    live,
    opt_out,
    rules,
    sla,
    snooze,
    triage,
    webhook_events,
)

SUBSCRIPTIONS: tuple[tuple[str, events.Handler], ...] = (
    ("conversation.created", sla.on_conversation_created),
    ("message.created", sla.on_message_created),
    ("message.status_changed", sla.on_message_status_changed),
    ("conversation.status_changed", sla.on_status_changed),
    *((name, crm.record_event) for name in crm.EVENT_TYPES),
    ("conversation.created", rules.on_conversation_created),
    ("message.created", rules.on_message_created),
    ("conversation.status_changed", rules.on_status_changed),
    ("message.status_changed", rules.on_message_status_changed),
    ("csat.answered", rules.on_csat_answered),
    ("conversation.status_changed", contact_admin.drop_stale_whatsapp_id),
    ("conversation.team_changed", assignment.on_team_changed),
    ("conversation.assigned", assignment.on_conversation_assigned),
    ("conversation.status_changed", assignment.on_status_changed),
    ("team.changed", assignment.on_team_changed_settings),
    ("message.created", opt_out.on_message_created),
    ("message.created", campaigns.on_message_created),
    ("message.created", snooze.on_message_created),
    ("conversation.status_changed", snooze.on_status_changed),
    ("conversation.created", triage.on_conversation_created),
    ("message.created", triage.on_message_created),
    ("conversation.status_changed", csat.on_status_changed),
    ("message.created", csat.on_message_created),
    *((name, live.on_domain_event) for name in live.PUSHED_EVENTS),
)


def register() -> None:
    for name, handler in SUBSCRIPTIONS:
        events.subscribe(name)(handler)
    webhook_events.register_processor(crm_inbound.PROVIDER, crm_inbound.process)
    webhook_events.register_readable_errors(*crm_inbound.NOTES)

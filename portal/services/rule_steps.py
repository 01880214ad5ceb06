"""What an auto-rule checks and does besides its trigger and template (docs/architecture.md,
"Auto-rules").

Conditions (`auto_rules.conditions`, a JSON object; every condition given must hold):
  inbox_id, team_id, tag, priority, channel       the conversation's
  contact_field, contact_value                    a contact field equals the value (capitals and
                                                  accents aside); an empty value: the field is filled
  business_hours: "inside" | "outside"            at the moment the trigger happened, by the
                                                  conversation's team's hours and holidays

Actions (`auto_rules.actions`, a JSON object, applied in this order; the template the rule sends
stays `auto_rules.template_id`):
  team_id, agent_id, tag, priority, status        route, assign, tag and set the conversation
  text                                            a free-text message, sent only inside the
                                                  channel's window (never a failed send)

Changes made by a rule are the system's (audited without an actor) and trigger no other rule.
Callers commit.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime
from typing import Any

from portal.extensions import db
from portal.models import Agent, Channel, Conversation, ConversationStatus, Priority, Team
from portal.services import assignment, business_time, conversations, settings, teams

log = logging.getLogger(__name__)

CONTACT_FIELDS = ("name", "email", "city", "phone")
INSIDE, OUTSIDE = "inside", "outside"


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def conditions_hold(conditions: dict[str, Any] | None, conversation: Conversation, at: datetime) -> bool:
    c = conditions or {}
    if "inbox_id" in c and conversation.inbox_id != c["inbox_id"]:
        return False
    if "team_id" in c and conversation.team_id != c["team_id"]:
        return False
    if "tag" in c and c["tag"] not in {t.name for t in conversation.tags}:
        return False
    if "priority" in c and Priority(conversation.priority).value != c["priority"]:
        return False
    if "channel" in c and Channel(conversation.channel).value != c["channel"]:
        return False
    if "contact_field" in c:
        value = getattr(conversation.contact, c["contact_field"], None) or ""
        wanted = c.get("contact_value") or ""
        if (not value) if not wanted else _folded(value) != _folded(wanted):
            return False
    if "business_hours" in c:
        open_now = business_time.is_open(at, teams.hours_for(conversation), settings.time_zone())
        if open_now != (c["business_hours"] == INSIDE):
            return False
    return True


CHANGES = ("team_id", "agent_id", "tag", "priority", "status")


def changes(actions: dict[str, Any] | None) -> bool:
    """Whether the actions change the conversation (beyond sending)."""
    return any(key in (actions or {}) for key in CHANGES)


def apply_changes(actions: dict[str, Any] | None, conversation: Conversation) -> None:
    """The actions that change the conversation (the messages are the engine's)."""
    a = actions or {}
    if "team_id" in a:
        team = db.session.get(Team, a["team_id"])
        if team is not None:
            teams.set_team(conversation, team, by=None)
    if "agent_id" in a:
        agent = db.session.get(Agent, a["agent_id"])
        if agent is not None and conversations.may_receive(agent, conversation):
            assignment.give(conversation, agent)
    if "tag" in a:
        names = [t.name for t in conversation.tags]
        if a["tag"] not in names:
            conversations.set_tags(conversation, [*names, a["tag"]], by=None)
    if "priority" in a:
        conversations.set_priority(conversation, Priority(a["priority"]), by=None)
    if "status" in a:
        try:
            conversations.change_status(conversation, ConversationStatus(a["status"]), by=None)
        except conversations.ConversationError as error:
            log.warning("auto-rule could not change the status of conversation %s: %s", conversation.id, error)

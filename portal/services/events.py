"""Domain events inside one unit of work.

Services emit events (`conversation.status_changed`, `message.created`...); subscribers (CRM
delivery, auto-rules, SLA) react in the same transaction, so an event's effects commit or roll
back with the change that caused it. portal.subscribers lists them and registers them with
`subscribe` when create_app runs.

Event names and their data (keyword arguments):
  contact.created / contact.updated            contact
  conversation.created                         conversation
  conversation.status_changed                  conversation, old, new, by
  conversation.assigned                        conversation, old_agent_id, by
  conversation.priority_changed                conversation, old, by
  conversation.tags_changed                    conversation, by
  conversation.team_changed                    conversation, old_team_id, by
  team.changed                                 team (None: an agent's capacity changed)
  message.created                              message   (inbound or outbound, any author)
  message.status_changed                       message, old
  note.created                                 message (internal: a note or a transfer's note), by, mentioned (agent ids)
  conversation.snoozed / conversation.snooze_ended   conversation, by (None when it ended by itself)
  sla.breached                                 conversation, incident
  csat.answered                                response (a csat_responses row that just got its score)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for the named events; it is called as handler(name, **data)."""

    def register(handler: Handler) -> Handler:
        for name in names:
            if handler not in _handlers[name]:
                _handlers[name].append(handler)
        return handler

    return register


def emit(name: str, **data: Any) -> None:
    for handler in list(_handlers.get(name, ())):
        handler(name, **data)

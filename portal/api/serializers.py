"""Rows as the API's JSON objects; the OpenAPI document (portal.api.openapi) describes each one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal.models import Contact, Conversation, Message, Tag


def timestamp(value: datetime | None) -> str | None:
    # Stored datetimes are naive UTC.
    return value.replace(tzinfo=UTC).isoformat() if value is not None else None


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "phone": contact.phone,
        "email": contact.email,
        "city": contact.city,
        "created_at": timestamp(contact.created_at),
        "updated_at": timestamp(contact.updated_at),
    }


def tag_json(tag: Tag) -> dict[str, Any]:
    return {"id": tag.id, "name": tag.name}


def conversation_json(conversation: Conversation) -> dict[str, Any]:
    contact = conversation.contact
    return {
        "id": conversation.id,
        "contact": {"id": contact.id, "name": contact.name, "phone": contact.phone},
        "channel": conversation.channel.value,
        "status": conversation.status.value,
        "priority": conversation.priority.value,
        "assigned_to": conversation.assigned_to,
        "tags": [tag.name for tag in conversation.tags],
        "started_at": timestamp(conversation.started_at),
        "closed_at": timestamp(conversation.closed_at),
        "last_inbound_at": timestamp(conversation.last_inbound_at),
        "last_message_at": timestamp(conversation.last_message_at),
        "created_at": timestamp(conversation.created_at),
        "updated_at": timestamp(conversation.updated_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction.value,
        "message_type": message.message_type,
        "body": message.body,
        "media_url": message.media_url,
        "status": message.status.value,
        "sent_at": timestamp(message.sent_at),
        "sender_agent_id": message.sender_agent_id,
        "is_automatic": message.is_automatic,
        "error_code": message.error_code,
        "error_title": message.error_title,
    }


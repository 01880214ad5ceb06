"""Rows as the API's JSON objects; the OpenAPI document (portal.api.openapi) describes each one."""

from __future__ import annotations

from typing import Any

from portal.models import ACTIVITY, Contact, Conversation, Direction, Message, QuickReply, Tag
from portal.services import representations
from portal.services.representations import utc_timestamp


def contact_json(contact: Contact) -> dict[str, Any]:
    return representations.contact(contact, utc_timestamp)


def tag_json(tag: Tag) -> dict[str, Any]:
    return {"id": tag.id, "name": tag.name}


def quick_reply_json(reply: QuickReply) -> dict[str, Any]:
    attachment = (
        {"filename": reply.media_filename, "mime_type": reply.media_mime_type, "size": reply.media_size}
        if reply.media_url
        else None
    )
    return {"id": reply.id, "shortcut": reply.shortcut, "body": reply.body, "shared": reply.shared, "attachment": attachment}


def conversation_json(conversation: Conversation) -> dict[str, Any]:
    contact = conversation.contact
    return {
        **representations.conversation(conversation, utc_timestamp),
        "contact": {"id": contact.id, "name": contact.name, "phone": contact.phone},
        "last_inbound_at": utc_timestamp(conversation.last_inbound_at),
        "last_message_at": utc_timestamp(conversation.last_message_at),
        "snoozed_at": utc_timestamp(conversation.snoozed_at),
        "snoozed_until": utc_timestamp(conversation.snoozed_until),
        "created_at": utc_timestamp(conversation.created_at),
        "updated_at": utc_timestamp(conversation.updated_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    internal = message.payload_json if message.direction == Direction.internal else None
    return {
        **representations.message(message, utc_timestamp),
        "message_type": message.message_type,
        "error_code": message.error_code,
        "error_title": message.error_title,
        "transfer": (internal or {}).get("transfer"),
        "activity": internal if message.message_type == ACTIVITY else None,
    }

"""Contacts, conversations and messages as JSON objects for other systems.

The REST API (portal.api.serializers, described by portal.api.openapi) and the CRM webhook
(portal.services.crm) send the same fields under the same names; each adds its own few and
passes how it writes timestamps. Custom fields travel as `custom_fields`, key -> the normalized
value (portal.services.custom_fields: a CPF's digits, an ISO date, "true"/"false"). Both write UTC, in two published formats that stay as they are:
the API keeps microseconds and "+00:00", the CRM wire format is whole seconds and "Z".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from portal.models import Contact, Conversation, Message

Stamp = Callable[[datetime | None], str | None]


def utc_timestamp(value: datetime | None) -> str | None:
    """The API's format: 2026-11-25T14:50:17.123456+00:00."""
    # Stored datetimes are naive UTC.
    return value.replace(tzinfo=UTC).isoformat() if value is not None else None


def utc_seconds(value: datetime | None) -> str | None:
    """The CRM's format: 2026-11-25T14:50:17Z."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def contact(row: Contact, stamp: Stamp) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "phone": row.phone,
        "email": row.email,
        "city": row.city,
        "custom_fields": dict(row.custom_fields or {}),
        "created_at": stamp(row.created_at),
        "updated_at": stamp(row.updated_at),
    }


def conversation(row: Conversation, stamp: Stamp) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": row.channel.value,
        "status": row.status.value,
        "priority": row.priority.value,
        "assigned_to": row.assigned_to,
        "tags": [tag.name for tag in row.tags],
        "custom_fields": dict(row.custom_fields or {}),
        "started_at": stamp(row.started_at),
        "closed_at": stamp(row.closed_at),
    }


def message(row: Message, stamp: Stamp) -> dict[str, Any]:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "direction": row.direction.value,
        "body": row.body,
        "media_url": row.media_url,
        "status": row.status.value,
        "sent_at": stamp(row.sent_at),
        "sender_agent_id": row.sender_agent_id,
        "is_automatic": row.is_automatic,
    }

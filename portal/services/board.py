"""The pipeline board: conversations an agent may see, grouped in columns by status.

Columns are capped so a board stays light: open stages show the most recently active cards,
and lost/closed (which only grow) show fewer; the rest is one "more" link away.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Agent, Conversation, ConversationStatus
from portal.services import conversations

OPEN_COLUMN_CAP = 50
CLOSED_COLUMN_CAP = 10
COLUMN_PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    status: ConversationStatus
    cards: list[Conversation]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.cards)


def column_cap(status: ConversationStatus) -> int:
    return CLOSED_COLUMN_CAP if status in ConversationStatus.closed_states() else OPEN_COLUMN_CAP


def _visible(agent: Agent, inbox_id: int | None):
    query = conversations.visible_to(agent)
    return query.where(Conversation.inbox_id == inbox_id) if inbox_id is not None else query


def _cards(
    agent: Agent, status: ConversationStatus, inbox_id: int | None, *, limit: int, offset: int = 0
) -> list[Conversation]:
    query = (
        _visible(agent, inbox_id)
        .where(Conversation.status == status)
        .options(joinedload(Conversation.contact), joinedload(Conversation.assignee))
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(db.session.scalars(query))


def _totals(agent: Agent, inbox_id: int | None) -> dict[ConversationStatus, int]:
    query = (
        _visible(agent, inbox_id)
        .with_only_columns(Conversation.status, func.count(Conversation.id))
        .group_by(Conversation.status)
    )
    return {ConversationStatus(status): count for status, count in db.session.execute(query)}


def columns(agent: Agent, inbox_id: int | None = None) -> list[Column]:
    """One column per status, in pipeline order, with the cards this agent may see (of one inbox,
    when `inbox_id` is given)."""
    totals = _totals(agent, inbox_id)
    return [
        Column(status, _cards(agent, status, inbox_id, limit=column_cap(status)), totals.get(status, 0))
        for status in ConversationStatus
    ]


def column_page(agent: Agent, status: ConversationStatus, page: int, inbox_id: int | None = None) -> Column:
    """Page `page` (from 1) of one column, for the "more" link."""
    offset = (max(page, 1) - 1) * COLUMN_PAGE_SIZE
    return Column(
        status,
        _cards(agent, status, inbox_id, limit=COLUMN_PAGE_SIZE, offset=offset),
        _totals(agent, inbox_id).get(status, 0),
    )


def visible_conversation(agent: Agent, conversation_id: int) -> Conversation | None:
    return db.session.scalars(
        conversations.visible_to(agent).where(Conversation.id == conversation_id)
    ).first()

"""Read-only listings for the admin pages: filters from the query string become WHERE clauses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

from portal.extensions import db
from portal.models import Agent, AuditLog, WebhookEvent, WebhookStatus

PER_PAGE = 50


@dataclass(frozen=True)
class DateRange:
    start: date | None = None
    end: date | None = None

    def apply(self, query: Select, column) -> Select:
        if self.start:
            query = query.where(column >= datetime.combine(self.start, time.min))
        if self.end:
            query = query.where(column < datetime.combine(self.end + timedelta(days=1), time.min))
        return query


def _where_given(query: Select, *conditions: tuple[InstrumentedAttribute, object]) -> Select:
    """Narrow to each (column, value) whose value the filter form gave; a blank filter means all."""
    for column, value in conditions:
        if value:
            query = query.where(column == value)
    return query


def _newest_first_page(
    query: Select, at: InstrumentedAttribute, row_id: InstrumentedAttribute, dates: DateRange, page: int
) -> Pagination:
    query = dates.apply(query, at).order_by(at.desc(), row_id.desc())
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)


def webhook_events(
    *,
    provider: str | None,
    event_type: str | None,
    status: WebhookStatus | None,
    dates: DateRange,
    page: int,
) -> Pagination:
    query = _where_given(
        select(WebhookEvent),
        (WebhookEvent.provider, provider),
        (WebhookEvent.event_type, event_type),
        (WebhookEvent.status, status),
    )
    return _newest_first_page(query, WebhookEvent.received_at, WebhookEvent.id, dates, page)


def webhook_event_choices() -> tuple[list[str], list[str]]:
    """The providers and event types that occur, for the filter menus."""
    providers = db.session.scalars(select(WebhookEvent.provider).distinct().order_by(WebhookEvent.provider))
    types = db.session.scalars(select(WebhookEvent.event_type).distinct().order_by(WebhookEvent.event_type))
    return list(providers), list(types)


def audit_entries(
    *,
    actor_id: int | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    dates: DateRange,
    page: int,
) -> Pagination:
    query = _where_given(
        select(AuditLog),
        (AuditLog.actor_id, actor_id),
        (AuditLog.target_type, target_type),
        (AuditLog.target_id, target_id),
    )
    if action:
        # "agent." lists every agent action; a full name lists one.
        query = query.where(
            AuditLog.action.startswith(action) if action.endswith(".") else AuditLog.action == action
        )
    return _newest_first_page(query, AuditLog.at, AuditLog.id, dates, page)


def audit_choices() -> tuple[list[Agent], list[str], list[str]]:
    """Actors, actions and target types that occur, for the filter menus."""
    actors = db.session.scalars(
        select(Agent).where(Agent.id.in_(select(AuditLog.actor_id).distinct())).order_by(Agent.name)
    )
    actions = db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action))
    targets = db.session.scalars(
        select(AuditLog.target_type)
        .where(AuditLog.target_type.is_not(None))
        .distinct()
        .order_by(AuditLog.target_type)
    )
    return list(actors), list(actions), list(targets)


def agents() -> list[Agent]:
    return list(db.session.scalars(select(Agent).order_by(Agent.active.desc(), Agent.name)))

"""Incidents: manual ones opened by supervisors from a conversation, and the one automatic
`sla_breach` incident per conversation that the SLA job opens. Each is open until someone resolves
it, and may have an owner (a supervisor or admin). Every creation and edit is audited.
Callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Agent, Conversation, Incident, IncidentKind, IncidentStatus, Role, Severity, utcnow
from portal.services import audit, settings
from portal.services.business_time import local_day_start

PAGE_SIZE = 50


def create_manual(conversation: Conversation, severity: Severity, notes: str, *, by: Agent) -> Incident:
    incident = Incident(
        conversation_id=conversation.id,
        severity=Severity(severity),
        notes=notes.strip(),
        kind=IncidentKind.manual,
        created_by_id=by.id,
    )
    db.session.add(incident)
    db.session.flush()
    audit.record(
        "incident.created", actor=by, target=incident, kind=incident.kind.value, severity=severity.value
    )
    return incident


def open_sla_breach(conversation: Conversation, severity: Severity, notes: str) -> Incident | None:
    """The conversation's one automatic breach incident, or None when another worker opened it first.

    The partial unique index decides races; the savepoint keeps the caller's transaction usable.
    """
    incident = Incident(
        conversation_id=conversation.id, severity=severity, notes=notes, kind=IncidentKind.sla_breach
    )
    try:
        with db.session.begin_nested():
            db.session.add(incident)
            db.session.flush()
    except IntegrityError:
        return None
    audit.record("incident.created", target=incident, kind=incident.kind.value, severity=severity.value)
    return incident


def update_notes(incident: Incident, notes: str, *, by: Agent) -> bool:
    """Replace the notes; returns False when nothing changed. The audit row says that the notes
    changed, not what they say (they may hold customer details)."""
    notes = notes.strip()
    if notes == incident.notes:
        return False
    incident.notes = notes
    audit.record("incident.updated", actor=by, target=incident, fields=["notes"])
    return True


class IncidentError(ValueError):
    """A readable reason an incident change was refused."""


def owners() -> list[Agent]:
    """Who may own an incident: the active supervisors and admins (agents do not see incidents)."""
    return list(
        db.session.scalars(
            select(Agent)
            .where(Agent.active.is_(True), Agent.role.in_([Role.supervisor, Role.admin]))
            .order_by(Agent.name, Agent.id)
        )
    )


def update_handling(incident: Incident, *, owner: Agent | None, status: IncidentStatus, by: Agent) -> bool:
    """Give the incident an owner (or none) and open or resolve it; False when nothing changed."""
    if owner is not None and owner not in owners():
        raise IncidentError(_("Only an active supervisor or admin can own an incident."))
    changed = []
    if (owner.id if owner else None) != incident.owner_id:
        incident.owner = owner
        changed.append("owner")
    if status != incident.status:
        incident.status = status
        incident.resolved_at = utcnow() if status == IncidentStatus.resolved else None
        changed.append("status")
    if changed:
        audit.record("incident.updated", actor=by, target=incident, fields=changed, status=incident.status.value)
    return bool(changed)


@dataclass(frozen=True)
class IncidentFilter:
    severity: Severity | None = None
    kind: IncidentKind | None = None
    status: IncidentStatus | None = None
    owner_id: int | None = None
    conversation_id: int | None = None
    created_from: date | None = None  # local dates in the installation's time zone, inclusive
    created_to: date | None = None


def search(filters: IncidentFilter) -> Select:
    """Incidents matching the filters, newest first."""
    query = select(Incident).order_by(Incident.id.desc()).options(
        selectinload(Incident.conversation).selectinload(Conversation.contact), selectinload(Incident.owner)
    )
    if filters.severity is not None:
        query = query.where(Incident.severity == filters.severity)
    if filters.kind is not None:
        query = query.where(Incident.kind == filters.kind)
    if filters.status is not None:
        query = query.where(Incident.status == filters.status)
    if filters.owner_id is not None:
        query = query.where(Incident.owner_id == filters.owner_id)
    if filters.conversation_id is not None:
        query = query.where(Incident.conversation_id == filters.conversation_id)
    tz = settings.time_zone()
    if filters.created_from is not None:
        query = query.where(Incident.created_at >= local_day_start(filters.created_from, tz))
    if filters.created_to is not None:
        query = query.where(Incident.created_at < local_day_start(filters.created_to + timedelta(days=1), tz))
    return query


def page(filters: IncidentFilter, *, before_id: int | None = None) -> tuple[list[Incident], int | None]:
    """One page of incidents (keyset on id) and the id to continue from, or None at the end."""
    query = search(filters)
    if before_id is not None:
        query = query.where(Incident.id < before_id)
    rows = list(db.session.scalars(query.limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].id if more else None)

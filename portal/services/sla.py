"""SLA bookkeeping and breach detection (docs/architecture.md, "SLA").

- `sla_metrics` has one row per conversation, added when the conversation is created.
- First response: the first outbound message written by a person (not automatic) at or after
  `started_at` that did not fail; `response_time_sec` counts business seconds when business hours
  are set (the conversation's team's, else the installation's; holidays closed), wall-clock seconds
  otherwise.
- `resolved_at` is set when the conversation becomes closed or lost, and cleared on reopen.
- check_breaches() opens the one `sla_breach` incident per conversation whose first response (or
  optional resolution) target is missed, and emits `sla.breached`.
- warn_due() warns once per conversation and target when a configurable share of it has gone
  (`sla_metrics.*_warned_at`, emits `sla.warning` for the live stream); clocks() is the timer
  the inbox rows and board cards show.

Every function takes `now` explicitly where time matters, so tests pin the clock. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select, update

from portal.extensions import db
from portal.labels import label
from portal.models import (
    Agent,
    Conversation,
    ConversationStatus,
    Direction,
    Incident,
    IncidentKind,
    Message,
    MessageStatus,
    Priority,
    Role,
    Severity,
    SlaMetric,
    SlaTarget,
    utcnow,
)
from portal.services import audit, events, incidents, settings, teams
from portal.services.business_time import business_seconds
from portal.services.settings import BusinessHours

# Bounds one run's transaction; the scheduler runs the job again a minute later.
MAX_BREACHES_PER_RUN = 500

SEVERITY_FOR_PRIORITY = {
    Priority.urgent: Severity.critical,
    Priority.high: Severity.high,
    Priority.normal: Severity.medium,
    Priority.low: Severity.low,
}


def format_duration(seconds: int) -> str:
    """A compact duration such as 2d 3h, 4h 05m, 12m or 40s."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(d)dd %(h)dh", d=days, h=hours)
    if hours:
        return _("%(h)dh %(m)02dm", h=hours, m=minutes)
    if minutes:
        return _("%(m)dm", m=minutes)
    return _("%(s)ds", s=secs)


def elapsed(start: datetime, end: datetime, hours: BusinessHours | None) -> int:
    """SLA time between two instants with these business hours (teams.hours_for a conversation)."""
    return business_seconds(start, end, hours, settings.time_zone())


def metric_for(conversation: Conversation) -> SlaMetric:
    metric = db.session.scalars(select(SlaMetric).where(SlaMetric.conversation_id == conversation.id)).first()
    if metric is None:
        metric = SlaMetric(conversation_id=conversation.id)
        db.session.add(metric)
        db.session.flush()
    return metric


def counts_as_first_response(message: Message) -> bool:
    return (
        message.direction == Direction.outbound
        and message.sender_agent_id is not None
        and not message.is_automatic
    )


def refresh_first_response(conversation: Conversation) -> None:
    """Set the first response from the earliest human reply at or after `started_at` that did not
    fail: a reply WhatsApp refused never reached the customer. One indexed lookup, no scan."""
    if conversation.started_at is None:
        return
    first_at = db.session.scalar(
        select(Message.sent_at)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == Direction.outbound,
            Message.sender_agent_id.is_not(None),
            Message.is_automatic.is_(False),
            Message.status != MessageStatus.failed,
            Message.sent_at >= conversation.started_at,
        )
        .order_by(Message.sent_at, Message.id)
        .limit(1)
    )
    metric = metric_for(conversation)
    metric.first_response_at = first_at
    metric.response_time_sec = (
        elapsed(conversation.started_at, first_at, teams.hours_for(conversation)) if first_at else None
    )


def record_status(conversation: Conversation, new: ConversationStatus) -> None:
    metric = metric_for(conversation)
    if new in ConversationStatus.closed_states():
        metric.resolved_at = conversation.closed_at or utcnow()
    else:
        metric.resolved_at = None


def on_conversation_created(_name: str, *, conversation: Conversation) -> None:
    metric_for(conversation)


def on_message_created(_name: str, *, message: Message) -> None:
    if not counts_as_first_response(message):
        return
    first_at = metric_for(message.conversation).first_response_at
    if first_at is None or message.sent_at < first_at:
        refresh_first_response(message.conversation)


def on_message_status_changed(_name: str, *, message: Message, old: MessageStatus) -> None:
    # Only failing (or being retried after failing) can change which reply came first.
    if counts_as_first_response(message) and MessageStatus.failed in (old, message.status):
        refresh_first_response(message.conversation)


def on_status_changed(_name: str, *, conversation: Conversation, new: ConversationStatus, **_data) -> None:
    record_status(conversation, new)


# --- targets and business hours -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    first_response_sec: int
    resolution_sec: int | None = None


def save_settings(
    targets: dict[Priority, Target], hours: BusinessHours | None, tz: str, *, by: Agent
) -> None:
    """Store the per-priority targets, the business hours (None turns them off) and the time zone."""
    current = settings.sla_targets()
    old = {p.value: [t.first_response_sec, t.resolution_sec] for p, t in current.items()}
    new = {p.value: [t.first_response_sec, t.resolution_sec] for p, t in targets.items()}
    for priority, target in targets.items():
        row = db.session.get(SlaTarget, priority)
        if row is None:
            row = SlaTarget(priority=priority)
            db.session.add(row)
        row.first_response_sec = target.first_response_sec
        row.resolution_sec = target.resolution_sec
    if old != new:
        audit.record("sla.targets_changed", actor=by, target=("sla_targets", "all"), old=old, new=new)
    settings.put("business_hours", hours.to_json() if hours else None, by=by)
    settings.put("time_zone", tz, by=by)


# --- breaches ---------------------------------------------------------------------------------


class Missed(StrEnum):
    first_response = "first_response"
    resolution = "resolution"


@dataclass(frozen=True)
class Breach:
    conversation_id: int
    priority: Priority
    missed: Missed
    target_sec: int
    waited_sec: int
    answered: bool

    def notes(self, business_hours_on: bool) -> str:
        values = {
            "priority": label(self.priority).lower(),  # "high priority", "prioridade alta"
            "target": format_duration(self.target_sec),
            "waited": format_duration(self.waited_sec),
            "over": format_duration(self.waited_sec - self.target_sec),
        }
        if self.missed == Missed.resolution:
            text = _(
                "Resolution target missed (%(priority)s priority, target %(target)s): "
                "open for %(waited)s, %(over)s over the target.",
                **values,
            )
        elif self.answered:
            text = _(
                "First response target missed (%(priority)s priority, target %(target)s): "
                "answered after %(waited)s, %(over)s over the target.",
                **values,
            )
        else:
            text = _(
                "First response target missed (%(priority)s priority, target %(target)s): "
                "waiting %(waited)s without a reply, %(over)s over the target.",
                **values,
            )
        if business_hours_on:
            text += " " + _("Only business hours count.")
        return text


def find_breaches(now: datetime, limit: int = MAX_BREACHES_PER_RUN) -> list[Breach]:
    """Open conversations past a target that have no breach incident yet, oldest first, at most
    `limit` (a backlog, say after an outage, is worked off over the next runs).

    SQL narrows to conversations whose wall-clock age already exceeds a target (business time
    never exceeds wall-clock time) and reads only the columns needed; business time is then
    checked for those in Python.
    """
    targets = settings.sla_targets()
    hours, tz = teams.HoursCache(), settings.time_zone()
    candidates = select(Conversation.id, Conversation.priority, Conversation.started_at, Conversation.team_id).where(
        Conversation.status.in_(ConversationStatus.open_states()),
        Conversation.started_at.is_not(None),
        ~exists().where(
            Incident.conversation_id == Conversation.id, Incident.kind == IncidentKind.sla_breach
        ),
    )

    def older_than(seconds_for: dict[Priority, int]):
        return or_(
            *(
                and_(Conversation.priority == p, Conversation.started_at <= now - timedelta(seconds=s))
                for p, s in seconds_for.items()
            )
        )

    first_response_sec = {p: t.first_response_sec for p, t in targets.items()}
    breaches: dict[int, Breach] = {}
    unanswered_or_late = (
        candidates.add_columns(SlaMetric.response_time_sec)
        .outerjoin(SlaMetric, SlaMetric.conversation_id == Conversation.id)
        .where(older_than(first_response_sec))
        .where(
            or_(
                SlaMetric.first_response_at.is_(None),
                *(
                    and_(Conversation.priority == p, SlaMetric.response_time_sec > s)
                    for p, s in first_response_sec.items()
                ),
            )
        )
        .order_by(Conversation.started_at, Conversation.id)
    )
    for conversation_id, priority, started_at, team_id, response_time_sec in db.session.execute(unanswered_or_late):
        target = first_response_sec[Priority(priority)]
        answered = response_time_sec is not None
        waited = response_time_sec if answered else business_seconds(started_at, now, hours.for_team(team_id), tz)
        if waited > target:
            breaches[conversation_id] = Breach(
                conversation_id, Priority(priority), Missed.first_response, target, waited, answered
            )
            if len(breaches) >= limit:
                return list(breaches.values())

    resolution_sec = {p: t.resolution_sec for p, t in targets.items() if t.resolution_sec}
    if resolution_sec:
        unresolved = candidates.where(older_than(resolution_sec)).order_by(
            Conversation.started_at, Conversation.id
        )
        for conversation_id, priority, started_at, team_id in db.session.execute(unresolved):
            target = resolution_sec[Priority(priority)]
            waited = business_seconds(started_at, now, hours.for_team(team_id), tz)
            if conversation_id not in breaches and waited > target:
                breaches[conversation_id] = Breach(
                    conversation_id, Priority(priority), Missed.resolution, target, waited, False
                )
                if len(breaches) >= limit:
                    break
    return list(breaches.values())


def check_breaches(now: datetime | None = None) -> list[Incident]:
    """Open one `sla_breach` incident per newly breached conversation and emit `sla.breached`."""
    now = now or utcnow()
    business_hours_on = settings.business_hours() is not None
    breaches = find_breaches(now)
    conversations = {
        c.id: c
        for c in db.session.scalars(
            select(Conversation).where(Conversation.id.in_([b.conversation_id for b in breaches]))
        )
    }
    opened = []
    for breach in breaches:
        conversation = conversations[breach.conversation_id]
        incident = incidents.open_sla_breach(
            conversation, SEVERITY_FOR_PRIORITY[breach.priority], breach.notes(business_hours_on)
        )
        if incident is not None:
            events.emit("sla.breached", conversation=conversation, incident=incident)
            opened.append(incident)
    return opened


# --- the SLA clock shown on rows and cards, and warnings ----------------------------------------
# Bounds one run of the warning job; the next run a minute later takes the rest.
MAX_WARNINGS_PER_RUN = 500
WARNING_EVENT = "sla.warning"


@dataclass(frozen=True)
class Clock:
    """The target a conversation runs against now: its first response while unanswered, then its
    resolution (when a resolution target is set); how much of it has gone, and whether the
    warning for it went out."""

    target: Missed
    target_sec: int
    elapsed_sec: int
    warned: bool

    @property
    def left_sec(self) -> int:
        return self.target_sec - self.elapsed_sec

    @property
    def overdue(self) -> bool:
        return self.elapsed_sec > self.target_sec

    @property
    def at_risk(self) -> bool:
        """Warned and not yet over: the badge's "at risk" state."""
        return self.warned and not self.overdue

    def text(self) -> str:
        """"12m left" or "overdue by 5m", for the board card and the badge."""
        if self.overdue:
            return _("overdue by %(time)s", time=format_duration(-self.left_sec))
        return _("%(time)s left", time=format_duration(self.left_sec))

    def title(self) -> str:
        """What the timer counts, for its tooltip."""
        if self.target == Missed.resolution:
            return _("Resolution target: %(target)s", target=format_duration(self.target_sec))
        return _("First response target: %(target)s", target=format_duration(self.target_sec))


def clocks(conversations: list[Conversation], now: datetime | None = None) -> dict[int, Clock]:
    """The SLA clock of each open conversation in the list (one query for their metrics); a
    conversation with no target running now (answered, no resolution target) has none."""
    now = now or utcnow()
    running = [c for c in conversations if c.is_open and c.started_at is not None]
    if not running:
        return {}
    metrics = {
        m.conversation_id: m
        for m in db.session.scalars(select(SlaMetric).where(SlaMetric.conversation_id.in_([c.id for c in running])))
    }
    targets = settings.sla_targets()
    hours, tz = teams.HoursCache(), settings.time_zone()
    found = {}
    for conversation in running:
        metric = metrics.get(conversation.id)
        target = targets[Priority(conversation.priority)]
        if metric is None or metric.first_response_at is None:
            which, seconds = Missed.first_response, target.first_response_sec
            warned = metric is not None and metric.first_response_warned_at is not None
        elif target.resolution_sec:
            which, seconds = Missed.resolution, target.resolution_sec
            warned = metric.resolution_warned_at is not None
        else:
            continue
        elapsed_sec = business_seconds(conversation.started_at, now, hours.for_team(conversation.team_id), tz)
        found[conversation.id] = Clock(which, seconds, elapsed_sec, warned)
    return found


@dataclass(frozen=True)
class SlaWarning:
    conversation_id: int
    target: Missed
    announce: bool  # False: already past the target when first seen (the breach says it instead)


def find_warnings(now: datetime, limit: int = MAX_WARNINGS_PER_RUN) -> list[SlaWarning]:
    """Open conversations that reached the warning share of a target and were not warned for it,
    oldest first. SQL narrows by wall-clock age (business time never exceeds it); business time
    decides in Python."""
    share = settings.sla_warning_percent() / 100
    targets = settings.sla_targets()
    hours, tz = teams.HoursCache(), settings.time_zone()
    base = (
        select(Conversation.id, Conversation.priority, Conversation.started_at, Conversation.team_id)
        .outerjoin(SlaMetric, SlaMetric.conversation_id == Conversation.id)
        .where(Conversation.status.in_(ConversationStatus.open_states()), Conversation.started_at.is_not(None))
        .order_by(Conversation.started_at, Conversation.id)
    )

    def reached(seconds_for: dict[Priority, int]):
        return or_(
            *(
                and_(Conversation.priority == p, Conversation.started_at <= now - timedelta(seconds=s * share))
                for p, s in seconds_for.items()
            )
        )

    found: list[SlaWarning] = []
    checks = [
        (
            Missed.first_response,
            {p: t.first_response_sec for p, t in targets.items()},
            and_(SlaMetric.first_response_at.is_(None), SlaMetric.first_response_warned_at.is_(None)),
        )
    ]
    resolution_sec = {p: t.resolution_sec for p, t in targets.items() if t.resolution_sec}
    if resolution_sec:
        checks.append((Missed.resolution, resolution_sec, SlaMetric.resolution_warned_at.is_(None)))
    for which, seconds_for, not_warned in checks:
        query = base.where(reached(seconds_for), or_(SlaMetric.id.is_(None), not_warned)).limit(limit)
        for conversation_id, priority, started_at, team_id in db.session.execute(query):
            target = seconds_for[Priority(priority)]
            elapsed_sec = business_seconds(started_at, now, hours.for_team(team_id), tz)
            if elapsed_sec >= target * share:
                found.append(SlaWarning(conversation_id, which, announce=elapsed_sec <= target))
        if len(found) >= limit:
            break
    return found[:limit]


def warning_recipients(conversation: Conversation) -> list[int]:
    """Who hears a conversation's SLA warning: its assignee, or its team's members while nobody
    has it, and every active supervisor and admin."""
    people = set()
    if conversation.assigned_to is not None:
        people.add(conversation.assigned_to)
    elif conversation.team is not None:
        people |= {a.id for a in conversation.team.members if a.active}
    people |= set(
        db.session.scalars(select(Agent.id).where(Agent.active.is_(True), Agent.role.in_([Role.supervisor, Role.admin])))
    )
    return sorted(people)


def _claim_warning(conversation: Conversation, which: Missed, now: datetime) -> bool:
    """Mark the target warned with one conditional UPDATE: however many workers run the job, one
    wins and the conversation is warned once for that target."""
    metric_for(conversation)
    column = SlaMetric.first_response_warned_at if which == Missed.first_response else SlaMetric.resolution_warned_at
    return bool(
        db.session.execute(
            update(SlaMetric)
            .where(SlaMetric.conversation_id == conversation.id, column.is_(None))
            .values({column: now})
            .execution_options(synchronize_session="fetch")
        ).rowcount
    )


def warn_due(now: datetime | None = None) -> list[SlaWarning]:
    """Warn once per conversation and target at the configured share (default 80 %): mark it and
    emit `sla.warning` for the live stream (portal.services.live). A conversation first seen
    already past its target is marked without a warning: its breach incident tells instead.
    Returns the warnings announced."""
    now = now or utcnow()
    warnings = find_warnings(now)
    conversations = {
        c.id: c
        for c in db.session.scalars(
            select(Conversation).where(Conversation.id.in_({w.conversation_id for w in warnings}))
        )
    }
    announced = []
    for warning in warnings:
        conversation = conversations[warning.conversation_id]
        if not _claim_warning(conversation, warning.target, now) or not warning.announce:
            continue
        # Audited like every change the inbox list shows: the open lists' version moves, so their
        # live refresh brings the row's badge (portal.services.inbox_queries.list_version).
        audit.record("conversation.sla_warned", target=conversation, sla_target=warning.target.value)
        events.emit(
            WARNING_EVENT,
            conversation=conversation,
            target=warning.target.value,
            recipients=warning_recipients(conversation),
        )
        announced.append(warning)
    return announced

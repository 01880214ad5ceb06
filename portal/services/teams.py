"""Teams (sectors): supervisors create them, choose their members and how their conversations are
assigned; a conversation may be routed to one (docs/architecture.md, "Teams and routing").
Each change is audited; a conversation's team change emits `conversation.team_changed`, which
queues it for its team's auto-assignment (portal.services.assignment). Callers commit."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import (
    Agent,
    AssignMode,
    Conversation,
    ConversationStatus,
    Setting,
    Team,
    team_members,
)
from portal.services import audit, events, settings, unit_cache
from portal.services.settings import BusinessHours, Holidays

MAX_NAME = 100
MAX_CAPACITY = 1000


class TeamError(ValueError):
    """A readable reason a team change was refused; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TeamSummary:
    team: Team
    open_count: int
    waiting_count: int


def list_teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(func.lower(Team.name))))


def summaries() -> list[TeamSummary]:
    """Every team with its open conversations and how many wait unassigned in its queue."""
    counts = dict(
        db.session.execute(
            select(Conversation.team_id, func.count())
            .where(Conversation.team_id.is_not(None), Conversation.status.in_(ConversationStatus.open_states()))
            .group_by(Conversation.team_id)
        )
        .tuples()
        .all()
    )
    waiting = dict(
        db.session.execute(
            select(Conversation.team_id, func.count())
            .where(
                Conversation.team_id.is_not(None),
                Conversation.queued_at.is_not(None),
                Conversation.assigned_to.is_(None),
                Conversation.status.in_(ConversationStatus.open_states()),
            )
            .group_by(Conversation.team_id)
        )
        .tuples()
        .all()
    )
    return [TeamSummary(t, counts.get(t.id, 0), waiting.get(t.id, 0)) for t in list_teams()]


def team_ids_of(agent: Agent) -> list[int]:
    return list(db.session.scalars(select(team_members.c.team_id).where(team_members.c.agent_id == agent.id)))


def _check_name(name: str, team: Team | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise TeamError(_("Give the team a name."), "name")
    if len(name) > MAX_NAME:
        raise TeamError(_("At most %(max)d characters.", max=MAX_NAME), "name")
    same = db.session.scalars(select(Team).where(func.lower(Team.name) == name.lower())).first()
    if same is not None and same is not team:
        raise TeamError(_("Another team is already called %(name)s.", name=same.name), "name")
    return name


def _snapshot(team: Team) -> dict:
    return {
        "name": team.name,
        "auto_assign": AssignMode(team.auto_assign).value,
        "members": sorted(a.id for a in team.members),
        "keywords": list(team.keywords or []),
    }


def save_team(
    team: Team | None,
    *,
    name: str,
    members: list[Agent],
    auto_assign: AssignMode,
    by: Agent,
    keywords: list[str] | None = None,
) -> Team:
    """Create (team None) or update a team; TeamError says what is wrong. `keywords` choose the
    team in a triage menu's free-text answer (portal.services.triage.clean_keywords reads them)."""
    name = _check_name(name, team)
    if any(not agent.active for agent in members):
        raise TeamError(_("Only active agents can be members."), "members")
    created = team is None
    old = None if created else _snapshot(team)
    if created:
        team = Team(name=name)
        db.session.add(team)
    team.name, team.auto_assign, team.members = name, AssignMode(auto_assign), sorted(members, key=lambda a: a.name)
    team.keywords = list(keywords or []) or None
    db.session.flush()
    new = _snapshot(team)
    if created:
        audit.record("team.created", actor=by, target=team, **new)
    elif old != new:
        changed = sorted(k for k in new if old[k] != new[k])
        audit.record("team.updated", actor=by, target=team, old={k: old[k] for k in changed}, new={k: new[k] for k in changed})
    events.emit("team.changed", team=team)
    return team


def delete_team(team: Team, *, by: Agent) -> None:
    """Delete the team; its conversations keep their assignee and lose the team."""
    audit.record("team.deleted", actor=by, target=team, **_snapshot(team))
    db.session.execute(
        update(Conversation)
        .where(Conversation.team_id == team.id)
        .values(team_id=None, queued_at=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.delete(team)


def set_team(conversation: Conversation, team: Team | None, *, by: Agent | None) -> bool:
    """Route the conversation to `team` (None: no team); returns False when nothing changed."""
    new_id = team.id if team is not None else None
    if conversation.team_id == new_id:
        return False
    old_id = conversation.team_id
    conversation.team_id = new_id
    conversation.team = team
    conversation.queued_at = None
    audit.record("conversation.team_changed", actor=by, target=conversation, old=old_id, new=new_id)
    events.emit("conversation.team_changed", conversation=conversation, old_team_id=old_id, by=by)
    return True


def set_capacity(agent: Agent, capacity: int, *, by: Agent) -> bool:
    if not 0 <= capacity <= MAX_CAPACITY:
        raise TeamError(_("A capacity from 0 to %(max)d.", max=MAX_CAPACITY), "capacity")
    if agent.max_open_conversations == capacity:
        return False
    audit.record("agent.capacity_changed", actor=by, target=agent, old=agent.max_open_conversations, new=capacity)
    agent.max_open_conversations = capacity
    events.emit("team.changed", team=None)
    return True


class HoursCache:
    """Business hours per team for one unit of work: a team's own hours and holidays, else the
    installation's (docs/architecture.md, "Teams and routing"). None: every hour counts."""

    def __init__(self) -> None:
        self._installation: tuple[BusinessHours | None] | None = None
        self._teams: dict[int, BusinessHours | None] = {}

    def installation(self) -> BusinessHours | None:
        if self._installation is None:
            self._installation = (settings.business_hours(),)
        return self._installation[0]

    def for_team(self, team_id: int | None) -> BusinessHours | None:
        if team_id is None:
            return self.installation()
        if team_id not in self._teams:
            team = db.session.get(Team, team_id)
            self._teams[team_id] = own_hours(team) if team is not None else None
        return self._teams[team_id] or self.installation()


_HOURS = unit_cache.UnitValue("teams.hours", HoursCache, watch={Team: ("business_hours", "holidays"), Setting: None})


def any_business_hours() -> bool:
    """Whether any SLA clock counts business time: the installation's hours or a team's own."""
    return settings.business_hours() is not None or any(team.business_hours for team in list_teams())


def own_hours(team: Team) -> BusinessHours | None:
    """The team's own opening hours with its holidays (the installation's when it has none)."""
    if not team.business_hours:
        return None
    found = Holidays.from_json(team.holidays) if team.holidays else settings.holidays()
    return BusinessHours.from_json(team.business_hours, found)


def hours_for(conversation: Conversation) -> BusinessHours | None:
    """The business hours that count for this conversation's SLA and out-of-hours replies, read
    once per unit of work (an inbound message asks for them once per rule condition)."""
    return _HOURS.get().for_team(conversation.team_id)


def save_hours(team: Team, hours: BusinessHours | None, found: Holidays | None, *, by: Agent) -> None:
    """The team's own hours and holidays (None: the installation's)."""
    unit_cache.forget(Team)
    old = {"business_hours": team.business_hours, "holidays": team.holidays}
    team.business_hours = hours.to_json() if hours else None
    team.holidays = found.to_json() if found else None
    new = {"business_hours": team.business_hours, "holidays": team.holidays}
    if old != new:
        audit.record("team.hours_changed", actor=by, target=team, old=old, new=new)

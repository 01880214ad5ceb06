"""The supervisors' report for a date range: volumes, SLA percentiles, breaches, per agent and per day.

Definitions (shown on the page too):
- The range is a set of local calendar days in the installation's time zone, both ends included.
- Opened: conversations whose `started_at` falls in the range; the first response, resolution,
  breach and funnel figures are about these conversations. Closed / lost: conversations that
  reached that status (`closed_at`) in the range.
- Agent: the conversation's current assignee (filter and per-agent table alike); team likewise
  its current team.
- First response time: `sla_metrics.response_time_sec` (business seconds when business hours are
  set). Within target: answered conversations whose time is at most the current target for their
  priority, over all answered conversations. Resolution time: `started_at` to `resolved_at`,
  counted the same way.
- Satisfaction (CSAT): surveys asked in the range (`csat_responses.asked_at`), credited to the
  agent, team and inbox the conversation had when it closed. Response rate: answered over asked;
  average on 1..5 (three faces count 1, 3 and 5); satisfied: a score of 4 or 5 over the answered.
- Percentiles use the nearest-rank method: the p-th percentile of n sorted values is the value at
  rank ceil(p/100 * n) (1-based); no interpolation, so it is always a time that really occurred.

Counts are aggregated in SQL (grouped by local day, agent and status, with day boundaries computed
here so DST and every database agree). Percentiles: PostgreSQL ranks the times itself
(percentile_disc) unless business hours are set; otherwise, and on SQLite, one narrow row per
answered or resolved conversation is read (never messages) and ranked here, with the same result.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, and_, case, cast, exists, extract, func, or_, select, text
from sqlalchemy.dialects import postgresql

from portal.extensions import db
from portal.models import (
    Agent,
    Conversation,
    ConversationStatus,
    CsatResponse,
    Inbox,
    Incident,
    IncidentKind,
    Priority,
    SlaMetric,
    Team,
    conversation_tags,
)
from portal.services import settings, teams
from portal.services.business_time import business_seconds, local_day_start

MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class ReportFilter:
    start: date
    end: date
    agent_id: int | None = None
    tag_id: int | None = None
    priority: Priority | None = None
    inbox_id: int | None = None
    team_id: int | None = None

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def default_range(today: date) -> tuple[date, date]:
    """The last 30 local days, today included."""
    return today - timedelta(days=29), today


def percentile(sorted_values: list[int], p: int) -> int | None:
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, -(-p * len(sorted_values) // 100))  # ceil(p * n / 100) in integers
    return sorted_values[rank - 1]


@dataclass
class Figures:
    """The numbers shown for the whole selection and again for each agent."""

    opened: int = 0
    closed: int = 0
    lost: int = 0
    breaches: int = 0
    within_target: int = 0
    answered: int = 0
    first_response_p50: int | None = None
    first_response_p90: int | None = None
    resolution_p50: int | None = None
    resolution_p90: int | None = None
    # The individual times, when they are ranked here rather than in the database (rank()).
    first_response_times: list[int] = field(default_factory=list)
    resolution_times: list[int] = field(default_factory=list)

    @property
    def within_target_share(self) -> float | None:
        return self.within_target / self.answered if self.answered else None

    def rank(self) -> None:
        """The count and percentiles from the collected times."""
        self.first_response_times.sort()
        self.resolution_times.sort()
        self.answered = len(self.first_response_times)
        self.first_response_p50 = percentile(self.first_response_times, 50)
        self.first_response_p90 = percentile(self.first_response_times, 90)
        self.resolution_p50 = percentile(self.resolution_times, 50)
        self.resolution_p90 = percentile(self.resolution_times, 90)


@dataclass
class DayCounts:
    day: date
    opened: int = 0
    closed: int = 0
    lost: int = 0


@dataclass
class AgentFigures:
    agent_id: int | None
    name: str | None  # None for unassigned conversations
    figures: Figures


@dataclass
class TeamFigures:
    team_id: int | None
    name: str | None  # None for conversations without a team
    figures: Figures


@dataclass
class Csat:
    """Satisfaction figures of one group (module docstring)."""

    asked: int = 0
    answered: int = 0
    score_sum: int = 0
    satisfied: int = 0

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def average(self) -> float | None:
        return self.score_sum / self.answered if self.answered else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.answered if self.answered else None


@dataclass
class CsatReport:
    total: Csat
    # (id, name, figures): None id for "no agent" / "no team"
    per_agent: list[tuple[int | None, str | None, Csat]]
    per_team: list[tuple[int | None, str | None, Csat]]
    per_inbox: list[tuple[int, str, Csat]]
    per_day: list[tuple[date, Csat]]


@dataclass
class Report:
    filters: ReportFilter
    total: Figures
    per_agent: list[AgentFigures]
    per_team: list[TeamFigures]
    per_day: list[DayCounts]
    funnel: list[tuple[ConversationStatus, int]]
    csat: CsatReport | None = None


def _scoped(query, filters: ReportFilter):
    if filters.agent_id is not None:
        query = query.where(Conversation.assigned_to == filters.agent_id)
    if filters.priority is not None:
        query = query.where(Conversation.priority == filters.priority)
    if filters.inbox_id is not None:
        query = query.where(Conversation.inbox_id == filters.inbox_id)
    if filters.team_id is not None:
        query = query.where(Conversation.team_id == filters.team_id)
    if filters.tag_id is not None:
        query = query.where(
            exists().where(
                conversation_tags.c.conversation_id == Conversation.id,
                conversation_tags.c.tag_id == filters.tag_id,
            )
        )
    return query


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _day_index(column, boundaries: list[datetime]):
    """The 0-based local day of `column` within the range, given each day's UTC start and the end.

    PostgreSQL's width_bucket finds it by binary search over the day starts; elsewhere a CASE
    tests the days in turn (a year's range is 366 comparisons per row)."""
    if _postgresql():
        return func.width_bucket(column, postgresql.array(boundaries[:-1])) - 1
    return case(*((column < upper, i) for i, upper in enumerate(boundaries[1:])), else_=None)


def _rank_in_database(filters: ReportFilter, within_target, timed_rows, total: Figures,
                      by_agent: dict[int | None, Figures], by_team: dict[int | None, Figures]) -> None:
    """Answered count, within-target count and nearest-rank percentiles per agent and in total,
    computed by PostgreSQL (resolution in whole seconds, as business_seconds counts without hours)."""
    response = SlaMetric.response_time_sec
    # greatest() skips NULLs: an unresolved conversation must stay NULL, not count as 0 seconds.
    elapsed = func.floor(extract("epoch", SlaMetric.resolved_at - Conversation.started_at))
    resolution = case((SlaMetric.resolved_at.is_not(None), cast(func.greatest(elapsed, 0), Integer)), else_=None)
    ranked = _scoped(
        select(
            Conversation.assigned_to,
            Conversation.team_id,
            func.grouping(Conversation.assigned_to),
            func.grouping(Conversation.team_id),
            func.count(response),
            func.coalesce(func.sum(case((response.is_not(None), within_target), else_=0)), 0),
            func.percentile_disc(0.5).within_group(response),
            func.percentile_disc(0.9).within_group(response),
            func.percentile_disc(0.5).within_group(resolution),
            func.percentile_disc(0.9).within_group(resolution),
        )
        .join(SlaMetric, SlaMetric.conversation_id == Conversation.id)
        .where(*timed_rows),
        filters,
    ).group_by(text("GROUPING SETS ((conversations.assigned_to), (conversations.team_id), ())"))
    for agent_id, team_id, no_agent, no_team, answered, within, fr50, fr90, res50, res90 in db.session.execute(ranked):
        if no_agent and no_team:
            figures = total
        elif no_team:
            figures = by_agent[agent_id]
        else:
            figures = by_team[team_id]
        figures.answered, figures.within_target = answered, int(within)
        figures.first_response_p50, figures.first_response_p90 = fr50, fr90
        figures.resolution_p50, figures.resolution_p90 = res50, res90


def build(filters: ReportFilter) -> Report:
    tz = settings.time_zone()
    days = filters.days
    boundaries = [local_day_start(d, tz) for d in days] + [
        local_day_start(filters.end + timedelta(days=1), tz)
    ]
    range_start, range_end = boundaries[0], boundaries[-1]
    opened_in_range = and_(Conversation.started_at >= range_start, Conversation.started_at < range_end)

    total = Figures()
    by_agent: dict[int | None, Figures] = defaultdict(Figures)
    by_team: dict[int | None, Figures] = defaultdict(Figures)
    per_day = [DayCounts(d) for d in days]
    funnel: dict[ConversationStatus, int] = dict.fromkeys(ConversationStatus, 0)

    # Opened, per day, agent and current status (the funnel), in one grouped query.
    opened = _scoped(
        select(
            _day_index(Conversation.started_at, boundaries).label("day"),
            Conversation.assigned_to.label("agent_id"),
            Conversation.team_id.label("team_id"),
            Conversation.status.label("status"),
        ).where(opened_in_range),
        filters,
    ).subquery()
    for day, agent_id, team_id, status, count in db.session.execute(
        select(opened.c.day, opened.c.agent_id, opened.c.team_id, opened.c.status, func.count()).group_by(
            opened.c.day, opened.c.agent_id, opened.c.team_id, opened.c.status
        )
    ):
        total.opened += count
        by_agent[agent_id].opened += count
        by_team[team_id].opened += count
        per_day[day].opened += count
        funnel[ConversationStatus(status)] += count

    # Closed and lost, by the day they ended.
    ended = _scoped(
        select(
            _day_index(Conversation.closed_at, boundaries).label("day"),
            Conversation.assigned_to.label("agent_id"),
            Conversation.team_id.label("team_id"),
            Conversation.status.label("status"),
        ).where(
            Conversation.status.in_(ConversationStatus.closed_states()),
            Conversation.closed_at >= range_start,
            Conversation.closed_at < range_end,
        ),
        filters,
    ).subquery()
    for day, agent_id, team_id, status, count in db.session.execute(
        select(ended.c.day, ended.c.agent_id, ended.c.team_id, ended.c.status, func.count()).group_by(
            ended.c.day, ended.c.agent_id, ended.c.team_id, ended.c.status
        )
    ):
        attr = "closed" if ConversationStatus(status) == ConversationStatus.closed else "lost"
        for counts in (total, by_agent[agent_id], by_team[team_id], per_day[day]):
            setattr(counts, attr, getattr(counts, attr) + count)

    # SLA breaches among the conversations opened in the range.
    for agent_id, team_id, count in db.session.execute(
        _scoped(
            select(Conversation.assigned_to, Conversation.team_id, func.count())
            .join(
                Incident,
                and_(Incident.conversation_id == Conversation.id, Incident.kind == IncidentKind.sla_breach),
            )
            .where(opened_in_range),
            filters,
        ).group_by(Conversation.assigned_to, Conversation.team_id)
    ):
        total.breaches += count
        by_agent[agent_id].breaches += count
        by_team[team_id].breaches += count

    # First response and resolution times. Without business hours PostgreSQL ranks them itself
    # (percentile_disc is the nearest rank; GROUPING SETS gives each agent, each team and the total
    # in one scan): over a year of a busy desk that is hundreds of thousands of rows never sent to
    # Python. Otherwise one narrow row per answered or resolved conversation is read through Core
    # and ranked here, business seconds counted per row with its team's hours.
    targets = {p: t.first_response_sec for p, t in settings.sla_targets().items()}
    hours = teams.HoursCache()
    within_target = case(
        *(
            (and_(Conversation.priority == priority, SlaMetric.response_time_sec <= target), 1)
            for priority, target in targets.items()
        ),
        else_=0,
    )
    timed_rows = (
        or_(SlaMetric.response_time_sec.is_not(None), SlaMetric.resolved_at.is_not(None)),
        opened_in_range,
    )
    if _postgresql() and not teams.any_business_hours():
        _rank_in_database(filters, within_target, timed_rows, total, by_agent, by_team)
    else:
        timed = _scoped(
            select(
                Conversation.assigned_to,
                Conversation.team_id,
                SlaMetric.response_time_sec,
                within_target,
                Conversation.started_at,
                SlaMetric.resolved_at,
            )
            .join(SlaMetric, SlaMetric.conversation_id == Conversation.id)
            .where(*timed_rows),
            filters,
        )
        for agent_id, team_id, response_sec, within, started_at, resolved_at in db.session.connection().execute(timed):
            groups = (total, by_agent[agent_id], by_team[team_id])
            if response_sec is not None:
                for figures in groups:
                    figures.first_response_times.append(response_sec)
                    figures.within_target += within
            if resolved_at is not None:
                seconds = business_seconds(started_at, resolved_at, hours.for_team(team_id), tz)
                for figures in groups:
                    figures.resolution_times.append(seconds)
        for figures in (total, *by_agent.values(), *by_team.values()):
            figures.rank()

    names = dict(
        db.session.execute(
            select(Agent.id, Agent.name).where(Agent.id.in_([a for a in by_agent if a is not None]))
        ).all()
    )
    per_agent = sorted(
        (
            AgentFigures(agent_id, names.get(agent_id) if agent_id else None, figures)
            for agent_id, figures in by_agent.items()
        ),
        key=lambda row: (row.name is None, (row.name or "").lower()),
    )
    team_names = dict(
        db.session.execute(select(Team.id, Team.name).where(Team.id.in_([t for t in by_team if t is not None]))).all()
    )
    per_team = sorted(
        (TeamFigures(team_id, team_names.get(team_id) if team_id else None, figures) for team_id, figures in by_team.items()),
        key=lambda row: (row.name is None, (row.name or "").lower()),
    )
    csat = _csat(filters, boundaries)
    return Report(filters, total, per_agent, per_team, per_day, list(funnel.items()), csat)


def _csat(filters: ReportFilter, boundaries: list[datetime]) -> CsatReport:
    """Surveys asked in the range, grouped in SQL by local day, agent, team and inbox (the ones
    stored on the survey at closing); the tag and priority filters apply to the conversation."""
    from portal.services.csat import SATISFIED_FROM

    query = (
        select(
            _day_index(CsatResponse.asked_at, boundaries).label("day"),
            CsatResponse.agent_id,
            CsatResponse.team_id,
            CsatResponse.inbox_id,
            func.count(),
            func.count(CsatResponse.score),
            func.coalesce(func.sum(CsatResponse.score), 0),
            func.coalesce(func.sum(case((CsatResponse.score >= SATISFIED_FROM, 1), else_=0)), 0),
        )
        .join(Conversation, Conversation.id == CsatResponse.conversation_id)
        .where(CsatResponse.asked_at >= boundaries[0], CsatResponse.asked_at < boundaries[-1])
    )
    if filters.agent_id is not None:
        query = query.where(CsatResponse.agent_id == filters.agent_id)
    if filters.team_id is not None:
        query = query.where(CsatResponse.team_id == filters.team_id)
    if filters.inbox_id is not None:
        query = query.where(CsatResponse.inbox_id == filters.inbox_id)
    query = _scoped(query, ReportFilter(filters.start, filters.end, tag_id=filters.tag_id, priority=filters.priority))
    query = query.group_by("day", CsatResponse.agent_id, CsatResponse.team_id, CsatResponse.inbox_id)
    total = Csat()
    by_agent: dict[int | None, Csat] = defaultdict(Csat)
    by_team: dict[int | None, Csat] = defaultdict(Csat)
    by_inbox: dict[int, Csat] = defaultdict(Csat)
    by_day: dict[int, Csat] = defaultdict(Csat)
    for day, agent_id, team_id, inbox_id, asked, answered, score_sum, satisfied in db.session.execute(query):
        for group in (total, by_agent[agent_id], by_team[team_id], by_inbox[inbox_id], by_day[day]):
            group.asked += asked
            group.answered += answered
            group.score_sum += int(score_sum)
            group.satisfied += int(satisfied)

    def named(model, ids) -> dict:
        wanted = [i for i in ids if i is not None]
        return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(wanted))).all()) if wanted else {}

    def rows(groups: dict, names: dict) -> list:
        return sorted(
            ((key, names.get(key) if key is not None else None, figures) for key, figures in groups.items()),
            key=lambda row: (row[1] is None, (row[1] or "").lower()),
        )

    days = filters.days
    return CsatReport(
        total,
        rows(by_agent, named(Agent, by_agent)),
        rows(by_team, named(Team, by_team)),
        rows(by_inbox, named(Inbox, by_inbox)),
        [(days[i], by_day[i]) for i in sorted(by_day) if i is not None],
    )


def csv_rows(report: Report) -> list[list[str]]:
    """The report's numbers in long form (section, key, metric, value); durations in seconds."""

    def fmt(value) -> str:
        if value is None:
            return ""
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    def figure_rows(section: str, key: str, figures: Figures) -> list[list[str]]:
        metrics = {
            "opened": figures.opened,
            "closed": figures.closed,
            "lost": figures.lost,
            "answered": figures.answered,
            "first_response_p50_sec": figures.first_response_p50,
            "first_response_p90_sec": figures.first_response_p90,
            "first_response_within_target_share": figures.within_target_share,
            "resolution_p50_sec": figures.resolution_p50,
            "resolution_p90_sec": figures.resolution_p90,
            "sla_breaches": figures.breaches,
        }
        return [[section, key, metric, fmt(value)] for metric, value in metrics.items()]

    f = report.filters
    rows = [["section", "key", "metric", "value"]]
    rows += [
        ["filter", "", "start", f.start.isoformat()],
        ["filter", "", "end", f.end.isoformat()],
        ["filter", "", "agent_id", fmt(f.agent_id)],
        ["filter", "", "tag_id", fmt(f.tag_id)],
        ["filter", "", "priority", f.priority.value if f.priority else ""],
        ["filter", "", "inbox_id", fmt(f.inbox_id)],
        ["filter", "", "team_id", fmt(f.team_id)],
    ]
    rows += figure_rows("total", "", report.total)
    for row in report.per_agent:
        rows += figure_rows(
            "agent", f"{row.name} (#{row.agent_id})" if row.agent_id else "unassigned", row.figures
        )
    for team_row in report.per_team:
        rows += figure_rows(
            "team", f"{team_row.name} (#{team_row.team_id})" if team_row.team_id else "no team", team_row.figures
        )
    for day in report.per_day:
        rows += [
            ["day", day.day.isoformat(), metric, str(getattr(day, metric))]
            for metric in ("opened", "closed", "lost")
        ]
    rows += [["funnel", status.value, "conversations", str(count)] for status, count in report.funnel]
    if report.csat is not None:
        c = report.csat

        def csat_rows(key: str, figures: Csat) -> list[list[str]]:
            metrics = {
                "asked": figures.asked,
                "answered": figures.answered,
                "response_rate": figures.response_rate,
                "average": figures.average,
                "satisfied_share": figures.satisfied_share,
            }
            return [["csat", key, metric, fmt(value)] for metric, value in metrics.items()]

        rows += csat_rows("total", c.total)
        rows += [r for i, name, f in c.per_agent for r in csat_rows(f"agent {name} (#{i})" if i else "agent none", f)]
        rows += [r for i, name, f in c.per_team for r in csat_rows(f"team {name} (#{i})" if i else "team none", f)]
        rows += [r for i, name, f in c.per_inbox for r in csat_rows(f"inbox {name} (#{i})", f)]
        rows += [r for day, f in c.per_day for r in csat_rows(f"day {day.isoformat()}", f)]
    return rows

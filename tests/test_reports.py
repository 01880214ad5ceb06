"""Reports checked against a hand-computed fixture.

Installation time zone America/Sao_Paulo (UTC-3); range 2026-11-02 (Monday) to 2026-11-04.
Default targets: urgent 15 min, high 1 h, normal 4 h, low 24 h. Percentiles are nearest-rank.

 conv agent   prio    started (local)   1st resp  status  ended (local)    resolution  incident
 c1   Ana     normal  11-02 10:00       300 s     closed  11-02 12:00      7200 s      manual (not a breach)
 c2   Ana     urgent  11-02 23:30 *     1200 s    active                                 * 11-03 in UTC
 c3   Ana     normal  11-03 09:00       600 s     lost    11-04 09:00      86400 s
 c4   Bruno   high    11-03 14:00       3000 s    closed  11-03 16:00      7200 s
 c5   Bruno   low     11-04 08:00       —         new                                   sla_breach
 c6   —       normal  11-04 22:00 *     100 s     triage                                * 11-05 in UTC
 c7   Ana     normal  11-01 20:00 (out) 50 s      closed  11-02 09:00      —           sla_breach (not opened in range)
 c8   Bruno   normal  11-05 00:30 (out) 60 s      new
c1 and c4 carry the tag "vip".

Opened 6, closed 3 (c1, c4, c7), lost 1 (c3). First response [100, 300, 600, 1200, 3000]:
p50 = rank ceil(2.5) = 3rd = 600, p90 = rank ceil(4.5) = 5th = 3000; within target 4 of 5 (c2 missed
15 min). Resolution [7200, 7200, 86400]: p50 = 2nd = 7200, p90 = rank ceil(2.7) = 3rd = 86400.
Breaches 1 (c5).
"""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.models import ConversationStatus, Incident, IncidentKind, Priority, Role, Severity, SlaMetric, Tag
from portal.services import reports, settings
from portal.services.reports import ReportFilter, percentile
from portal.services.settings import BusinessHours
from tests import factories

RANGE = {"start": "2026-11-02", "end": "2026-11-04"}


def sp(*args) -> datetime:
    return datetime(*args) + timedelta(hours=3)


@pytest.fixture
def fixture(db):
    settings.put("time_zone", "America/Sao_Paulo")
    ana, bruno = factories.agent(name="Ana"), factories.agent(name="Bruno")
    vip = Tag(name="vip")
    db.session.add(vip)
    rows = {}

    def conv(
        key, agent, priority, started, response=None, status=ConversationStatus.new, ended=None, tags=()
    ):
        c = factories.conversation(
            assigned_to=agent.id if agent else None,
            priority=priority,
            started_at=started,
            status=status,
            closed_at=ended,
        )
        c.tags = list(tags)
        db.session.add(
            SlaMetric(
                conversation_id=c.id,
                first_response_at=started + timedelta(seconds=response) if response is not None else None,
                response_time_sec=response,
                resolved_at=ended,
            )
        )
        rows[key] = c
        return c

    closed, lost = ConversationStatus.closed, ConversationStatus.lost
    conv("c1", ana, Priority.normal, sp(2026, 11, 2, 10), 300, closed, sp(2026, 11, 2, 12), [vip])
    conv("c2", ana, Priority.urgent, sp(2026, 11, 2, 23, 30), 1200, ConversationStatus.active)
    conv("c3", ana, Priority.normal, sp(2026, 11, 3, 9), 600, lost, sp(2026, 11, 4, 9))
    conv("c4", bruno, Priority.high, sp(2026, 11, 3, 14), 3000, closed, sp(2026, 11, 3, 16), [vip])
    conv("c5", bruno, Priority.low, sp(2026, 11, 4, 8))
    conv("c6", None, Priority.normal, sp(2026, 11, 4, 22), 100, ConversationStatus.triage)
    conv("c7", ana, Priority.normal, sp(2026, 11, 1, 20), 50, closed, sp(2026, 11, 2, 9))
    conv("c8", bruno, Priority.normal, sp(2026, 11, 5, 0, 30), 60)
    db.session.add_all(
        [
            Incident(conversation_id=rows["c5"].id, severity=Severity.low, kind=IncidentKind.sla_breach),
            Incident(conversation_id=rows["c7"].id, severity=Severity.medium, kind=IncidentKind.sla_breach),
            Incident(conversation_id=rows["c1"].id, severity=Severity.high, kind=IncidentKind.manual),
        ]
    )
    db.session.commit()
    return {"ana": ana, "bruno": bruno, "vip": vip, **rows}


def build(**filters):
    return reports.build(ReportFilter(start=date(2026, 11, 2), end=date(2026, 11, 4), **filters))


def test_percentiles_use_the_nearest_rank_method():
    values = [15, 20, 35, 40, 50]  # the textbook example: p30 = 20, p40 = 20, p50 = 35, p100 = 50
    assert [percentile(values, p) for p in (5, 30, 40, 50, 100)] == [15, 20, 20, 35, 50]
    assert percentile(list(range(1, 11)), 50) == 5 and percentile(list(range(1, 11)), 90) == 9
    assert percentile([7], 90) == 7 and percentile([], 50) is None


def test_totals_match_the_hand_computed_figures(fixture):
    t = build().total
    assert (t.opened, t.closed, t.lost, t.breaches) == (6, 3, 1, 1)
    assert (t.answered, t.first_response_p50, t.first_response_p90) == (5, 600, 3000)
    assert t.within_target_share == pytest.approx(0.8)
    assert (t.resolution_p50, t.resolution_p90) == (7200, 86400)


def test_days_are_local_days_and_the_funnel_counts_current_status(fixture):
    report = build()
    assert [(d.day.isoformat(), d.opened, d.closed, d.lost) for d in report.per_day] == [
        ("2026-11-02", 2, 2, 0),
        ("2026-11-03", 2, 1, 0),
        ("2026-11-04", 2, 0, 1),
    ]
    assert dict(report.funnel) == {
        ConversationStatus.new: 1,
        ConversationStatus.triage: 1,
        ConversationStatus.proposal: 0,
        ConversationStatus.waiting: 0,
        ConversationStatus.active: 1,
        ConversationStatus.lost: 1,
        ConversationStatus.closed: 2,
    }


def test_the_per_agent_table(fixture):
    rows = {row.name: row.figures for row in build().per_agent}
    assert list(rows) == ["Ana", "Bruno", None]
    ana, bruno, unassigned = rows["Ana"], rows["Bruno"], rows[None]
    assert (ana.opened, ana.closed, ana.lost, ana.breaches) == (3, 2, 1, 0)
    assert (ana.first_response_p50, ana.first_response_p90, ana.within_target) == (600, 1200, 2)
    assert (ana.resolution_p50, ana.resolution_p90) == (7200, 86400)
    assert (bruno.opened, bruno.closed, bruno.lost, bruno.breaches) == (2, 1, 0, 1)
    assert (bruno.first_response_p50, bruno.first_response_p90, bruno.resolution_p50) == (3000, 3000, 7200)
    assert (unassigned.opened, unassigned.first_response_p50, unassigned.resolution_p50) == (1, 100, None)


def test_filters_by_agent_tag_and_priority(fixture):
    ana = build(agent_id=fixture["ana"].id).total
    assert (ana.opened, ana.closed, ana.lost, ana.first_response_p90) == (3, 2, 1, 1200)
    vip = build(tag_id=fixture["vip"].id).total
    assert (vip.opened, vip.closed, vip.first_response_p50, vip.first_response_p90) == (2, 2, 300, 3000)
    normal = build(priority=Priority.normal).total
    assert (normal.opened, normal.closed, normal.lost) == (3, 2, 1)
    assert (normal.first_response_p50, normal.first_response_p90, normal.breaches) == (300, 600, 0)


def test_with_business_hours_resolution_counts_business_time(fixture):
    settings.put("business_hours", BusinessHours({d: (time(8), time(18)) for d in range(5)}).to_json())
    # c1: Monday 2 November is All Souls' Day, a national holiday: closed, 0 s.
    # c3: Tuesday 09:00 -> Wednesday 09:00 is 9 h + 1 h of business time.
    assert build(agent_id=fixture["ana"].id).total.resolution_times == [0, 36000]


def test_the_page_shows_the_numbers(client, login_as, fixture):
    login_as(Role.supervisor, locale="en")
    page = client.get("/reports", query_string=RANGE).get_data(as_text=True)
    for metric, shown in {
        "opened": "6",
        "closed": "3",
        "lost": "1",
        "first_response_p50": "10m",
        "first_response_p90": "50m",
        "within_target": "80%",
        "resolution_p50": "2h 00m",
        "resolution_p90": "1d 0h",
        "breaches": "1",
    }.items():
        assert f'data-metric="{metric}">{shown}<' in page, metric
    assert (
        page.count('class="bar bar-opened"') == 3 + 5
    )  # three days, and the five open statuses in the funnel
    assert 'data-status="closed">2<' in page
    assert '<tr data-agent="unassigned">' in page


def test_csv_export_has_the_same_numbers(client, login_as, fixture):
    login_as(Role.supervisor, locale="en")
    response = client.get("/reports/export.csv", query_string=RANGE)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = {tuple(r[:3]): r[3] for r in csv.reader(io.StringIO(response.get_data(as_text=True)))}
    assert rows[("total", "", "opened")] == "6"
    assert rows[("total", "", "first_response_p90_sec")] == "3000"
    assert rows[("total", "", "first_response_within_target_share")] == "0.8000"
    assert rows[("total", "", "resolution_p90_sec")] == "86400"
    assert rows[("total", "", "sla_breaches")] == "1"
    assert rows[("agent", f"Ana (#{fixture['ana'].id})", "first_response_p90_sec")] == "1200"
    assert rows[("agent", "unassigned", "resolution_p50_sec")] == ""
    assert rows[("day", "2026-11-04", "lost")] == "1"
    assert rows[("funnel", "closed", "conversations")] == "2"


def test_the_default_range_is_the_last_30_local_days(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    page = client.get("/reports").get_data(as_text=True)
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.time_zone())).date()
    start, end = reports.default_range(today)
    assert (end - start).days == 29
    assert f'value="{start.isoformat()}"' in page and f'value="{end.isoformat()}"' in page
    assert 'data-metric="opened">0<' in page


def test_a_bad_range_rerenders_with_the_error(client, login_as, db):
    login_as(Role.supervisor, locale="en")
    response = client.get("/reports", query_string={"start": "2026-11-04", "end": "2026-11-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.get_data(as_text=True)
    response = client.get("/reports", query_string={"start": "2024-01-01", "end": "2026-01-01"})
    assert "Choose at most 366 days." in response.get_data(as_text=True)


def test_htmx_filtering_answers_only_the_report(client, login_as, fixture):
    login_as(Role.supervisor, locale="en")
    page = client.get("/reports", query_string=RANGE, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in page and 'data-metric="opened">6<' in page
    assert "/reports/export.csv?start=2026-11-02&amp;end=2026-11-04" in page


def test_agents_cannot_open_reports(client, login_as):
    login_as(Role.agent)
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/export.csv").status_code == 403

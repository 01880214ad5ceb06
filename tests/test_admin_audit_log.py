"""The audit log page: who did what and when, filterable, paginated, and append-only."""

import re
from datetime import datetime

from portal.models import Role
from portal.services import audit
from tests import factories
from tests.test_profile import OtherBrowser


def _rows(html: str) -> list[str]:
    return re.findall(r"<td data-action=\"([a-z_.]+)\"", html)


def test_logins_and_failed_logins_appear(app, client, login_as, db):
    login_as(Role.admin)
    OtherBrowser(app).post("/login", data={"email": "nobody@example.com", "password": "wrong-password"})
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "auth.login" in _rows(html)
    assert "auth.login_failed" in _rows(html)
    assert "n***@example.com" in html and "nobody@example.com" not in html.split("<table", 1)[1]


def test_filters_by_actor_action_target_and_date(client, login_as, db):
    admin = login_as(Role.admin)
    other = factories.agent(role=Role.supervisor)
    audit.record("rule.updated", actor=other, target=("auto_rules", 7))
    old = audit.record("template.created", actor=other, target=("message_templates", 3))
    old.at = datetime(2026, 1, 10, 9)
    db.session.commit()

    def actions(query: str) -> list[str]:
        return _rows(client.get(f"/admin/audit?{query}").get_data(as_text=True))

    assert set(actions(f"actor={other.id}")) == {"rule.updated", "template.created"}
    assert actions("action=rule.updated") == ["rule.updated"]
    assert actions("target_type=message_templates") == ["template.created"]
    assert actions("target_type=auto_rules&target_id=7") == ["rule.updated"]
    assert actions("date_from=2026-01-10&date_to=2026-01-10") == ["template.created"]
    assert "auth.login" in actions(f"actor={admin.id}")


def test_the_log_is_paginated_newest_first(client, login_as, db):
    login_as(Role.admin)
    for n in range(60):
        audit.record("test.entry", target=("things", n))
    db.session.commit()
    first = client.get("/admin/audit?action=test.entry").get_data(as_text=True)
    assert len(_rows(first)) == 50 and "things 59" in first
    second = client.get("/admin/audit?action=test.entry&page=2").get_data(as_text=True)
    assert len(_rows(second)) == 10 and "things 0<" in second


def test_the_audit_log_has_no_route_that_changes_it(app, db):
    audit_rules = [rule for rule in app.url_map.iter_rules() if "/audit" in rule.rule]
    assert audit_rules
    assert all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in audit_rules)


def test_rule_and_triage_details_are_named_in_the_readers_language(client, login_as, db):
    """An auto-rule's change shows its conditions and actions with their keys named, yes/no and
    the portal's own words translated, never the raw keys (issue 19)."""
    login_as(Role.admin, locale="pt_BR")
    audit.record(
        "rule.updated",
        target=("auto_rules", 7),
        old={"conditions": {"business_hours": "inside", "priority": "high"}, "allow_second_reply": False},
        new={"conditions": {"business_hours": "outside", "team_id": 3}, "allow_second_reply": True},
    )
    audit.record(
        "rule.created", target=("auto_rules", 8), trigger_key="message.keyword:boleto", cooldown_minutes=None
    )
    audit.record("conversation.triaged", target=("conversations", 5), team=2, how="timeout")
    db.session.commit()
    html = client.get("/admin/audit").get_data(as_text=True)
    for shown in (
        "condições: horário de atendimento: fora do horário de atendimento; equipe: 3",
        "prioridade: Alta",
        "pode enviar uma segunda resposta: sim",
        "gatilho: Uma mensagem do cliente contém uma palavra-chave: boleto",
        "intervalo (minutos): —",
        "Encaminhou conversa nº 5 pelo menu de triagem",
        "como: sem resposta a tempo",
    ):
        assert shown in html, shown
    for raw in (
        "business_hours",
        "allow_second_reply",
        "trigger_key",
        "cooldown_minutes",
        "team_id",
        "timeout",
    ):
        assert raw not in html, raw

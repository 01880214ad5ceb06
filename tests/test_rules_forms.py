"""Auto-rule forms: the trigger comes from the catalogue with its parameter checked per trigger;
the list shows when each rule last fired and how often."""

from datetime import timedelta

import pytest

from portal.models import AuditLog, AutoRule, AutoRuleFiring, MessageTemplate, Role, utcnow
from tests import factories


@pytest.fixture
def template(db):
    row = MessageTemplate(template_key="boas_vindas", body="Olá {{1}}!", language="pt_BR")
    db.session.add(row)
    db.session.commit()
    return row


def _post(client, url, template, **fields):
    data = {"trigger": "conversation.opened", "template_id": template.id, "enabled": "y", **fields}
    return client.post(url, data=data)


@pytest.mark.parametrize(
    ("fields", "trigger_key"),
    [
        ({"trigger": "conversation.opened"}, "conversation.opened"),
        ({"trigger": "message.keyword", "keyword": "  Segunda   Via "}, "message.keyword:segunda via"),
        ({"trigger": "outside_business_hours"}, "outside_business_hours"),
        ({"trigger": "status.changed", "status": "closed"}, "status.changed:closed"),
        ({"trigger": "no_reply_after", "minutes": "30"}, "no_reply_after:30"),
        ({"trigger": "message.failed", "keyword": "ignored"}, "message.failed"),
    ],
)
def test_supervisor_creates_a_rule_for_each_trigger(client, db, login_as, template, fields, trigger_key):
    supervisor = login_as(Role.supervisor, locale="en")
    response = _post(client, "/rules/new", template, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    rule = db.session.query(AutoRule).one()
    assert (rule.trigger_key, rule.template_id, rule.enabled) == (trigger_key, template.id, True)
    audit = db.session.query(AuditLog).filter_by(action="rule.created").one()
    assert audit.actor_id == supervisor.id and audit.details["trigger_key"] == trigger_key


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"trigger": "message.keyword", "keyword": ""}, "Type the keyword"),
        ({"trigger": "message.keyword", "keyword": "50% off!"}, "letters, digits and spaces"),
        ({"trigger": "status.changed", "status": ""}, "Choose the status"),
        ({"trigger": "no_reply_after", "minutes": "0"}, "whole number of minutes"),
        ({"trigger": "no_reply_after", "minutes": "abc"}, "whole number of minutes"),
        ({"trigger": "something.else"}, "Not a valid choice"),
    ],
)
def test_a_missing_or_wrong_parameter_is_shown_beside_its_field(
    client, db, login_as, template, fields, message
):
    login_as(Role.supervisor, locale="en")
    response = _post(client, "/rules/new", template, **fields)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "has-error" in page and message in page
    assert db.session.query(AutoRule).count() == 0


def test_the_form_offers_only_templates_a_rule_can_fill_and_refuses_an_old_one(client, db, login_as, template):
    login_as(Role.supervisor, locale="en")
    two = MessageTemplate(template_key="pedido", body="Oi {{1}}, pedido {{2}}", language="pt_BR")
    paused = MessageTemplate(template_key="pausado", body="Oi {{1}}", language="pt_BR", status="paused")
    db.session.add_all([two, paused])
    db.session.commit()
    page = client.get("/rules/new").get_data(as_text=True)
    assert "boas_vindas (pt_BR)" in page and "pedido (pt_BR)" not in page and "pausado" not in page
    assert _post(client, "/rules/new", two).status_code == 200
    assert db.session.query(AutoRule).count() == 0

    # A rule saved before with such a template shows it, and saving says why it cannot stay.
    rule = AutoRule(trigger_key="conversation.opened", template_id=two.id)
    db.session.add(rule)
    db.session.commit()
    assert "pedido (pt_BR)" in client.get(f"/rules/{rule.id}/edit").get_data(as_text=True)
    response = _post(client, f"/rules/{rule.id}/edit", two)
    assert "Rules fill only {{1}}" in response.get_data(as_text=True)


def test_every_error_is_shown_at_once(client, db, login_as):
    login_as(Role.supervisor, locale="en")
    response = client.post(
        "/rules/new",
        data={"trigger": "message.keyword", "keyword": "", "template_id": "0", "repeat": "every", "cooldown_minutes": "x"},
    )
    page = response.get_data(as_text=True)
    assert "3 problems" in page
    assert "Type the keyword" in page and "Give the cool-down as whole minutes" in page
    assert "Choose what the rule does" in page


def test_editing_a_rule_prefills_the_form_and_audits_the_change(client, db, login_as, template):
    login_as(Role.supervisor, locale="en")
    rule = AutoRule(trigger_key="no_reply_after:45", template_id=template.id, enabled=True)
    db.session.add(rule)
    db.session.commit()

    page = client.get(f"/rules/{rule.id}/edit").get_data(as_text=True)
    assert 'value="45"' in page and '<option selected value="no_reply_after">' in page

    response = client.post(
        f"/rules/{rule.id}/edit",
        data={"trigger": "no_reply_after", "minutes": "60", "template_id": template.id},
    )
    assert response.status_code == 302
    db.session.refresh(rule)
    assert (rule.trigger_key, rule.enabled) == ("no_reply_after:60", False)
    audit = db.session.query(AuditLog).filter_by(action="rule.updated").one()
    assert audit.details["old"] == {"enabled": True, "trigger_key": "no_reply_after:45"}


def test_the_list_shows_how_often_and_when_each_rule_fired(client, db, login_as, template):
    login_as(Role.supervisor, locale="en")
    busy = AutoRule(trigger_key="conversation.opened", template_id=template.id, enabled=True)
    idle = AutoRule(trigger_key="message.keyword:boleto", template_id=template.id, enabled=False)
    db.session.add_all([busy, idle])
    db.session.flush()
    for minutes_ago in (90, 3):
        conversation = factories.conversation()
        db.session.add(
            AutoRuleFiring(
                rule_id=busy.id,
                conversation_id=conversation.id,
                fired_at=utcnow() - timedelta(minutes=minutes_ago),
            )
        )
    db.session.commit()

    page = client.get("/rules").get_data(as_text=True)
    busy_row = page.split(f'id="rule-{busy.id}"')[1].split("</tr>")[0]
    idle_row = page.split(f'id="rule-{idle.id}"')[1].split("</tr>")[0]
    assert "2 times" in busy_row and "3 minutes ago" in busy_row
    assert "0 times" in idle_row and "Never" in idle_row and "Disabled" in idle_row
    assert "<q>boleto</q>" in idle_row


def test_deleting_a_rule_removes_its_firings_and_frees_the_template(client, db, login_as, template):
    login_as(Role.supervisor, locale="en")
    rule = AutoRule(trigger_key="conversation.opened", template_id=template.id, enabled=True)
    db.session.add(rule)
    db.session.flush()
    db.session.add(AutoRuleFiring(rule_id=rule.id, conversation_id=factories.conversation().id))
    db.session.commit()

    assert client.post(f"/rules/{rule.id}/delete").status_code == 302
    assert db.session.query(AutoRule).count() == 0 and db.session.query(AutoRuleFiring).count() == 0
    assert db.session.query(AuditLog).filter_by(action="rule.deleted").count() == 1
    assert client.post(f"/templates/{template.id}/delete").status_code == 302


def test_agents_cannot_edit_rules(client, db, login_as, template):
    login_as(Role.agent)
    assert client.get("/rules").status_code == 403
    assert _post(client, "/rules/new", template).status_code == 403

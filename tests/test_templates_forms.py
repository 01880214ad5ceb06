"""Message templates through the portal: supervisors list, create, edit, preview and delete them."""

from portal.models import AuditLog, AutoRule, Direction, MessageTemplate, Role
from tests import factories


def _template(db, key="boas_vindas", body="Olá {{1}}, recebemos sua mensagem.", language="pt_BR"):
    template = MessageTemplate(template_key=key, body=body, language=language)
    db.session.add(template)
    db.session.commit()
    return template


def test_supervisor_creates_a_template_and_sees_it_listed(client, db, login_as):
    supervisor = login_as(Role.supervisor)
    response = client.post(
        "/templates/new",
        data={
            "template_key": "pedido_enviado",
            "language": "pt_BR",
            "body": "Oi {{1}}, o pedido {{2}} saiu.",
        },
    )
    assert response.status_code == 302
    template = db.session.query(MessageTemplate).one()
    assert (template.template_key, template.language) == ("pedido_enviado", "pt_BR")
    audit = db.session.query(AuditLog).filter_by(action="template.created").one()
    assert audit.actor_id == supervisor.id and audit.target_id == str(template.id)
    page = client.get("/templates").get_data(as_text=True)
    assert "pedido_enviado" in page


def test_placeholders_with_a_gap_are_refused_beside_the_body(client, db, login_as):
    login_as(Role.supervisor)
    response = client.post(
        "/templates/new", data={"template_key": "gap", "language": "pt_BR", "body": "Oi {{1}}, pedido {{3}}"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "has-error" in page and "{{1}}, {{2}}" in page
    assert db.session.query(MessageTemplate).count() == 0


def test_named_placeholders_are_refused(client, db, login_as):
    login_as(Role.supervisor)
    response = client.post(
        "/templates/new", data={"template_key": "named", "language": "pt_BR", "body": "Oi {{name}}"}
    )
    assert response.status_code == 200
    assert "{{name}}" in response.get_data(as_text=True)
    assert db.session.query(MessageTemplate).count() == 0


def test_key_and_language_follow_whatsapp_formats(client, db, login_as):
    login_as(Role.supervisor)
    _template(db, key="taken")
    for data, expected in [
        ({"template_key": "Boas Vindas", "language": "pt_BR"}, "lowercase letters"),
        ({"template_key": "ok_key", "language": "portuguese"}, "pt_BR, en_US"),
        ({"template_key": "taken", "language": "pt_BR"}, "already uses this key"),
    ]:
        response = client.post("/templates/new", data={**data, "body": "Olá"})
        assert response.status_code == 200
        assert expected in response.get_data(as_text=True)
    assert db.session.query(MessageTemplate).count() == 1


def test_editing_a_template_is_audited(client, db, login_as):
    login_as(Role.supervisor)
    template = _template(db)
    response = client.post(
        f"/templates/{template.id}/edit",
        data={"template_key": "boas_vindas", "language": "en_US", "body": "Hi {{1}}, we got your message."},
    )
    assert response.status_code == 302
    db.session.refresh(template)
    assert template.language == "en_US" and template.body.startswith("Hi")
    audit = db.session.query(AuditLog).filter_by(action="template.updated").one()
    assert audit.details["changed"] == ["body", "language"]


def test_preview_fills_placeholders_with_sample_values(client, db, login_as):
    login_as(Role.supervisor)
    response = client.post(
        "/templates/preview",
        data={"body": "Oi {{1}}, pedido {{2}} <b>", "sample_values": "Ana | #42"},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Oi <mark" in page and ">Ana</mark>" in page and ">#42</mark>" in page
    assert "&lt;b&gt;" in page and "<b>" not in page


def test_preview_keeps_unfilled_placeholders_and_shows_errors(client, db, login_as):
    login_as(Role.supervisor)
    page = client.post("/templates/preview", data={"body": "Oi {{2}}"}).get_data(as_text=True)
    assert ">{{2}}</mark>" in page and 'class="errors"' in page


def test_template_used_by_a_rule_cannot_be_deleted_and_says_why(client, db, login_as):
    login_as(Role.supervisor)
    template = _template(db)
    rule = AutoRule(trigger_key="conversation.opened", template_id=template.id, enabled=True)
    db.session.add(rule)
    db.session.commit()
    assert f"#{rule.id} conversation.opened" in client.get(f"/templates/{template.id}/edit").get_data(
        as_text=True
    )
    response = client.post(f"/templates/{template.id}/delete", follow_redirects=True)
    assert "was not deleted" in response.get_data(as_text=True)
    assert db.session.get(MessageTemplate, template.id) is not None


def test_template_sent_in_messages_cannot_be_deleted(client, db, login_as):
    login_as(Role.supervisor)
    template = _template(db)
    conversation = factories.conversation()
    factories.message(conversation, template_id=template.id, direction=Direction.outbound)
    db.session.commit()
    response = client.post(f"/templates/{template.id}/delete", follow_redirects=True)
    assert "keeps a link to it" in response.get_data(as_text=True)
    assert db.session.get(MessageTemplate, template.id) is not None


def test_unused_template_is_deleted_and_audited(client, db, login_as):
    login_as(Role.supervisor)
    template = _template(db)
    response = client.post(f"/templates/{template.id}/delete")
    assert response.status_code == 302
    assert db.session.query(MessageTemplate).count() == 0
    assert db.session.query(AuditLog).filter_by(action="template.deleted").count() == 1


def test_agents_cannot_open_templates(client, db, login_as):
    login_as(Role.agent)
    assert client.get("/templates").status_code == 403
    assert client.post("/templates/new", data={}).status_code == 403

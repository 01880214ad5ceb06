"""Issue 19's browser check: a supervisor builds "keyword boleto -> team Financeiro, tag
financeiro, priority high" in the rule form of a real Chromium; a simulated inbound "quero a
segunda via do boleto" (signed like Meta's, through the webhook and the worker) lands there."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import AutoRule, Contact, Conversation, Priority, Role, Team
from tests import factories


def test_a_supervisor_routes_boleto_messages_to_financeiro(page, db, browser_login, live_server, runner, run_jobs):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    db.session.add_all([Team(name="Financeiro"), Team(name="Vendas")])
    db.session.commit()
    browser_login(supervisor)

    page.goto("/rules/new")
    page.get_by_label("When").select_option("message.keyword")
    page.get_by_label("Keyword").fill("boleto")
    page.get_by_label("Move to team").select_option(label="Financeiro")
    page.get_by_label("Add tag").fill("financeiro")
    page.get_by_label("Set priority").select_option("high")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url("**/rules")
    row = page.locator("tbody tr").first.inner_text()
    assert "boleto" in row and "to team Financeiro" in row and "tag #financeiro" in row and "priority high" in row
    db.session.expire_all()
    assert db.session.scalars(select(AutoRule.trigger_key)).one() == "message.keyword:boleto"

    result = runner.invoke(
        args=[
            "simulate-inbound", "--from", "5511987654321", "--text", "quero a segunda via do boleto",
            "--url", f"{live_server}/webhooks/whatsapp",
        ]
    )
    assert result.exit_code == 0, result.output
    run_jobs("webhooks")

    db.session.expire_all()
    conversation = db.session.scalars(
        select(Conversation).join(Contact).where(Contact.phone == "+5511987654321")
    ).one()
    assert conversation.team.name == "Financeiro" and conversation.priority == Priority.high
    assert [t.name for t in conversation.tags] == ["financeiro"]

    page.goto(f"/inbox?team={conversation.team_id}")
    assert page.locator(".conversation-row .badge.team").first.inner_text() == "Financeiro"

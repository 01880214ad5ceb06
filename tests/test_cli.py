import re

from sqlalchemy import func, select

from portal.models import (
    Agent,
    AuditLog,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    Priority,
    Role,
    utcnow,
)


def test_create_agent_with_password_option(runner, db):
    result = runner.invoke(
        args=["create-agent", "--email", "Sup@Example.com", "--name", "Sup", "--role", "supervisor",
              "--password", "long-enough-1"]
    )
    assert result.exit_code == 0, result.output
    agent = db.session.scalar(select(Agent))
    assert agent.email == "sup@example.com" and agent.role == Role.supervisor
    assert agent.check_password("long-enough-1")


def test_create_agent_prompts_for_the_password(runner, db):
    result = runner.invoke(
        args=["create-agent", "--email", "a@example.com", "--name", "A"], input="long-enough-1\nlong-enough-1\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Agent)).check_password("long-enough-1")


def test_create_agent_rejects_a_duplicate_with_one_readable_line(runner, db):
    args = ["create-agent", "--email", "a@example.com", "--name", "A", "--password", "long-enough-1"]
    runner.invoke(args=args)
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_init_creates_one_demo_admin_once(runner, db):
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "password:" in first.output
    second = runner.invoke(args=["init"])
    assert "password:" not in second.output
    assert db.session.scalar(select(func.count()).select_from(Agent).where(Agent.role == Role.admin)) == 1


def test_the_credentials_init_prints_sign_in(runner, client, db):
    output = runner.invoke(args=["init"]).output
    email = re.search(r"e-mail:\s+(\S+)", output, re.I).group(1)
    password = re.search(r"password:\s+(\S+)", output, re.I).group(1)
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302


def test_demo_agents_sign_in_with_the_printed_password(runner, client, db):
    output = runner.invoke(args=["seed-demo", "--contacts", "10"]).output
    email = re.search(r"\b(supervisor@\S+?)[,\s]", output).group(1)
    response = client.post("/login", data={"email": email, "password": "demo-password"})
    assert response.status_code == 302


def test_seed_demo_fills_every_status_and_priority(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Contact)) >= 190
    statuses = set(db.session.scalars(select(Conversation.status).distinct()))
    priorities = set(db.session.scalars(select(Conversation.priority).distinct()))
    assert statuses == set(ConversationStatus) and priorities == set(Priority)
    directions = set(db.session.scalars(select(Message.direction).distinct()))
    assert len(directions) == 2
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code != 0 and "already has contacts" in again.output


def test_seed_demo_refuses_to_run_in_production(app, runner, db):
    app.config["ATENDE_ENV"] = "production"
    try:
        result = runner.invoke(args=["seed-demo", "--contacts", "5"])
    finally:
        app.config["ATENDE_ENV"] = "development"
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == ["Error: seed-demo is for trying Atende out and does not run with ATENDE_ENV=production."]
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_no_demo_message_or_closing_is_in_the_future(runner, db):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    now = utcnow()
    assert db.session.scalar(select(func.max(Message.sent_at))) <= now
    assert db.session.scalar(select(func.max(Conversation.last_message_at))) <= now
    assert db.session.scalar(select(func.max(Conversation.closed_at))) <= now


def test_reset_password_recovers_a_missed_admin_password(runner, client, db):
    runner.invoke(args=["init"])
    result = runner.invoke(args=["reset-password", "--email", "Admin@atende.example"], input="a-new-long-password\na-new-long-password\n")
    assert result.exit_code == 0, result.output
    assert "admin@atende.example" in result.output
    response = client.post("/login", data={"email": "admin@atende.example", "password": "a-new-long-password"})
    assert response.status_code == 302
    assert "agent.password_reset" in set(db.session.scalars(select(AuditLog.action)))


def test_reset_password_for_an_unknown_email_says_so(runner, db):
    result = runner.invoke(args=["reset-password", "--email", "nobody@example.com", "--password", "a-new-long-password"])
    assert result.exit_code != 0 and "nobody@example.com" in result.output

import re

from sqlalchemy import func, select

from portal.models import Agent, Contact, Conversation, ConversationStatus, Message, Priority, Role


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

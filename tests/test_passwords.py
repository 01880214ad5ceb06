"""One password rule everywhere a password is chosen: at least 12 characters, at most 128, not a
common one (the bundled list, also with digits or punctuation around it, or one piece repeated)."""

import pytest
from sqlalchemy import select

from portal.cli.demo import DEMO_PASSWORD
from portal.models import Agent, Role
from portal.services import agent_admin, passwords
from tests import factories
from tests.conftest import TEST_PASSWORD
from tests.test_profile import OtherBrowser

TOO_SHORT = "short-pass1"  # 11 characters
TOO_LONG = "x1-" * 43  # 129 characters
COMMON = "qwertyuiop123"  # on the list as "qwertyuiop", with digits after it
LONGEST = "".join(chr(97 + i % 26) + str(i % 10) for i in range(64))  # 128 characters, no repeats


@pytest.mark.parametrize(
    "password, reason",
    [
        (TOO_SHORT, "at least 12 characters"),
        (TOO_LONG, "at most 128 characters"),
        ("1qaz2wsx3edc", "too common"),
        ("PASSWORD1234", "too common"),
        ("!!iloveyou2026", "too common"),
        (COMMON, "too common"),
        ("abcabcabcabc", "too common"),
        ("zzzzzzzzzzzzzzzz", "too common"),
    ],
)
def test_the_rule_refuses_short_long_and_common_passwords(app, password, reason):
    with app.test_request_context():
        assert reason in passwords.problem(password)


@pytest.mark.parametrize("password", [TEST_PASSWORD, DEMO_PASSWORD, LONGEST, "tangerine-kayak-19"])
def test_the_rule_accepts_long_uncommon_passwords_including_the_test_and_demo_ones(app, password):
    with app.test_request_context():
        assert passwords.problem(password) is None


def test_the_bundled_list_has_the_ten_thousand_most_common_passwords():
    common = passwords._common_passwords()
    assert len(common) == 10_000 and {"123456", "password", "qwertyuiop"} <= common


def test_the_profile_refuses_a_common_new_password_beside_the_field(client, login_as, db):
    agent = login_as(Role.agent)
    response = client.post(
        "/profile/password",
        data={
            "password-current_password": TEST_PASSWORD,
            "password-new_password": COMMON,
            "password-confirm_password": COMMON,
        },
    )
    assert response.status_code == 200
    assert "too common" in response.get_data(as_text=True)
    db.session.refresh(agent)
    assert agent.check_password(TEST_PASSWORD)


def test_the_set_password_link_refuses_a_short_password(app, db):
    agent = factories.agent()
    db.session.commit()
    path = f"/set-password/{agent_admin.set_password_token(agent)}"
    response = OtherBrowser(app).post(path, data={"new_password": TOO_SHORT, "confirm_password": TOO_SHORT})
    assert response.status_code == 200
    assert "at least 12 characters" in response.get_data(as_text=True)


def test_an_admin_temporary_password_follows_the_rule(client, login_as, db):
    login_as(Role.admin)
    response = client.post(
        "/admin/agents/new",
        data={"name": "Nova", "email": "nova@example.com", "role": "agent", "temporary_password": COMMON},
    )
    assert response.status_code == 200 and "too common" in response.get_data(as_text=True)
    assert db.session.scalar(select(Agent).where(Agent.email == "nova@example.com")) is None
    agent = factories.agent()
    db.session.commit()
    response = client.post(f"/admin/agents/{agent.id}/reset-password", data={"temporary_password": TOO_LONG})
    assert response.status_code == 200 and "at most 128 characters" in response.get_data(as_text=True)


def test_create_agent_on_the_command_line_follows_the_rule(runner, db):
    args = ["create-agent", "--email", "a@example.com", "--name", "A", "--password", COMMON]
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and "too common" in result.output
    assert db.session.scalar(select(Agent)) is None


def test_the_services_refuse_a_weak_password_whatever_the_caller(db):
    admin = factories.agent(role=Role.admin)
    agent = factories.agent(password=TEST_PASSWORD)
    with pytest.raises(agent_admin.AgentError):
        agent_admin.reset_password(agent, temporary_password=TOO_SHORT, by=admin)
    with pytest.raises(agent_admin.AgentError):
        agent_admin.change_own_password(agent, current_password=TEST_PASSWORD, new_password=COMMON)

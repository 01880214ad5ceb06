"""An agent's own profile: name, language and password."""

from portal.models import Role
from tests.conftest import TEST_PASSWORD


class OtherBrowser:
    """A second client whose requests run in their own app context: Flask-Login caches the signed-in
    user on `g`, which the test's pushed app context would otherwise share between clients."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def __getattr__(self, method):
        def call(*args, **kwargs):
            with self.app.app_context():
                return getattr(self.client, method)(*args, **kwargs)

        return call


def test_agent_changes_name_and_language_and_the_ui_follows(client, login_as, db):
    agent = login_as(Role.agent)
    response = client.post("/profile", data={"profile-name": "Ana Lima", "profile-locale": "en"})
    assert response.status_code == 302
    db.session.refresh(agent)
    assert (agent.name, agent.locale) == ("Ana Lima", "en")
    assert '<html lang="en"' in client.get("/profile").get_data(as_text=True)


def test_a_language_not_offered_is_refused(client, login_as, db):
    agent = login_as(Role.agent, locale="en")
    response = client.post("/profile", data={"profile-name": "Ana", "profile-locale": "fr"})
    assert response.status_code == 200
    db.session.refresh(agent)
    assert agent.locale == "en"


def test_agent_changes_password_and_stays_signed_in_while_other_sessions_end(app, client, login_as, db):
    agent = login_as(Role.agent)
    other_session = OtherBrowser(app)
    other_session.post("/login", data={"email": agent.email, "password": TEST_PASSWORD})
    response = client.post(
        "/profile/password",
        data={
            "password-current_password": TEST_PASSWORD,
            "password-new_password": "a-better-password",
            "password-confirm_password": "a-better-password",
        },
    )
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert other_session.get("/profile").status_code == 302
    db.session.refresh(agent)
    assert agent.check_password("a-better-password")


def test_a_wrong_current_password_is_shown_beside_the_field(client, login_as, db):
    agent = login_as(Role.agent)
    response = client.post(
        "/profile/password",
        data={
            "password-current_password": "not-my-password",
            "password-new_password": "a-better-password",
            "password-confirm_password": "a-better-password",
        },
    )
    assert response.status_code == 200
    assert "The current password is wrong." in response.get_data(as_text=True)
    db.session.refresh(agent)
    assert agent.check_password(TEST_PASSWORD)


def test_the_profile_needs_a_signed_in_agent(client, db):
    assert client.get("/profile").status_code == 302


def test_agent_chooses_sound_and_desktop_alerts_and_the_page_carries_them(client, login_as, db):
    agent = login_as(Role.agent)
    assert "data-alert-sound" not in client.get("/inbox").get_data(as_text=True)

    client.post("/profile", data={"profile-name": agent.name, "profile-locale": "en",
                                  "profile-alert_sound": "y", "profile-alert_desktop": "y"})

    db.session.refresh(agent)
    assert (agent.alert_sound, agent.alert_desktop) == (True, True)
    page = client.get("/inbox").get_data(as_text=True)
    assert "data-alert-sound" in page and "data-alert-desktop" in page

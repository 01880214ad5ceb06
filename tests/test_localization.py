"""Each agent's language; dates, relative times, numbers and phones the way that language expects.

The test app's default language is English (tests/conftest.py); these tests ask for pt_BR through
the agent's profile choice, the browser's Accept-Language or the DEFAULT_LOCALE setting."""

from datetime import datetime, timedelta

import pytest
from flask import url_for

from portal.models import ConversationStatus, Priority, Role, SlaMetric, utcnow
from portal.navigation import NAV_ITEMS
from portal.services import settings
from tests import factories

PT = {"Accept-Language": "pt-BR,pt;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


def page(client, url, headers=None, **query) -> str:
    response = client.get(url, headers=headers or {}, query_string=query)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_agents_own_language_wins_over_the_browser(client, login_as, db):
    login_as(Role.agent, locale="pt_BR")
    html = page(client, "/inbox", EN)
    assert '<html lang="pt-BR"' in html or '<html lang="pt_BR"' in html
    assert "Caixa de entrada" in html and "Sair" in html and "Sign out" not in html


def test_an_agent_who_chose_english_keeps_it_on_a_portuguese_browser(client, login_as, db):
    login_as(Role.agent, locale="en")
    html = page(client, "/inbox", PT)
    assert "Sign out" in html and "Sair" not in html


@pytest.mark.parametrize(
    ("headers", "expected", "absent"), [(PT, "Sair", "Sign out"), (EN, "Sign out", "Sair")]
)
def test_without_a_choice_the_browser_language_decides(client, login_as, db, headers, expected, absent):
    login_as(Role.agent)
    html = page(client, "/inbox", headers)
    assert expected in html and absent not in html


def test_the_sign_in_page_speaks_the_browser_language(client, db):
    assert "Entrar no Atende" in page(client, "/login", PT)
    assert "Sign in to Atende" in page(client, "/login", EN)


@pytest.fixture
def installation_in_portuguese(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "pt_BR")
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "pt_BR")


def test_the_default_locale_setting_comes_before_the_browser(
    client, login_as, db, installation_in_portuguese
):
    assert "Entrar no Atende" in page(client, "/login", EN)
    login_as(Role.agent)
    assert "Sair" in page(client, "/inbox", EN)


def test_an_agents_choice_comes_before_the_default_locale_setting(
    client, login_as, db, installation_in_portuguese
):
    login_as(Role.agent, locale="en")
    assert "Sign out" in page(client, "/inbox", PT)


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("pt_BR", "10/03/2026 12:00"), ("en", "3/10/26, 12:00\u202fPM")],
)
def test_dates_are_in_the_installation_time_zone_and_the_agents_format(client, login_as, db, locale, shown):
    contact = factories.contact(created_at=datetime(2026, 3, 10, 15, 0))  # stored as UTC
    db.session.commit()
    login_as(Role.supervisor, locale=locale)
    html = page(client, f"/contacts/{contact.id}")
    assert shown in html and "15:00" not in html  # São Paulo is UTC-3


def test_dates_follow_the_time_zone_chosen_on_the_sla_page(client, login_as, db):
    settings.put("time_zone", "Europe/Lisbon")
    contact = factories.contact(created_at=datetime(2026, 3, 10, 15, 0))
    db.session.commit()
    login_as(Role.supervisor, locale="pt_BR")
    assert "10/03/2026 15:00" in page(client, f"/contacts/{contact.id}")  # Lisbon is UTC+0 in March


@pytest.mark.parametrize(("locale", "expected"), [("pt_BR", "há 5 minutos"), ("en", "5 minutes ago")])
def test_relative_times_read_naturally(client, login_as, db, locale, expected):
    factories.conversation(last_message_at=utcnow() - timedelta(minutes=5, seconds=10))
    db.session.commit()
    login_as(Role.supervisor, locale=locale)
    assert expected in page(client, "/board")


@pytest.mark.parametrize(("locale", "expected"), [("pt_BR", "87,5%"), ("en", "87.5%")])
def test_report_percentages_use_the_locale_decimal_separator(client, login_as, db, locale, expected):
    settings.put("time_zone", "America/Sao_Paulo")
    started = datetime(2026, 11, 2, 13)  # 10:00 in São Paulo; the normal-priority target is 4 h
    for response in [60] * 7 + [5 * 3600]:
        conversation = factories.conversation(priority=Priority.normal, started_at=started)
        db.session.add(
            SlaMetric(
                conversation_id=conversation.id,
                response_time_sec=response,
                first_response_at=started + timedelta(seconds=response),
            )
        )
    db.session.commit()
    login_as(Role.supervisor, locale=locale)
    html = page(client, "/reports", start="2026-11-02", end="2026-11-02")
    assert f'data-metric="within_target">{expected}<' in html


def test_enum_values_are_shown_in_the_agents_language(client, login_as, db):
    conversation = factories.conversation(status=ConversationStatus.waiting, priority=Priority.urgent)
    db.session.commit()
    login_as(Role.supervisor, locale="pt_BR")
    html = page(client, f"/contacts/{conversation.contact_id}")
    assert ">Aguardando<" in html and ">Urgente<" in html
    assert ">waiting<" not in html and ">urgent<" not in html


def test_phones_are_national_at_home_and_international_abroad(client, login_as, db):
    factories.contact(name="Ana", phone="+5511987654321")
    factories.contact(name="John", phone="+14155550123")
    db.session.commit()
    login_as(Role.agent, locale="pt_BR")
    html = page(client, "/contacts")
    assert "(11) 98765-4321" in html
    assert "+1 415-555-0123" in html


def test_phones_follow_the_installation_country(app, client, login_as, db, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_COUNTRY", "US")
    factories.contact(name="Ana", phone="+5511987654321")
    factories.contact(name="John", phone="+14155550123")
    db.session.commit()
    login_as(Role.agent)
    html = page(client, "/contacts")
    assert "+55 11 98765-4321" in html and "(415) 555-0123" in html


def test_cli_output_is_in_the_installation_language(app, runner, db, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "pt_BR")
    result = runner.invoke(args=["reprocess", "4242"])
    assert "Não existe o evento de webhook 4242." in result.output


def test_every_page_renders_in_portuguese(app, client, login_as, db):
    """A translation with a broken placeholder or markup would fail here, page by page."""
    conversation = factories.conversation(status=ConversationStatus.active, priority=Priority.high)
    factories.message(conversation)
    db.session.commit()
    login_as(Role.admin, locale="pt_BR")
    endpoints = [item.endpoint for item in NAV_ITEMS] + [
        "admin.agents",
        "admin.agent_new",
        "admin.audit_log",
        "admin.settings_page",
        "admin.dead_letters_index",
        "admin.webhook_events",
        "profile.index",
        "tokens.index",
        "contacts.import_upload",
        "incidents.create",
        "rules.create",
        "templates.create",
    ]
    with app.test_request_context():
        urls = [url_for(endpoint) for endpoint in endpoints]
    urls += [f"/conversations/{conversation.id}", f"/contacts/{conversation.contact_id}"]
    for url in urls:
        html = page(client, url)
        assert '<html lang="pt-BR"' in html and "Sair" in html, url

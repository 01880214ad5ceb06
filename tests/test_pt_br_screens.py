"""Everything on screen is in Brazilian Portuguese: validation messages, enum values, message
types, WhatsApp errors, retries, audit and dead-letter entries, plural forms. The main pages are
rendered for a pt_BR admin over realistic data, and the visible text (attributes such as tooltips
left out) must hold none of the English or internal names a newcomer found."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from portal.labels import AUDIT_ACTION_LABELS
from portal.models import (
    AutoRule,
    Direction,
    Incident,
    IncidentKind,
    MessageStatus,
    MessageTemplate,
    Role,
    Severity,
    WebhookEvent,
    WebhookStatus,
    utcnow,
)
from portal.queue import WEBHOOKS
from portal.services import audit, webhook_events
from tests import factories
from tests.test_admin_dead_letters import flaky  # noqa: F401  (a fixture used below)
from tests.test_sla_settings import form_data

# English a pt_BR screen must not show, and internal names (enum values, job functions, actions).
LEFTOVERS = (
    re.compile(r"\[(sticker|image|audio|video|document|location|contacts|reaction|unsupported|text)\]"),
    re.compile(r"\b(Number must be|Not a valid|This field is required|Invalid)\b"),
    re.compile(r"\b(Retrying|Send again|Failed|Pending|Processed|Queued|Delivered)\b"),
    re.compile(r"\b(Critical|High|Medium|Low|SLA breach)\b"),
    re.compile(r"\b(critical|medium|sla_breach|processed|pending)\b"),
    re.compile(r"\b(Re-engagement message|Message undeliverable|Rate limit hit)\b"),
    re.compile(r"\b0 vez\b"),
    re.compile(r"\b[a-z_]+\.[a-z_]*(created|updated|changed|deleted|replayed|requeued|exported|login\w*)\b"),
    re.compile(r"\bportal\.jobs\b|\bsend_message\b"),
)


class VisibleText(HTMLParser):
    """The text a reader sees without opening anything: no scripts, no attributes, and of a
    <details> (technical details for whoever reports a problem) only its summary."""

    HIDDEN = {"script", "style", "details"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0
        self._summary = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in self.HIDDEN
        self._summary += tag == "summary"

    def handle_endtag(self, tag):
        self._hidden -= tag in self.HIDDEN and self._hidden > 0
        self._summary -= tag == "summary" and self._summary > 0

    def handle_data(self, data):
        if not self._hidden or self._summary:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def leftovers(text: str) -> list[str]:
    return [m.group(0) for pattern in LEFTOVERS for m in pattern.finditer(text)]


def test_leftover_patterns_catch_what_the_newcomer_saw():
    assert leftovers("[sticker] Number must be between 1 and 129600. 0 vez incident.created High")


def _installation(db):
    """A conversation with a sticker, a failed and a retrying reply, an incident, a failed webhook
    event and a few audit entries."""
    conversation = factories.conversation()
    factories.message(conversation, body=None, message_type="sticker")
    me = factories.agent(Role.agent, name="Rita")
    factories.message(
        conversation, Direction.outbound, body="Olá", sender_agent_id=me.id, status=MessageStatus.failed,
        external_id=None, error_code=131047, error_title="Re-engagement message",
    )
    factories.message(
        conversation, Direction.outbound, body="Tudo bem?", sender_agent_id=me.id, status=MessageStatus.queued,
        external_id=None, error_code=130429, error_title="Rate limit hit", send_attempts=1,
    )
    incident = Incident(conversation_id=conversation.id, severity=Severity.high, kind=IncidentKind.sla_breach)
    event = WebhookEvent(provider="whatsapp", event_type="messages", payload_json={}, status=WebhookStatus.failed,
                         received_at=utcnow(), attempts=1, error="boom")
    template = MessageTemplate(template_key="boas_vindas", language="pt_BR", body="Olá {{1}}")
    db.session.add_all([incident, event, template])
    db.session.flush()
    db.session.add(AutoRule(trigger_key="conversation.opened", template_id=template.id, enabled=True))
    audit.record("incident.created", target=incident, kind="sla_breach", severity="high")
    audit.record("conversation.status_changed", actor=me, target=conversation, old="new", new="triage")
    audit.record("agent.created", actor=me, target=me, role="agent")
    db.session.commit()
    return conversation, incident, event


@pytest.mark.usefixtures("flaky")
def test_main_pages_in_portuguese_have_no_english_leftovers(client, login_as, db, run_jobs):
    conversation, incident, event = _installation(db)
    webhook_events.store("flaky", "messages", {})  # a job that fails: a dead letter
    run_jobs(WEBHOOKS)
    login_as(Role.admin, locale="pt_BR")
    pages = [
        "/inbox", f"/conversations/{conversation.id}", "/incidents", f"/incidents/{incident.id}",
        "/admin/webhook-events", f"/admin/webhook-events/{event.id}", "/admin/audit", "/admin/dead-letters",
        "/rules", "/sla", "/contacts", f"/contacts/{conversation.contact_id}", "/board", "/reports", "/templates",
        "/admin", "/admin/agents", "/admin/settings", "/profile", "/crm/deliveries", "/incidents/new", "/rules/new",
    ]
    found = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = leftovers(visible_text(response.get_data(as_text=True)))
    response = client.post("/sla", data=form_data(**{"targets-0-first_response_min": "999999"}))
    found["POST /sla"] = leftovers(visible_text(response.get_data(as_text=True)))
    assert {url: words for url, words in found.items() if words} == {}


def test_a_failed_or_retrying_send_reads_as_a_sentence_with_the_code_in_a_tooltip(client, login_as, db):
    conversation, _, _ = _installation(db)
    login_as(Role.admin, locale="pt_BR")
    html = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    text = visible_text(html)
    assert "Figurinha" in text
    assert "tentativa 2 de 6" in text
    assert 'title="Erro do WhatsApp 131047: Re-engagement message"' in html
    assert "131047" not in text


def test_outside_the_window_a_131047_failure_offers_a_template_instead_of_a_resend(client, login_as, db):
    conversation, _, _ = _installation(db)
    conversation.last_inbound_at = utcnow().replace(year=2020)
    db.session.commit()
    login_as(Role.admin, locale="en")
    html = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "Send a template instead" in html and "Send again" not in html


def test_validation_messages_of_nested_forms_are_translated(client, login_as, db):
    login_as(Role.supervisor, locale="pt_BR")
    response = client.post("/sla", data=form_data(**{"targets-0-first_response_min": "999999"}))
    assert "O valor tem que ser entre 1 e 129600" in response.get_data(as_text=True)


def test_zero_takes_the_plural_in_brazilian_portuguese(client, login_as, db):
    _installation(db)
    login_as(Role.supervisor, locale="pt_BR")
    text = visible_text(client.get("/rules").get_data(as_text=True))
    assert "0 vezes" in text


def test_every_audited_action_reads_as_a_sentence():
    root = Path(__file__).resolve().parent.parent / "portal"
    recorded = set()
    for path in root.rglob("*.py"):
        recorded |= set(re.findall(r'audit\.record\(\s*"([a-z_.]+)"', path.read_text()))
        recorded |= {f"dead_letter.{verb}" for verb in re.findall(r'"dead_letter\.(\w+)"', path.read_text())}
        recorded |= {f"auth.{kind}_throttled" for kind in re.findall(r'(?:record_refusal|_too_many_attempts)\(\s*"(\w+)"', path.read_text())}
    assert recorded - set(AUDIT_ACTION_LABELS) == set()
    assert {"auth.login", "auth.login_throttled", "conversation.status_changed", "dead_letter.requeued"} <= recorded


def test_every_form_shows_wtforms_own_messages_translated(app):
    """A plain wtforms.Form (nested with FormField) would show "Number must be between..." in English."""
    from flask_wtf import FlaskForm
    from wtforms import Form

    from portal.i18n import TranslatedForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    portal_forms = {cls for cls in subclasses(Form) if cls.__module__.startswith("portal.")}
    assert portal_forms
    untranslated = {cls.__qualname__ for cls in portal_forms if not issubclass(cls, FlaskForm | TranslatedForm)}
    assert untranslated == set()


def test_filter_choices_name_actions_targets_and_event_types_in_portuguese(client, login_as, db):
    _installation(db)
    login_as(Role.admin, locale="pt_BR")
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="incident.created">Abriu …</option>' in audit_page
    assert '<option value="conversation.status_changed">Alterou o status de …</option>' in audit_page
    assert re.search(r'<option value="incidents">Incidentes</option>', audit_page)
    events_page = client.get("/admin/webhook-events").get_data(as_text=True)
    assert '<option value="messages">Mensagens e status</option>' in events_page
    assert '<option value="whatsapp">WhatsApp</option>' in events_page

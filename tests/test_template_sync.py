"""Templates from Meta (issue 21, part 4): the business account's list synced from the Graph API
(the simulator, paged) on demand and daily, header and button parameters sent as the approved
template's components ask (the simulator checks them), status webhooks updating the row, paused
templates refused before anything is sent, and hand-written bodies checked as Meta checks them."""

from datetime import timedelta

import pytest
import requests
from flask_babel import force_locale
from sqlalchemy import select

from portal.channels.whatsapp import client as graph
from portal.jobs import templates as template_jobs
from portal.jobs.schedule import SCHEDULE
from portal.models import (
    AuditLog,
    Direction,
    Message,
    MessageStatus,
    MessageTemplate,
    Role,
    TemplateCategory,
    TemplateStatus,
    utcnow,
)
from portal.queue import OUTBOUND
from portal.services import outbound, templates
from tests import factories

WABA = "102290129340398"  # the fixture payloads' business account
OTHER_WABA = "203300000000001"

PEDIDO = {
    "name": "pedido_enviado",
    "language": "pt_BR",
    "category": "UTILITY",
    "components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://example.com/x.jpg"]}},
        {"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} foi enviado."},
        {"type": "FOOTER", "text": "Loja Exemplo"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Falar com alguém"},
                {"type": "URL", "text": "Rastrear", "url": "https://loja.example/rastreio/{{1}}"},
            ],
        },
    ],
}
BOAS_VINDAS = {
    "name": "boas_vindas",
    "language": "pt_BR",
    "category": "MARKETING",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Oi, {{1}}"},
        {"type": "BODY", "text": "Que bom ter você aqui."},
    ],
}
WELCOME = {
    "name": "boas_vindas",
    "language": "en_US",
    "category": "MARKETING",
    "components": [{"type": "BODY", "text": "Welcome aboard, {{1}}!"}],
}
FILLER = [
    {"name": f"aviso_{n}", "language": "pt_BR", "components": [{"type": "BODY", "text": f"Aviso {n}."}]} for n in range(3)
]


@pytest.fixture
def inbox(db):
    row = factories.default_inbox()
    row.waba_id = WABA
    db.session.commit()
    return row


@pytest.fixture
def synced(db, inbox, graph_simulator):
    graph_simulator.set_templates(WABA, [PEDIDO, BOAS_VINDAS, WELCOME])
    templates.sync(by=None)
    db.session.commit()
    return {t.template_key: t for t in db.session.scalars(select(MessageTemplate))}


def _template_requests(graph_simulator):
    return [r for r in graph_simulator.requests if r["endpoint"] == "message_templates"]


def test_sync_on_demand_reads_every_page_into_rows_per_business_account(
    client, db, login_as, inbox, graph_simulator, monkeypatch
):
    monkeypatch.setattr(graph, "TEMPLATE_PAGE_SIZE", 2)
    other = factories.inbox(name="Filial", waba_id=OTHER_WABA, access_token="token-filial")
    graph_simulator.add_number(other.phone_number_id, "token-filial")
    # A second number of the first account: the account is listed once.
    factories.inbox(name="Vendas", waba_id=WABA)
    db.session.commit()
    graph_simulator.set_templates(WABA, [PEDIDO, BOAS_VINDAS, WELCOME, *FILLER])
    graph_simulator.set_templates(OTHER_WABA, [dict(PEDIDO, status="PENDING")])
    login_as(Role.supervisor)

    response = client.post("/templates/sync", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f"Templates of account {WABA} synced: 6 new, 0 changed, 0 no longer listed." in html
    assert f"Templates of account {OTHER_WABA} synced: 1 new" in html

    listing = _template_requests(graph_simulator)
    paths = [r["path"] for r in listing]
    assert paths.count(f"/v21.0/{WABA}/message_templates") == 3  # 6 templates, 2 a page
    assert paths.count(f"/v21.0/{OTHER_WABA}/message_templates") == 1
    assert listing[0]["query"]["limit"] == "2" and "after" not in listing[0]["query"]
    assert all(r["query"]["after"] for r in listing[1:3])
    assert "components" in listing[0]["query"]["fields"]
    assert {r["token"] for r in listing if OTHER_WABA in r["path"]} == {"token-filial"}

    rows = db.session.scalars(select(MessageTemplate).order_by(MessageTemplate.id)).all()
    by_key = {t.template_key: t for t in rows}
    assert set(by_key) == {
        "pedido_enviado",
        "boas_vindas",
        "boas_vindas_en_us",  # Meta's names repeat per language; template_key stays unique
        "aviso_0",
        "aviso_1",
        "aviso_2",
        "pedido_enviado_pt_br",  # the same name in another account
    }
    pedido = by_key["pedido_enviado"]
    assert (pedido.waba_id, pedido.external_name, pedido.category) == (WABA, "pedido_enviado", TemplateCategory.utility)
    assert pedido.body == "Olá {{1}}, seu pedido {{2}} foi enviado." and pedido.components == PEDIDO["components"]
    assert pedido.status == TemplateStatus.approved and pedido.synced_at is not None and pedido.external_id
    assert by_key["boas_vindas_en_us"].send_name == "boas_vindas"
    filial = by_key["pedido_enviado_pt_br"]
    assert (filial.waba_id, filial.status, filial.send_name) == (OTHER_WABA, TemplateStatus.pending, "pedido_enviado")
    # Each account's conversations offer only that account's approved templates.
    assert [t.template_key for t in templates.sendable_templates(other)] == []
    assert "pedido_enviado" in [t.template_key for t in templates.sendable_templates(inbox)]
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "template.synced")).all()
    assert len(audit) == 2


def test_the_daily_sync_updates_rows_and_marks_templates_no_longer_listed(db, synced, graph_simulator):
    assert any(s.func == "portal.jobs.templates.sync_templates" and s.every_seconds == 86400 for s in SCHEDULE)
    changed = dict(BOAS_VINDAS, status="REJECTED", rejected_reason="INVALID_FORMAT")
    graph_simulator.set_templates(WABA, [PEDIDO, changed])

    results = template_jobs.sync_templates()

    assert "updated=1" in results[WABA] and "removed=1" in results[WABA]
    db.session.expire_all()
    rows = {t.template_key: t for t in db.session.scalars(select(MessageTemplate))}
    assert rows["boas_vindas"].status == TemplateStatus.rejected
    assert rows["boas_vindas"].status_reason == "INVALID_FORMAT"
    assert rows["boas_vindas_en_us"].status == TemplateStatus.deleted
    assert rows["pedido_enviado"].status == TemplateStatus.approved
    # Running it again changes nothing.
    assert "updated=0" in template_jobs.sync_templates()[WABA]


def test_a_failed_listing_is_reported_and_other_accounts_still_sync(db, inbox, graph_simulator):
    graph_simulator.set_templates(WABA, [PEDIDO])
    graph_simulator.fail(190, endpoint="message_templates")
    results = templates.sync(by=None)
    assert "access token" in results[WABA]
    assert db.session.scalar(select(MessageTemplate.id)) is None


def test_a_synced_template_cannot_be_edited_by_hand(client, db, login_as, synced):
    login_as(Role.supervisor)
    pedido = synced["pedido_enviado"]
    response = client.post(
        f"/templates/{pedido.id}/edit",
        data={"template_key": "pedido_enviado", "language": "pt_BR", "body": "Outro texto."},
    )
    assert "change it in WhatsApp Manager, then sync" in response.get_data(as_text=True)
    db.session.expire_all()
    assert pedido.body == "Olá {{1}}, seu pedido {{2}} foi enviado."


def _closed_window_conversation():
    return factories.conversation(last_inbound_at=utcnow() - timedelta(days=3))


def test_an_image_header_and_url_button_are_sent_with_their_parameters(
    client, db, login_as, synced, run_jobs, graph_simulator
):
    login_as(Role.agent)
    conversation = _closed_window_conversation()
    db.session.commit()
    pedido = synced["pedido_enviado"]

    picker = client.get(f"/conversations/{conversation.id}?template_id={pedido.id}").get_data(as_text=True)
    assert "Link of the header&#39;s image (https)" in picker or "Link of the header's image (https)" in picker
    assert 'name="header_link"' in picker and 'name="buttons-0"' in picker
    assert "Rastrear" in picker and "Loja Exemplo" in picker

    response = client.post(
        f"/conversations/{conversation.id}/template",
        data={
            "template_id": pedido.id,
            "header_link": "https://loja.example/fotos/pedido-42.jpg",
            "params-0": "Ana",
            "params-1": "#42",
            "buttons-0": "BR42",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    db.session.expire_all()
    message = db.session.scalars(select(Message).where(Message.direction == Direction.outbound)).one()
    assert message.body == "Olá Ana, seu pedido #42 foi enviado."
    assert message.payload_json == {
        "template": {"header": {"type": "image", "link": "https://loja.example/fotos/pedido-42.jpg"}, "buttons": ["BR42"]}
    }

    run_jobs(OUTBOUND)
    db.session.expire_all()
    assert message.status == MessageStatus.sent, message.error_title
    [sent] = graph_simulator.sends()
    assert sent["template"]["name"] == "pedido_enviado"
    assert sent["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://loja.example/fotos/pedido-42.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#42"}]},
        {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "BR42"}]},
    ]


def test_a_text_header_parameter_is_sent_and_a_missing_one_refused(client, db, login_as, synced, run_jobs, graph_simulator):
    login_as(Role.agent)
    conversation = _closed_window_conversation()
    db.session.commit()
    boas_vindas = synced["boas_vindas"]
    refused = client.post(
        f"/conversations/{conversation.id}/template",
        data={"template_id": boas_vindas.id},
        headers={"HX-Request": "true"},
    )
    assert "The template boas_vindas needs a value for its header." in refused.get_data(as_text=True)
    assert conversation.messages.count() == 0

    client.post(
        f"/conversations/{conversation.id}/template",
        data={"template_id": boas_vindas.id, "header_text": "Ana"},
        headers={"HX-Request": "true"},
    )
    run_jobs(OUTBOUND)
    [sent] = graph_simulator.sends()
    assert sent["template"]["components"] == [{"type": "header", "parameters": [{"type": "text", "text": "Ana"}]}]


@pytest.mark.parametrize(
    ("components", "code", "words"),
    [
        # the header is an image, sent as a video
        (
            [
                {"type": "header", "parameters": [{"type": "video", "video": {"link": "https://x.example/v.mp4"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#1"}]},
                {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "a"}]},
            ],
            132012,
            "header is a image",
        ),
        # one body parameter missing
        (
            [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.example/i.jpg"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
                {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "a"}]},
            ],
            132000,
            "body: expected 2 parameters, got 1",
        ),
        # the URL button's parameter missing
        (
            [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.example/i.jpg"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#1"}]},
            ],
            132000,
            "button[1]: expected 1 parameters, got 0",
        ),
    ],
)
def test_the_simulator_checks_a_send_against_the_templates_components(graph_simulator, components, code, words):
    graph_simulator.set_templates(WABA, [PEDIDO])
    answer = requests.post(
        f"{graph_simulator.url}/v21.0/106540352242922/messages",
        headers={"Authorization": "Bearer " + graph_simulator._numbers["106540352242922"]},
        json={
            "messaging_product": "whatsapp",
            "to": "5511987654321",
            "type": "template",
            "template": {"name": "pedido_enviado", "language": {"code": "pt_BR"}, "components": components},
        },
        timeout=5,
    )
    error = answer.json()["error"]
    assert answer.status_code == 400 and error["code"] == code and words in error["error_data"]["details"]


def _status_webhook(graph_simulator, event, name="pedido_enviado", language="pt_BR", reason=None):
    answer = requests.post(
        f"{graph_simulator.url}/_sim/template_status",
        json={"waba_id": WABA, "name": name, "language": language, "event": event, "reason": reason},
        timeout=5,
    )
    assert answer.ok
    return answer.json()


def test_status_webhooks_update_the_row_of_that_account_name_and_language(db, deliver, synced, graph_simulator):
    [event] = deliver(_status_webhook(graph_simulator, "REJECTED", "boas_vindas", "en_US", "INVALID_FORMAT"))
    assert event.error is None
    db.session.expire_all()
    welcome, boas_vindas = synced["boas_vindas_en_us"], synced["boas_vindas"]
    assert (welcome.status, welcome.status_reason) == (TemplateStatus.rejected, "INVALID_FORMAT")
    assert boas_vindas.status == TemplateStatus.approved  # same name, other language
    deliver(_status_webhook(graph_simulator, "DISABLED"))
    db.session.expire_all()
    assert synced["pedido_enviado"].status == TemplateStatus.disabled
    deliver(_status_webhook(graph_simulator, "REINSTATED"))
    db.session.expire_all()
    assert synced["pedido_enviado"].status == TemplateStatus.approved
    assert synced["pedido_enviado"].status_reason is None  # Meta's "NONE"


def test_a_paused_template_is_refused_before_anything_is_sent(
    client, db, login_as, deliver, synced, run_jobs, graph_simulator
):
    login_as(Role.agent)
    conversation = _closed_window_conversation()
    db.session.commit()
    pedido = synced["pedido_enviado"]
    data = {
        "template_id": pedido.id,
        "header_link": "https://loja.example/p.jpg",
        "params-0": "Ana",
        "params-1": "#42",
        "buttons-0": "BR42",
    }
    # Queued while approved; WhatsApp pauses it before the send job runs.
    client.post(f"/conversations/{conversation.id}/template", data=data, headers={"HX-Request": "true"})
    deliver(_status_webhook(graph_simulator, "PAUSED", reason="LOW_QUALITY"))
    db.session.expire_all()
    assert pedido.status == TemplateStatus.paused

    run_jobs(OUTBOUND)
    db.session.expire_all()
    queued = db.session.scalars(select(Message).where(Message.direction == Direction.outbound)).one()
    reason = "WhatsApp does not allow the template pedido_enviado now (Paused): nothing was sent."
    assert (queued.status, queued.error_title) == (MessageStatus.failed, reason)
    assert graph_simulator.sends() == []

    # A new send is refused at once: nothing stored, nothing sent, the reason in the agent's language.
    response = client.post(f"/conversations/{conversation.id}/template", data=data, headers={"HX-Request": "true"})
    assert reason in response.get_data(as_text=True)
    assert conversation.messages.count() == 1
    with force_locale("pt_BR"), pytest.raises(outbound.OutboundError) as refused:
        outbound.queue_template(conversation, pedido, templates.TemplateParameters(["Ana", "#42"]), by=None)
    assert str(refused.value) == (
        "O WhatsApp não permite o modelo pedido_enviado agora (Pausado): nada foi enviado."
    )
    run_jobs(OUTBOUND)
    assert graph_simulator.sends() == []


@pytest.mark.parametrize(
    ("body", "found"),
    [("Olá {{1}", "{{1}"), ("Olá {1}}, tudo bem?", "{1}},"), ("Pedido {{1}} pronto {{2}", "{{2}"), ("Olá {1}", "{1}")],
)
def test_an_unbalanced_placeholder_is_refused(client, db, login_as, body, found):
    login_as(Role.supervisor)
    response = client.post("/templates/new", data={"template_key": "saudacao", "language": "pt_BR", "body": body})
    html = response.get_data(as_text=True)
    assert "Every placeholder opens with {{ and closes with }}; unbalanced: " + found in html
    assert db.session.scalar(select(MessageTemplate.id)) is None


def test_braces_that_are_no_placeholder_stay_plain_text():
    assert templates.body_errors("Total: R$ {valor} em {{1}} dias.") == []
    assert templates.body_errors("Olá {{1}}, pedido {{2}}.") == []


def test_a_campaign_sends_the_header_link_and_a_button_value_per_contact(
    client, db, login_as, synced, run_jobs, graph_simulator
):
    from portal.models import Campaign, CampaignStatus
    from portal.services import campaigns, conversations

    login_as(Role.supervisor)
    for name in ("Ana Lima", "Bruno Reis"):
        conversations.set_tags(factories.conversation(factories.contact(name=name, city="Recife")), ["vip"], by=None)
    db.session.commit()
    pedido = synced["pedido_enviado"]
    form = client.get(f"/campaigns/new?inbox_id={factories.default_inbox().id}&template_id={pedido.id}")
    html = form.get_data(as_text=True)
    assert 'name="header_link"' in html and 'name="button_1"' in html and "Rastrear" in html

    data = {
        "name": "Entregas",
        "inbox_id": factories.default_inbox().id,
        "template_id": pedido.id,
        "param_1": "contact.first_name",
        "param_2": "text",
        "param_2_text": "#42",
        "button_1": "contact.first_name",
        "tags": "vip",
        "rate": "80",
        "when": "now",
    }
    refused = client.post("/campaigns/new", data=dict(data, header_link="http://insecure.example/p.jpg"))
    assert refused.status_code == 422
    assert "The template pedido_enviado needs the https link of its header&#39;s image." in refused.get_data(as_text=True)

    response = client.post("/campaigns/new", data=dict(data, header_link="https://loja.example/p.jpg"))
    assert response.status_code == 302, response.get_data(as_text=True)
    campaign = db.session.scalar(select(Campaign))
    assert campaign.template_extras == {
        "header": {"type": "image", "link": "https://loja.example/p.jpg"},
        "buttons": ["contact.first_name"],
    }
    client.post(f"/campaigns/{campaign.id}/confirm")
    for _ in range(10):
        run_jobs(OUTBOUND)
        campaigns.tick(commit=db.session.commit)
        db.session.expire_all()
        if campaign.status != CampaignStatus.running:
            break
    assert campaign.status == CampaignStatus.completed
    sent = sorted(graph_simulator.sends(), key=lambda s: s["template"]["components"][1]["parameters"][0]["text"])
    assert [s["template"]["components"] for s in sent] == [
        [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://loja.example/p.jpg"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": first}, {"type": "text", "text": "#42"}]},
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": first}]},
        ]
        for first in ("Ana", "Bruno")
    ]


def test_rules_do_not_offer_templates_whose_header_or_buttons_need_values(db, synced):
    from portal.services import rules

    offered = {t.template_key for t in rules.fillable_templates()}
    assert "pedido_enviado" not in offered and "boas_vindas" not in offered
    assert "boas_vindas_en_us" in offered  # body {{1}} only: the contact's first name
    problems = rules.RuleSpec(trigger=rules.parse_trigger_key("conversation.opened"), template=synced["boas_vindas"]).problems()
    assert "Rules cannot fill a template's header or buttons" in str(problems[0])


def test_a_new_conversation_opens_with_a_header_and_button_from_the_page_and_the_api(
    client, db, synced, run_jobs, graph_simulator
):
    from tests.api_support import api_as

    pedido = synced["pedido_enviado"]
    agent, api = api_as(client, Role.agent)
    contact = factories.contact(name="Ana Lima")
    db.session.commit()
    inbox_id = factories.default_inbox().id
    refused = api.post(
        "/api/v1/conversations",
        json={"inbox_id": inbox_id, "contact_id": contact.id, "template_id": pedido.id, "params": ["Ana", "#42"]},
    )
    assert refused.status_code == 422
    assert "needs the https link of its header's image" in refused.get_json()["error"]["message"]
    started = api.post(
        "/api/v1/conversations",
        json={
            "inbox_id": inbox_id,
            "contact_id": contact.id,
            "template_id": pedido.id,
            "params": ["Ana", "#42"],
            "header": {"link": "https://loja.example/p.jpg"},
            "buttons": ["BR42"],
        },
    )
    assert started.status_code == 201, started.get_json()
    run_jobs(OUTBOUND)
    [sent] = graph_simulator.sends()
    assert sent["template"]["components"][0] == {
        "type": "header",
        "parameters": [{"type": "image", "image": {"link": "https://loja.example/p.jpg"}}],
    }
    assert sent["template"]["components"][2]["parameters"] == [{"type": "text", "text": "BR42"}]

    other = factories.contact(name="Bruno")
    db.session.commit()
    client.post("/login", data={"email": agent.email, "password": "correct-horse-battery"})
    page = client.get(f"/conversations/new?contact_id={other.id}&inbox_id={inbox_id}&template_id={pedido.id}")
    html = page.get_data(as_text=True)
    assert 'name="header_link"' in html and 'name="buttons"' in html


def test_a_template_with_a_header_or_buttons_to_fill_is_not_scheduled(db, synced):
    from portal.services import scheduled_messages

    conversation = _closed_window_conversation()
    agent = factories.agent()
    with pytest.raises(scheduled_messages.ScheduleError, match="cannot be scheduled: send it now"):
        scheduled_messages.schedule(
            conversation, send_at=utcnow() + timedelta(hours=1), template=synced["pedido_enviado"],
            params=["Ana", "#42"], by=agent,
        )


@pytest.mark.parametrize("body", ["{{1}}, seu pedido chegou.", "Seu pedido chegou, {{1}}", "Olá {{1}} "])
def test_a_parameter_at_the_start_or_end_of_the_body_is_refused_as_meta_does(body):
    assert templates.body_errors(body) == [
        "A parameter cannot start or end the body: write some text before and after it."
    ]

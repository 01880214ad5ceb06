"""Campaigns (issue 18, part 2 and 5): audience by filters or a CSV with per-row errors, nothing
sent until confirmed, opted-out contacts excluded, parameters from contact fields, sent through
the outbound path at the inbox's rate, paused, resumed and cancelled, replies credited, 130429
slowing the inbox down, and every send a row first."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    MessageTemplate,
    Role,
    utcnow,
)
from portal.queue import OUTBOUND
from portal.services import campaigns, conversations, send_rate
from portal.services.campaigns import Audience, CampaignError
from tests import factories

CSV = (
    "nome;telefone;cidade\n"
    "Ana Lima;(11) 98765-0001;Recife\n"
    "Sem telefone;;Recife\n"
    "Bruno;11 98765-0002;Olinda\n"
    "Número ruim;123;Recife\n"
).encode()


def _template(body="Olá {{1}}, novidades em {{2}}!"):
    template = MessageTemplate(template_key=f"promo{_db.session.query(MessageTemplate).count()}", language="pt_BR", body=body)
    _db.session.add(template)
    _db.session.flush()
    return template


def _commit():
    _db.session.commit()


def _draft(audience, *, by, template=None, fields=("contact.first_name", "contact.city"), rate=80, send_at=None):
    template = template or _template()
    return campaigns.create_draft(
        name="Black Friday", inbox=factories.default_inbox(), template=template, param_fields=list(fields),
        audience=audience, rate=rate, send_at=send_at, by=by,
    )


def _tagged_contacts(n, tag="vip", city="Recife"):
    rows = []
    for _ in range(n):
        conversation = factories.conversation(factories.contact(city=city))
        conversations.set_tags(conversation, [tag], by=None)
        rows.append(conversation.contact)
    return rows


def _run_campaign(campaign, run_jobs):
    for _ in range(10):
        run_jobs(OUTBOUND)
        campaigns.tick(commit=_commit)
        _db.session.expire_all()
        if campaign.status != CampaignStatus.running:
            return


def test_a_csv_audience_shows_its_bad_rows_and_nothing_is_sent_until_confirmed(client, db, login_as, graph_simulator, run_jobs):
    login_as(Role.supervisor)
    template = _template()
    db.session.commit()
    response = client.post(
        "/campaigns/new",
        data={"name": "Lista", "inbox_id": factories.default_inbox().id, "template_id": template.id,
              "param_1": "contact.first_name", "param_2": "contact.city", "rate": "80", "when": "now",
              "csv": (__import__("io").BytesIO(CSV), "lista.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    campaign = db.session.scalar(select(Campaign))
    assert campaign.status == CampaignStatus.draft
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert page.count('class="row-error"') == 2
    assert "Olá Ana, novidades em Recife!" in page and "Olá Bruno, novidades em Olinda!" in page
    run_jobs(OUTBOUND)
    assert db.session.query(Message).count() == 0 and graph_simulator.sends() == []
    client.post(f"/campaigns/{campaign.id}/confirm")
    _run_campaign(campaign, run_jobs)
    assert sorted(s["to"] for s in graph_simulator.sends()) == ["5511987650001", "5511987650002"]
    assert campaign.status == CampaignStatus.completed
    assert campaigns.progress(campaign).sent == 2


def test_an_opted_out_contact_is_excluded_in_the_preview_and_never_sent(db, graph_simulator, run_jobs):
    supervisor = factories.agent(Role.supervisor)
    kept, opted_out = _tagged_contacts(2)
    opted_out.opted_out_at, opted_out.opted_out_text = utcnow(), "SAIR"
    campaign = _draft(Audience(tags=["VIP"]), by=supervisor)
    db.session.commit()
    preview = dict((r.contact_id, text) for r, text in campaigns.preview(campaign))
    assert preview[opted_out.id] is None and preview[kept.id].startswith("Olá")
    campaigns.confirm(campaign, by=supervisor)
    db.session.commit()
    _run_campaign(campaign, run_jobs)
    assert [s["to"] for s in graph_simulator.sends()] == [kept.wa_id]
    progress = campaigns.progress(campaign)
    assert (progress.excluded, progress.sent, progress.to_send) == (1, 1, 1)


def test_a_contact_who_opts_out_after_the_preview_is_left_out(db, graph_simulator, run_jobs):
    supervisor = factories.agent(Role.supervisor)
    [contact] = _tagged_contacts(1)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor)
    campaigns.confirm(campaign, by=supervisor)
    contact.opted_out_at = utcnow()
    db.session.commit()
    _run_campaign(campaign, run_jobs)
    assert graph_simulator.sends() == []


def test_a_reply_to_a_campaign_message_is_credited_to_the_campaign(db, graph_simulator, run_jobs, deliver, whatsapp_payload):
    supervisor = factories.agent(Role.supervisor)
    contact = factories.contact(phone="+5521998765432", city="Niterói")  # the fixture's sender
    earlier = factories.conversation(contact, status=ConversationStatus.closed, last_inbound_at=None)
    conversations.set_tags(earlier, ["vip"], by=None)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor)
    campaigns.confirm(campaign, by=supervisor)
    db.session.commit()
    _run_campaign(campaign, run_jobs)
    assert campaigns.progress(campaign).replied == 0
    payload = whatsapp_payload("text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(utcnow().timestamp()) + 60)
    deliver(payload)
    db.session.expire_all()
    assert campaigns.progress(campaign).replied == 1
    recipient = db.session.scalar(select(CampaignRecipient))
    assert recipient.replied_at is not None
    # The campaign's conversation was closed from the start; the reply opens one as any customer message does.
    campaign_conversation, replied_in = db.session.scalars(select(Conversation).order_by(Conversation.id)).all()[-2:]
    assert campaign_conversation.status == ConversationStatus.closed and replied_in.is_open
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == replied_in.id)) == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"fields": ("contact.first_name",)}, "params", "map each one"),
        ({"fields": ("contact.first_name", "nonsense")}, "params", "not mapped"),
        ({"fields": ("contact.first_name", "text:  ")}, "params", "not mapped"),
        ({"rate": 0}, "rate", "between 1 and 1000"),
        ({"rate": 100_000}, "rate", "between 1 and 1000"),
        ({"send_at": utcnow() - timedelta(minutes=5)}, "send_at", "in the future"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(db, changes, field, words):
    supervisor = factories.agent(Role.supervisor)
    _tagged_contacts(1)
    with pytest.raises(CampaignError) as refused:
        _draft(Audience(tags=["vip"]), by=supervisor, **changes)
    assert words in refused.value.errors[field]
    assert db.session.query(Campaign).count() == 0


def test_an_empty_audience_is_refused(db):
    supervisor = factories.agent(Role.supervisor)
    _tagged_contacts(1)
    with pytest.raises(CampaignError) as refused:
        _draft(Audience(tags=["nobody-has-this"]), by=supervisor)
    assert "reach no one" in refused.value.errors["audience"]
    with pytest.raises(CampaignError) as refused:
        _draft(Audience(), by=supervisor)
    assert "Choose the audience" in refused.value.errors["audience"]


def test_the_form_shows_the_errors(client, db, login_as):
    login_as(Role.supervisor)
    template = _template()
    db.session.commit()
    response = client.post(
        "/campaigns/new",
        data={"name": "X", "inbox_id": factories.default_inbox().id, "template_id": template.id,
              "param_1": "contact.first_name", "param_2": "", "rate": "0", "when": "later", "send_at": "2001-01-01T10:00",
              "city": "Nowhere"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "not mapped" in page and "between 1 and 1000" in page and "in the future" in page


def test_a_contact_missing_a_mapped_field_is_excluded_with_the_reason(db):
    supervisor = factories.agent(Role.supervisor)
    _tagged_contacts(1, city=None)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor)
    [(recipient, text)] = campaigns.preview(campaign)
    assert text is None and campaigns.exclusion_reason(recipient) == "No city on file"


def test_pause_resume_and_cancel(db, graph_simulator, run_jobs):
    supervisor = factories.agent(Role.supervisor)
    _tagged_contacts(4)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor, rate=1)  # 3 queued ahead at a time
    campaigns.confirm(campaign, by=supervisor)
    db.session.commit()
    campaigns.dispatch(campaign.id, commit=_commit)
    assert campaigns.progress(campaign).queued == 3
    campaigns.pause(campaign, by=supervisor)
    db.session.commit()
    run_jobs(OUTBOUND)
    assert campaigns.dispatch(campaign.id, commit=_commit) == (False, 0)
    assert campaigns.progress(campaign).pending == 1
    campaigns.resume(campaign, by=supervisor)
    db.session.commit()
    campaigns.cancel(campaign, by=supervisor)
    db.session.commit()
    progress = campaigns.progress(campaign)
    assert (progress.sent, progress.cancelled, campaign.status) == (3, 1, CampaignStatus.cancelled)
    run_jobs(OUTBOUND)
    assert len(graph_simulator.sends()) == 3


def test_a_scheduled_campaign_starts_at_its_time(db, graph_simulator, run_jobs):
    supervisor = factories.agent(Role.supervisor)
    _tagged_contacts(1)
    send_at = utcnow() + timedelta(hours=1)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor, send_at=send_at)
    campaigns.confirm(campaign, by=supervisor)
    db.session.commit()
    assert campaigns.tick(now=send_at - timedelta(seconds=1), commit=_commit)["started"] == 0
    assert campaign.status == CampaignStatus.scheduled
    assert campaigns.tick(now=send_at, commit=_commit)["started"] == 1
    _run_campaign(campaign, run_jobs)
    assert len(graph_simulator.sends()) == 1


def test_a_batch_rolled_back_mid_way_sends_nobody_twice_and_skips_nobody(db, graph_simulator, run_jobs):
    supervisor = factories.agent(Role.supervisor)
    _tagged_contacts(5)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor)
    campaigns.confirm(campaign, by=supervisor)
    db.session.commit()

    def crash():
        raise RuntimeError("worker killed before the commit")

    with pytest.raises(RuntimeError):
        campaigns.dispatch(campaign.id, commit=crash)
    db.session.rollback()
    assert db.session.query(Message).count() == 0
    assert campaigns.progress(campaign).pending == 5
    campaigns.dispatch(campaign.id, commit=_commit)
    campaigns.dispatch(campaign.id, commit=_commit)
    _run_campaign(campaign, run_jobs)
    sends = [s["to"] for s in graph_simulator.sends()]
    assert len(sends) == 5 and len(set(sends)) == 5


def test_a_lost_dispatcher_is_restarted_by_the_timer(db):
    supervisor = factories.agent(Role.supervisor)
    _tagged_contacts(2)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor)
    campaigns.confirm(campaign, by=supervisor)
    db.session.commit()
    assert campaigns.tick(now=utcnow(), commit=_commit)["restarted"] == 0
    later = utcnow() + campaigns.STALE_DISPATCH
    assert campaigns.tick(now=later, commit=_commit)["restarted"] == 1


def test_130429_slows_the_inbox_down_and_the_send_is_retried(db, graph_simulator, run_jobs):
    supervisor = factories.agent(Role.supervisor)
    _tagged_contacts(3)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor)
    campaigns.confirm(campaign, by=supervisor)
    db.session.commit()
    graph_simulator.fail(130429, times=2)
    _run_campaign(campaign, run_jobs)
    assert campaigns.progress(campaign).sent == 3
    accepted = [r for r in graph_simulator.requests if r["endpoint"] == "messages"]
    assert len(accepted) == 5
    inbox = factories.default_inbox()
    at, now = send_rate.reserve(inbox, 80)
    assert at >= now


def test_reservations_are_spaced_by_the_rate(db):
    inbox = factories.default_inbox()
    # One a second: the three reservations are taken well within the first interval.
    instants = [send_rate.reserve(inbox, 1)[0] for _ in range(3)]
    gaps = [b - a for a, b in zip(instants, instants[1:], strict=False)]
    assert gaps == [pytest.approx(send_rate.HEADROOM, abs=1e-3)] * 2


def test_the_campaign_page_lists_recipients_and_exports_them(client, db, login_as):
    supervisor = login_as(Role.supervisor)
    contacts_ = _tagged_contacts(2)
    campaign = _draft(Audience(tags=["vip"]), by=supervisor)
    db.session.commit()
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert all('id="recipient-' in page and c.name in page for c in contacts_)
    assert "Confirm and send" in page
    csv_text = client.get(f"/campaigns/{campaign.id}/recipients.csv").get_data(as_text=True)
    assert csv_text.count("\n") == 3 and "pending" in csv_text
    assert "Black Friday" in client.get("/campaigns").get_data(as_text=True)


def test_agents_cannot_reach_campaigns(client, db, login_as):
    login_as(Role.agent)
    assert client.get("/campaigns").status_code == 403


def test_contacts_created_from_the_csv_are_real_contacts(db):
    supervisor = factories.agent(Role.supervisor)
    audience = campaigns.audience_from_csv(CSV, by=supervisor)
    assert len(audience.csv_contact_ids) == 2 and len(audience.csv_errors) == 2
    assert db.session.query(Contact).count() == 2

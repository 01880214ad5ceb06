"""`seed-demo`: a realistic demo installation for trying Atende and for screenshots."""

from __future__ import annotations

import random
from datetime import timedelta

import click
from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Agent,
    AutoRule,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    MessageTemplate,
    Priority,
    Role,
    SlaMetric,
    Tag,
    utcnow,
)
from portal.phones import InvalidPhone, normalize
from portal.services import agents, inboxes

FIRST_NAMES = (
    "Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Henrique", "Isabela", "João",
    "Juliana", "Lucas", "Mariana", "Mateus", "Natália", "Otávio", "Patrícia", "Rafael", "Sabrina",
    "Thiago", "Vitória", "Wellington", "Yasmin", "Caio", "Larissa", "Gustavo", "Beatriz", "Pedro",
    "Letícia", "Rodrigo", "Camila", "André", "Fernanda", "Marcelo", "Luana", "Vinícius", "Aline",
)
LAST_NAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes",
    "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques",
)
CITIES = {
    "11": "São Paulo", "21": "Rio de Janeiro", "31": "Belo Horizonte", "41": "Curitiba",
    "51": "Porto Alegre", "61": "Brasília", "71": "Salvador", "81": "Recife", "85": "Fortaleza",
    "19": "Campinas", "48": "Florianópolis", "62": "Goiânia",
}
TAGS = ("lead", "vip", "suporte", "financeiro", "pós-venda", "reclamação", "orçamento")
CUSTOMER_LINES = (
    "Olá! Gostaria de saber o preço do plano empresarial.",
    "Bom dia, meu pedido ainda não chegou.",
    "Vocês atendem em Campinas?",
    "Pode me mandar a proposta por aqui mesmo?",
    "Obrigado pelo retorno!",
    "Consigo parcelar em 10 vezes?",
    "A fatura veio com um valor diferente do combinado.",
    "Quero cancelar minha assinatura.",
    "Qual o horário de atendimento?",
    "Perfeito, pode fechar então.",
)
AGENT_LINES = (
    "Olá! Obrigado por falar com a gente. Como posso ajudar?",
    "Vou verificar e já te retorno.",
    "Acabei de enviar a proposta, dá uma olhada quando puder.",
    "Seu pedido foi despachado hoje, o código de rastreio é BR123456789.",
    "Sim, parcelamos em até 10x sem juros no cartão.",
    "Corrigimos a fatura, a nova versão já está no seu e-mail.",
    "Atendemos de segunda a sexta, das 8h às 18h.",
)
TEMPLATES = (
    ("boas_vindas", "pt_BR", "Olá {{1}}! Recebemos sua mensagem e já vamos te atender."),
    ("fora_do_horario", "pt_BR", "Olá! Nosso horário é de segunda a sexta, das 8h às 18h. Respondemos assim que voltarmos."),
    ("retomada_contato", "pt_BR", "Olá {{1}}, tudo bem? Podemos continuar a conversa sobre {{2}}?"),
    ("proposta_enviada", "pt_BR", "{{1}}, sua proposta {{2}} está pronta. Posso explicar os detalhes?"),
    ("welcome", "en_US", "Hi {{1}}! We got your message and will answer shortly."),
)
DEMO_AGENTS = (
    ("supervisor@atende.example", "Sofia Supervisora", Role.supervisor),
    ("marina@atende.example", "Marina Costa", Role.agent),
    ("paulo@atende.example", "Paulo Mendes", Role.agent),
    ("renata@atende.example", "Renata Araújo", Role.agent),
)
DEMO_PASSWORD = "demo-password"


def _phone(rng: random.Random, ddd: str) -> str:
    while True:
        try:
            return normalize(f"+55{ddd}9{rng.randint(6, 9)}{rng.randint(0, 9999999):07d}")
        except InvalidPhone:
            continue


def seed(contact_count: int = 200, rng_seed: int = 42) -> dict[str, int]:
    rng = random.Random(rng_seed)
    now = utcnow()
    inboxes.bootstrap_from_config(current_app.config)
    demo_inboxes = inboxes.all_inboxes()
    if not demo_inboxes:
        raise click.ClickException(_("Create an inbox first (Admin > Inboxes, or WHATSAPP_PHONE_NUMBER_ID and flask init)."))
    team = [a for a in db.session.scalars(select(Agent)).all()]
    for email, name, role in DEMO_AGENTS:
        if agents.find_by_email(email) is None:
            team.append(agents.create(email=email, name=name, role=role, password=DEMO_PASSWORD))
    tags = [Tag(name=name) for name in TAGS]
    templates = [
        MessageTemplate(template_key=k, language=lang, body=body, waba_id=demo_inboxes[0].waba_id)
        for k, lang, body in TEMPLATES
    ]
    db.session.add_all(tags + templates)
    db.session.flush()
    db.session.add_all(
        [
            AutoRule(trigger_key="conversation.opened", template_id=templates[0].id, enabled=True),
            AutoRule(trigger_key="outside_business_hours", template_id=templates[1].id, enabled=True),
            AutoRule(trigger_key="no_reply_after:1440", template_id=templates[2].id, enabled=False),
        ]
    )
    statuses, priorities = list(ConversationStatus), list(Priority)
    used_phones: set[str] = set()
    counts = {"contacts": 0, "conversations": 0, "messages": 0}
    for i in range(contact_count):
        ddd = rng.choice(list(CITIES))
        phone = _phone(rng, ddd)
        if phone in used_phones:
            continue
        used_phones.add(phone)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        contact = Contact(
            name=f"{first} {last}",
            phone=phone,
            wa_id=phone.lstrip("+"),
            email=f"{first}.{last}{i}@exemplo.com.br".lower() if rng.random() < 0.6 else None,
            city=CITIES[ddd] if rng.random() < 0.8 else None,
        )
        db.session.add(contact)
        counts["contacts"] += 1
        for n in range(1 if rng.random() < 0.8 else 2):
            # Every status and priority appears; older conversations of a contact are closed.
            status = statuses[(i + n) % len(statuses)] if n == 0 else ConversationStatus.closed
            # Gaps are drawn first so the conversation can start early enough for its last
            # message (and a closed one's closing half an hour later) to be in the past.
            gaps = [timedelta(minutes=rng.randint(1, 90)) for _ in range(rng.randint(2, 8))]
            span = sum(gaps, timedelta(minutes=30))
            started = min(now - timedelta(days=rng.randint(0, 29), minutes=rng.randint(0, 1439)), now - span)
            conversation = Conversation(
                contact=contact,
                inbox=demo_inboxes[(i + n) % len(demo_inboxes)],
                channel=Channel.whatsapp,
                status=status,
                priority=priorities[(i // 2 + n) % len(priorities)],
                assigned_to=rng.choice(team).id if rng.random() < 0.7 else None,
                started_at=started,
                tags=rng.sample(tags, rng.randint(0, 2)),
            )
            db.session.add(conversation)
            counts["conversations"] += 1
            at = started
            first_response = None
            for m, gap in enumerate(gaps):
                inbound = m % 2 == 0
                at = at + gap
                if not inbound and first_response is None:
                    first_response = at
                db.session.add(
                    Message(
                        conversation=conversation,
                        direction=Direction.inbound if inbound else Direction.outbound,
                        body=rng.choice(CUSTOMER_LINES if inbound else AGENT_LINES),
                        sent_at=at,
                        status=MessageStatus.delivered if inbound else MessageStatus.read,
                        external_id=f"wamid.demo.{i}.{n}.{m}",
                        sender_agent_id=None if inbound else conversation.assigned_to,
                        read_at=at if (not conversation.is_open or m < 4) else None,
                    )
                )
                counts["messages"] += 1
                if inbound:
                    conversation.last_inbound_at = at
            conversation.last_message_at = at
            closed = status in ConversationStatus.closed_states()
            conversation.closed_at = at + timedelta(minutes=30) if closed else None
            db.session.add(
                SlaMetric(
                    conversation=conversation,
                    first_response_at=first_response,
                    response_time_sec=int((first_response - started).total_seconds()) if first_response else None,
                    resolved_at=conversation.closed_at,
                )
            )
    return counts


@click.command("seed-demo")
@click.option("--contacts", "contact_count", default=200, show_default=True, help="How many contacts to create.")
def seed_demo(contact_count: int) -> None:
    """Fill an empty database with realistic demo data (contacts, conversations, messages, rules)."""
    if current_app.config["ATENDE_ENV"] == "production":
        # Demo agents share a published password: never on a real installation.
        raise click.ClickException(_("seed-demo is for trying Atende out and does not run with ATENDE_ENV=production."))
    if db.session.scalar(select(func.count()).select_from(Contact)):
        raise click.ClickException(_("The database already has contacts; seed-demo only fills an empty one."))
    counts = seed(contact_count)
    db.session.commit()
    click.echo(
        _(
            "Demo data: %(contacts)d contacts, %(conversations)d conversations, %(messages)d messages. "
            "Demo agents sign in with the password '%(password)s': %(emails)s",
            contacts=counts["contacts"],
            conversations=counts["conversations"],
            messages=counts["messages"],
            password=DEMO_PASSWORD,
            emails=", ".join(agent[0] for agent in DEMO_AGENTS),
        )
    )


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)

"""Fill a PostgreSQL database with a busy team's history, in SQL (INSERT ... SELECT generate_series).

    python -m bench.generate_data [--scale 1] [--private] [--database atende_bench] [--messages-per 10]

Creates the database afresh, migrates it, then writes: 22 agents (20 agents, a supervisor and an
admin, password `bench-password`), 100k contacts times --scale, one conversation per contact spread
over the last 60 days times --scale (the same daily volume, a longer history: statuses,
priorities, assignees, tags, SLA rows and breach incidents), 10 messages per conversation (1M, or
10M at --scale 10), and conversation 1 with 500 messages for the thread bench. The indexes of the
bulk tables are built after the load. --private loads a private PostgreSQL cluster instead of the
shared server (the way to run --scale 10 on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import time

from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from bench import harness

BENCH_PASSWORD = "bench-password"
SUPERVISOR_EMAIL = "supervisor@bench.example.com"
AGENT_EMAIL = "agent1@bench.example.com"
LONG_THREAD_CONVERSATION_ID = 1
LONG_THREAD_MESSAGES = 500

PHRASES = [
    "Bom dia! Vocês entregam em Niterói?", "Qual o prazo de entrega para Campinas?",
    "Meu pedido ainda não chegou", "Gostaria de trocar o tamanho da camiseta",
    "Vocês aceitam pix?", "Pode me mandar o boleto de novo?", "Obrigado pelo atendimento",
    "Qual o horário de funcionamento da loja?", "O produto veio com defeito",
    "Quero cancelar minha assinatura", "Tem desconto para pagamento à vista?",
    "Preciso da nota fiscal do pedido", "A entrega pode ser no sábado?",
    "Olá, tudo bem? Estou com uma dúvida", "Recebi a mercadoria, muito obrigado!",
    "Vocês têm esse modelo na cor azul?", "O rastreio não atualiza desde ontem",
    "Consigo retirar na loja do centro?", "Qual o valor do frete para Recife?",
    "Podem me ligar amanhã de manhã?",
]
FIRST = ["Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Henrique", "Isabela", "João",
         "Juliana", "Lucas", "Mariana", "Mateus", "Natália", "Otávio", "Patrícia", "Rafael", "Sabrina", "Thiago"]
LAST = ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
        "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa"]
CITIES = ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Recife", "Salvador", "Campinas", "Niterói"]
TAGS = ["vip", "entrega", "troca", "financeiro", "reclamacao", "atacado", "pos-venda", "orcamento", "urgente", "b2b"]


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def steps(contacts: int, messages_per: int, days: int) -> list[tuple[str, str]]:
    now = "date_trunc('minute', now() AT TIME ZONE 'UTC')"
    return [
        ("agents", f"""
            INSERT INTO agents (name, email, role, active, password_hash, session_version, created_at, updated_at)
            SELECT CASE WHEN i <= 20 THEN 'Agent ' || i WHEN i = 21 THEN 'Supervisor' ELSE 'Admin' END,
                   CASE WHEN i <= 20 THEN 'agent' || i || '@bench.example.com'
                        WHEN i = 21 THEN '{SUPERVISOR_EMAIL}' ELSE 'admin@bench.example.com' END,
                   (CASE WHEN i <= 20 THEN 'agent' WHEN i = 21 THEN 'supervisor' ELSE 'admin' END)::agent_role,
                   true, :password_hash, 1, {now}, {now}
            FROM generate_series(1, 22) i"""),
        ("inbox members", "INSERT INTO agent_inboxes (agent_id, inbox_id) SELECT id, (SELECT min(id) FROM inboxes) FROM agents"),
        ("tags", f"INSERT INTO tags (name) SELECT unnest({_array(TAGS)})"),
        ("sla targets", """
            INSERT INTO sla_targets (priority, first_response_sec, resolution_sec)
            VALUES ('urgent', 900, NULL), ('high', 3600, NULL), ('normal', 14400, NULL), ('low', 86400, NULL)
            ON CONFLICT DO NOTHING"""),
        ("contacts", f"""
            INSERT INTO contacts (name, phone, email, city, wa_id, created_at, updated_at)
            SELECT ({_array(FIRST)})[1 + i % 20] || ' ' || ({_array(LAST)})[1 + (i / 20) % 20] || ' ' || i,
                   '+55119' || lpad(i::text, 8, '0'),
                   CASE WHEN i % 3 = 0 THEN 'cliente' || i || '@example.com' END,
                   ({_array(CITIES)})[1 + i % 8],
                   '55119' || lpad(i::text, 8, '0'),
                   {now} - interval '{days + 1} days', {now} - interval '{days + 1} days'
            FROM generate_series(1, {contacts}) i"""),
        # One conversation per contact, started over the last `days` days; the status mix leaves
        # about a third open. Assignees cycle over the 20 agents with every fifth unassigned. Its
        # times follow from its message count (3 minutes apart; closed 30 steps after the last).
        ("conversations", f"""
            INSERT INTO conversations (contact_id, inbox_id, channel, status, priority, assigned_to, started_at,
                                       closed_at, last_inbound_at, last_message_at, created_at, updated_at)
            SELECT i, (SELECT min(id) FROM inboxes), 'whatsapp', s.status::conversation_status,
                   (ARRAY['normal','normal','normal','low','high','urgent','normal','low'])[1 + (i * 3) % 8]
                       ::conversation_priority,
                   CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + i % 20 END,
                   s.started,
                   CASE WHEN s.status IN ('closed', 'lost') THEN s.started + (s.n + 30) * interval '3 minutes' END,
                   s.started + ((s.n - 1) / 2 * 2) * interval '3 minutes',
                   s.started + (s.n - 1) * interval '3 minutes', s.started, s.started
            FROM generate_series(1, {contacts}) i
            CROSS JOIN LATERAL (
                SELECT {now} - (i % {days}) * interval '1 day' - ((i::bigint * 7919) % 86400) * interval '1 second'
                           AS started,
                       (ARRAY['closed','closed','closed','lost','new','triage','proposal','waiting','active','closed'])
                           [1 + (i * 7) % 10] AS status,
                       CASE WHEN i = {LONG_THREAD_CONVERSATION_ID} THEN {LONG_THREAD_MESSAGES}
                            ELSE {messages_per} END AS n) s"""),
        ("messages", f"""
            INSERT INTO messages (conversation_id, direction, body, sent_at, status, external_id, sender_agent_id,
                                  is_automatic, message_type, send_attempts, read_at)
            SELECT c.id,
                   (CASE WHEN k % 2 = 0 THEN 'inbound' ELSE 'outbound' END)::message_direction,
                   ({_array(PHRASES)})[1 + (c.id * 7 + k) % 20] || ' (' || c.id || '-' || k || ')',
                   c.started_at + k * interval '3 minutes',
                   (CASE WHEN k % 2 = 0 THEN 'read' ELSE (ARRAY['sent','delivered','read','read'])[1 + k % 4] END)
                       ::message_status,
                   'wamid.bench.' || c.id || '.' || k,
                   CASE WHEN k % 2 = 1 THEN c.assigned_to END,
                   false, 'text', CASE WHEN k % 2 = 1 THEN 1 ELSE 0 END,
                   CASE WHEN k % 2 = 0 AND (c.status IN ('closed', 'lost') OR k < 6) THEN c.started_at END
            FROM conversations c
            CROSS JOIN LATERAL generate_series(
                0, CASE WHEN c.id = {LONG_THREAD_CONVERSATION_ID} THEN {LONG_THREAD_MESSAGES - 1}
                        ELSE {messages_per - 1} END) k"""),
        ("conversation tags", f"""
            INSERT INTO conversation_tags (conversation_id, tag_id)
            SELECT i, 1 + i % {len(TAGS)} FROM generate_series(1, {contacts}) i WHERE i % 3 = 0"""),
        # First response 1 to 300 minutes after the start (some breach their target), resolution
        # at closing.
        ("sla metrics", """
            INSERT INTO sla_metrics (conversation_id, first_response_at, response_time_sec, resolved_at)
            SELECT c.id, c.started_at + r.sec * interval '1 second', r.sec, c.closed_at
            FROM conversations c CROSS JOIN LATERAL (SELECT 60 + (c.id * 131) % 18000 AS sec) r"""),
        ("sla incidents", """
            INSERT INTO incidents (conversation_id, severity, notes, kind, created_at, updated_at)
            SELECT c.id,
                   (CASE c.priority WHEN 'urgent' THEN 'critical' WHEN 'high' THEN 'high'
                                    WHEN 'normal' THEN 'medium' ELSE 'low' END)::incident_severity,
                   'First response target missed', 'sla_breach', s.first_response_at, s.first_response_at
            FROM conversations c JOIN sla_metrics s ON s.conversation_id = c.id JOIN sla_targets t
              ON t.priority = c.priority
            WHERE s.response_time_sec > t.first_response_sec"""),
    ]


BULK_TABLES = ("contacts", "conversations", "messages", "conversation_tags", "sla_metrics", "incidents")


def _secondary_indexes(conn) -> list[tuple[str, str]]:
    """(name, definition) of the bulk tables' indexes that no constraint owns: built once after
    the load instead of row by row during it."""
    return list(conn.execute(text("""
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(:tables)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""),
        {"tables": list(BULK_TABLES)}).all())


def generate(database_url: str, contacts: int, messages_per: int, days: int) -> None:
    engine = create_engine(database_url)
    password_hash = generate_password_hash(BENCH_PASSWORD)
    total = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        indexes = _secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        for label, sql in steps(contacts, messages_per, days):
            start = time.perf_counter()
            result = conn.execute(text(sql), {"password_hash": password_hash} if ":password_hash" in sql else {})
            harness.line(label, f"{result.rowcount:>11,} rows  {time.perf_counter() - start:6.1f} s")
        start = time.perf_counter()
        for _, definition in indexes:
            conn.execute(text(definition))
        harness.line(f"{len(indexes)} indexes", f"{time.perf_counter() - start:18.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        start = time.perf_counter()
        conn.execute(text("VACUUM ANALYZE"))
        harness.line("vacuum analyze", f"{time.perf_counter() - start:18.1f} s")
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
    engine.dispose()
    harness.line("total", f"{time.perf_counter() - total:18.1f} s, database size {size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="atende_bench")
    parser.add_argument("--server-url", default=harness.DEFAULT_SERVER_URL)
    parser.add_argument("--scale", type=int, default=1,
                        help="N times the data: 100k x N contacts and conversations over 60 x N days")
    parser.add_argument("--contacts", type=int, help="instead of 100k x scale")
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--private", action="store_true",
                        help="start a private PostgreSQL cluster (under /tmp) and leave it running; the "
                             "command that stops and removes it is printed")
    args = parser.parse_args()
    print(f"generate_data: {harness.machine()}")
    server_url = args.server_url
    if args.private:
        # Loading settings only: the figures measured on this cluster are reads, which these do
        # not change; shared_buffers stays at the stock 128 MB.
        cluster = harness.PostgresServer().start(
            fsync="off", synchronous_commit="off", full_page_writes="off", max_wal_size="8GB",
            checkpoint_timeout="30min")
        server_url = cluster.url
        print(f"  private cluster in {cluster.dir}, port {cluster.port}")
    try:
        database_url = harness.create_database(args.database, server_url)
        harness.migrate(database_url, redis_url="redis://127.0.0.1:1/0")
        generate(database_url, args.contacts or 100_000 * args.scale, args.messages_per, 60 * args.scale)
    except BaseException:
        if args.private:  # a half-loaded cluster is of no use
            cluster.close()
        raise
    print(f"  database URL: {database_url}")
    if args.private:
        owner = "runuser -u postgres -- " if os.geteuid() == 0 else ""
        print(f"  stop and remove: {owner}{cluster.bin}/pg_ctl -D {cluster.data} -m fast stop && rm -rf {cluster.dir}")


if __name__ == "__main__":
    main()

"""Bench 1d: inbound processing with 10 enabled auto-rules and auto-assignment on, against none.

    python -m bench.inbound_rules [--messages 1000] [--workers 2]

Two runs of bench 1b's inbound measurement (bench/inbound.py: N signed text webhooks stored
under gunicorn, then the held queue released to `python worker.py webhooks` at once) on one
private PostgreSQL and Redis (bench/harness.py): first with no rules and no teams, then with ten
enabled rules of every trigger (a welcome template, keywords that route to a team, tag, set the
priority or send text, conditions on priority, contact field and business hours, a repeating rule
with a cool-down, timed and failure rules that stay idle) and a round-robin team of three agents
kept online, so every conversation is routed and assigned. Prints messages/s and CPU per message
(workers, PostgreSQL) for both, and the rate's change (issue 19: within 15%). A failed webhook event
stops the bench with its stored reason; with BENCH_KEEP_LOGS=1 the workers' logs are kept too.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from redis import Redis
from sqlalchemy import create_engine, text

from bench import harness
from bench.inbound import HELD, QUEUE, start_workers, timed_release, webhook_requests

WELCOME = "Olá {{1}}, recebemos sua mensagem."
ONLINE_KEY = "atende:agents:online"  # portal.services.assignment.ONLINE_KEY


def set_up_rules(database_url: str) -> list[int]:
    """Ten enabled rules, a round-robin team and three agents; returns the agents' ids."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        def insert(sql: str, **params) -> int:
            return conn.execute(text(sql + " RETURNING id"), params).scalar_one()

        agents = [
            insert(
                "INSERT INTO agents (name, email, role, active, session_version, max_open_conversations,"
                " alert_sound, alert_desktop, created_at, updated_at)"
                " VALUES (:name, :email, 'agent', true, 1, 100000, false, false, now(), now())",
                name=f"Bench {i}", email=f"bench{i}@example.com",
            )
            for i in range(3)
        ]
        for agent in agents:
            conn.execute(text("INSERT INTO agent_inboxes (agent_id, inbox_id) SELECT :a, id FROM inboxes"), {"a": agent})
        support = insert("INSERT INTO teams (name, auto_assign, created_at, updated_at)"
                         " VALUES ('Suporte', 'round_robin', now(), now())")
        finance = insert("INSERT INTO teams (name, auto_assign, created_at, updated_at)"
                         " VALUES ('Financeiro', 'fewest_open', now(), now())")
        for agent in agents:
            conn.execute(text("INSERT INTO team_members (team_id, agent_id) VALUES (:t, :a)"), {"t": support, "a": agent})
        template = insert("INSERT INTO message_templates (template_key, body, language, status, created_at, updated_at)"
                          " VALUES ('boas_vindas', :body, 'pt_BR', 'approved', now(), now())", body=WELCOME)
        always_open = {str(d): ["00:00", "23:59"] for d in range(7)}
        conn.execute(text("INSERT INTO settings (key, value, updated_at) VALUES ('business_hours', :v, now())"),
                     {"v": json.dumps(always_open)})
        rules = [
            ("conversation.opened", template, None, None, None),
            ("message.keyword:prazo", None, None, {"team_id": support, "tag": "prazo", "priority": "high"}, None),
            ("message.keyword:boleto", None, None, {"team_id": finance, "tag": "financeiro"}, None),
            ("message.keyword:cancelar", None, None, {"status": "waiting"}, None),
            ("message.keyword:qual", None, {"priority": "high", "contact_field": "name", "contact_value": ""},
             {"tag": "pergunta"}, None),
            ("message.keyword:mensagem", None, {"business_hours": "inside"}, {"text": "Recebido, já respondemos."}, 60),
            ("outside_business_hours", template, None, None, None),
            ("status.changed:closed", template, None, None, None),
            ("no_reply_after:30", template, None, None, None),
            ("message.failed", template, None, None, None),
        ]
        for trigger, template_id, conditions, actions, cooldown in rules:
            conn.execute(
                text("INSERT INTO auto_rules (trigger_key, template_id, enabled, conditions, actions, cooldown_minutes,"
                     " allow_second_reply, created_at, updated_at)"
                     " VALUES (:t, :tpl, true, :c, :a, :cd, false, now(), now())"),
                {"t": trigger, "tpl": template_id, "c": json.dumps(conditions) if conditions else None,
                 "a": json.dumps(actions) if actions else None, "cd": cooldown},
            )
    engine.dispose()
    return agents


class KeepOnline:
    """What the stream server does for connected tabs: note the agents online every 2 seconds."""

    def __init__(self, redis: Redis, agents: list[int]):
        self.redis, self.agents, self.stop = redis, agents, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.redis.zadd(ONLINE_KEY, {str(a): time.time() for a in self.agents})
            self.stop.wait(2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def run(count: int, workers: int, env: dict, database_url: str, redis: Redis, rss, round_no: int,
        log_dir: Path | None):
    """(messages per second, worker CPU ms per message, PostgreSQL CPU ms per message)"""
    port = harness.free_port()
    web = harness.start_gunicorn("wsgi:app", env, port, workers=2)
    try:
        results = harness.post_all(f"http://127.0.0.1:{port}", "/webhooks/whatsapp",
                                   webhook_requests(count, round_no), concurrency=2)
    finally:
        harness.stop_process(web)
    if sum(r.status != 200 for r in results):
        raise SystemExit("inbound_rules: some webhooks were not answered 200")
    redis.rename(f"rq:queue:{QUEUE}", HELD)
    procs = start_workers(workers, env, redis, rss, log_dir)
    try:
        seconds, cpu = timed_release(redis, lambda: harness.scalar(
            database_url, "SELECT count(*) FROM webhook_events WHERE status = 'pending'") == 0, procs)
        pg_cpu = harness.cpu_seconds(harness.backend_pids(database_url))
    finally:
        for proc in procs:
            harness.stop_process(proc)
    stored = harness.scalar(database_url, "SELECT count(*) FROM messages WHERE direction = 'inbound'")
    failed = harness.scalar(database_url, "SELECT count(*) FROM webhook_events WHERE status = 'failed'")
    if stored != count or failed:
        # The reasons, before the bench's database is dropped with them.
        for row in harness.rows(database_url, "SELECT id, attempts, retry_at, error FROM webhook_events"
                                " WHERE status = 'failed' ORDER BY id"):
            print(f"  failed event {row.id} (attempts {row.attempts}, retry at {row.retry_at}): {row.error}")
        raise SystemExit(f"inbound_rules: expected {count} messages, found {stored} ({failed} events failed)")
    return count / seconds, cpu / count * 1000, pg_cpu / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"inbound_rules: {harness.machine()}")
    redis_server = harness.RedisServer().start()
    redis = Redis.from_url(redis_server.url)
    database_url = harness.create_database("atende_bench_inbound_rules")
    # BENCH_KEEP_LOGS=1: the workers' logs (a failed event's traceback) are kept and their place printed.
    log_dir = Path(tempfile.mkdtemp(prefix="atende-bench-logs-")) if os.environ.get("BENCH_KEEP_LOGS") else None
    try:
        harness.migrate(database_url, redis_server.url)
        env = harness.portal_env(database_url, redis_server.url)
        figures = {}
        with harness.RssSampler() as rss:
            for round_no, label in enumerate(("no rules", "10 rules + auto-assignment")):
                harness.truncate_all(database_url)
                redis.flushdb()
                if round_no == 0:
                    figures[label] = run(args.messages, args.workers, env, database_url, redis, rss, round_no, log_dir)
                    continue
                agents = set_up_rules(database_url)
                with KeepOnline(redis, agents):
                    figures[label] = run(args.messages, args.workers, env, database_url, redis, rss, round_no, log_dir)
                assigned = harness.scalar(database_url, "SELECT count(*) FROM conversations WHERE assigned_to IS NOT NULL")
                routed = harness.scalar(database_url, "SELECT count(*) FROM conversations WHERE team_id IS NOT NULL")
                print(f"  routed {routed} conversations, assigned {assigned}", flush=True)
        print(f"{args.messages} webhooks (one text message each), {args.workers} worker(s):")
        for label, (rate, cpu, pg_cpu) in figures.items():
            harness.line(f"{label}: messages/s | worker CPU/msg | PostgreSQL CPU/msg",
                         f"{rate:.0f} | {cpu:.1f} ms | {pg_cpu:.1f} ms")
        (base, base_cpu, _), (ruled, ruled_cpu, _) = figures.values()
        change = ruled / base - 1
        harness.line("rate change with rules (target within 15%)",
                     f"{change:+.0%}  {'PASS' if change >= -0.15 else 'MISS'}; worker CPU/msg {ruled_cpu / base_cpu - 1:+.0%}")
    finally:
        redis_server.close()
        harness.drop_database(database_url)
        if log_dir is not None:
            print(f"  logs kept in {log_dir}")


if __name__ == "__main__":
    main()

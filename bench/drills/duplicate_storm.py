"""Drill: every webhook delivered twice, statuses out of order; no message twice, no status backwards.

    python -m bench.drills.duplicate_storm [--inbound 300] [--outbound 300]

A portal under gunicorn and two workers run on a fresh database and a private redis-server. The
database is given --outbound messages the portal sent (status `sent`, with their WhatsApp ids).
Then, shuffled together and each posted twice, with 4 connections: --inbound text messages, and
the `sent`, `delivered` and `read` status webhooks of every sent message. While they are
processed, a watcher reads every outbound status five times a second and records any that moves
back. Prints PASS/FAIL per check and exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import random
import threading
import time

from sqlalchemy import create_engine, text

from bench import harness

RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
SENT_BASE = 1_732_521_600


def seed_sent_messages(database_url: str, count: int) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO contacts (name, phone, wa_id, created_at, updated_at)
            SELECT 'Drill ' || i, '+55119' || lpad(i::text, 8, '0'), '55119' || lpad(i::text, 8, '0'), now(), now()
            FROM generate_series(90000, 90000 + :n - 1) i"""), {"n": count})
        conn.execute(text("""
            INSERT INTO conversations (contact_id, channel, status, priority, started_at, last_message_at,
                                       last_inbound_at, created_at, updated_at)
            SELECT id, 'whatsapp', 'active', 'normal', now(), now(), now(), now(), now() FROM contacts"""))
        conn.execute(text("""
            INSERT INTO messages (conversation_id, direction, body, sent_at, status, external_id, is_automatic,
                                  message_type, send_attempts, status_at)
            SELECT c.id, 'outbound', 'Resposta ' || c.id, now(), 'sent', 'wamid.drill.out.' || c.id, false,
                   'text', 1, now()
            FROM conversations c"""))
    engine.dispose()


def storm(database_url: str, inbound: int, seed: int) -> list[harness.Request]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        sent = conn.execute(text(
            "SELECT m.external_id, ct.wa_id FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "JOIN contacts ct ON ct.id = c.contact_id WHERE m.direction = 'outbound'")).all()
    engine.dispose()
    payloads = [harness.text_message(sender=i % 150, wamid=f"wamid.drill.dup.{i}", body=f"Mensagem {i}")
                for i in range(inbound)]
    for wamid, wa_id in sent:
        recipient = int(wa_id[5:])
        for step, status in enumerate(("sent", "delivered", "read")):
            payloads.append(harness.status_update(wamid, status, recipient, SENT_BASE + 10 * step))
    twice = [harness.signed_request(p) for p in payloads for _ in range(2)]
    random.Random(seed).shuffle(twice)
    return twice


class StatusWatcher(threading.Thread):
    """Reads outbound statuses over and over; remembers every move backwards."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(database_url, pool_pre_ping=True)
        self.best: dict[int, int] = {}
        self.regressions: list[tuple[int, str, str]] = []
        self.reads = 0
        self.stop = threading.Event()

    def run(self) -> None:
        names = {v: k for k, v in RANK.items()}
        while not self.stop.wait(0.2):
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT id, status FROM messages WHERE direction = 'outbound'")).all()
            self.reads += 1
            for message_id, status in rows:
                rank = RANK[status]
                best = self.best.get(message_id, 0)
                if rank < best:
                    self.regressions.append((message_id, names[best], status))
                self.best[message_id] = max(best, rank)
        self.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbound", type=int, default=300)
    parser.add_argument("--outbound", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    print(f"duplicate_storm drill: {harness.machine()}")
    verdict = harness.Verdict("duplicate_storm drill")
    stack = harness.Stack("atende_drill_dup")
    try:
        seed_sent_messages(stack.database_url, args.outbound)
        requests = storm(stack.database_url, args.inbound, args.seed)
        stack.start_web()
        for _ in range(2):
            stack.start_worker()
        watcher = StatusWatcher(stack.database_url)
        watcher.start()
        started = time.perf_counter()
        results = harness.post_all(stack.base_url, "/webhooks/whatsapp", requests, concurrency=4)
        done = stack.wait_until_processed(len(requests), timeout=args.timeout)
        print(f"  {len(requests)} webhooks ({args.inbound} messages and {3 * args.outbound} statuses, each twice) "
              f"processed in {time.perf_counter() - started:.0f} s", flush=True)
        time.sleep(0.5)
        watcher.stop.set()
        watcher.join()
        inbound = stack.count("SELECT count(*) FROM messages WHERE direction = 'inbound'")
        distinct = stack.count("SELECT count(DISTINCT external_id) FROM messages WHERE direction = 'inbound'")
        not_read = stack.count("SELECT count(*) FROM messages WHERE direction = 'outbound' AND status <> 'read'")
        outbound = stack.count("SELECT count(*) FROM messages WHERE direction = 'outbound'")
        failed = stack.count("SELECT count(*) FROM webhook_events WHERE status = 'failed'")
        retried = stack.count("SELECT count(*) FROM webhook_events WHERE attempts > 1")
        print(f"  {retried} events took more than one attempt (a duplicate racing its twin retries)", flush=True)
        verdict.check("every webhook answered 200", all(r.status == 200 for r in results),
                      harness.status_histogram(results))
        verdict.check("every event processed", done and failed == 0, f"{failed} failed")
        verdict.check(f"{args.inbound} inbound messages, none twice", inbound == distinct == args.inbound,
                      f"{inbound} stored, {distinct} distinct")
        verdict.check("no outbound message added or lost", outbound == args.outbound, f"{outbound}")
        verdict.check("every sent message ends read", not_read == 0, f"{not_read} not read")
        verdict.check("no status moved backwards", not watcher.regressions,
                      f"{len(watcher.regressions)} regressions in {watcher.reads} reads"
                      + (f", e.g. message {watcher.regressions[0][0]} {watcher.regressions[0][1]} -> "
                         f"{watcher.regressions[0][2]}" if watcher.regressions else ""))
    finally:
        stack.close()
    verdict.report()


if __name__ == "__main__":
    main()

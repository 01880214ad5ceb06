"""Drill: every webhook delivered twice, statuses out of order or back to back; no message twice, no status backwards.

    python -m bench.drills.duplicate_storm [--inbound 300] [--outbound 300] [--workers 4]

A portal under gunicorn runs on a private PostgreSQL cluster and a private redis-server. The
database is given 2 x --outbound messages the portal sent (status `sent`, with their WhatsApp ids),
and a trigger logs every change of `messages.status` with the status before and after, so a
status that moves backwards is seen even if a later update moves it forward again.

1. Shuffled: with two workers running, --inbound text messages and the `sent`, `delivered` and
   `read` webhooks of the first half of the sent messages, shuffled together and each posted twice
   (4 connections).
2. Adjacent: with no worker running, the other half's statuses stored back to back per message
   (sent, delivered, read, then the same three again) and --inbound new text messages each posted
   twice in a row; then --workers workers start at once. Each takes a job and drains the pending
   events oldest first, so a message's `delivered` and `read` are processed by two workers at the
   same moment: the order in which the forward-only rule has to hold under concurrency.

Each phase waits until every event is processed or finally failed (a failed event still waiting
for its retry is not final), then checks: every webhook answered 200; every event processed; each
posted customer message stored exactly once (counted per wamid), in the inbox of the number it
was sent to, one open conversation per contact and inbox (the messages go to the bench's two
numbers in turn, each customer writing to both; every other sent message belongs to the second
inbox and its statuses come from that number); every sent message ends `read`;
no status change in the trigger's log moved backwards. Prints PASS/FAIL per check and exits 1 on
a FAIL.
"""

from __future__ import annotations

import argparse
import random
import time

from sqlalchemy import create_engine, text

from bench import harness
from bench.drills import evidence

SENT_BASE = 1_732_521_600
STATUSES = ("sent", "delivered", "read")


def seed_sent_messages(database_url: str, count: int) -> list[tuple[int, str, int, str]]:
    """`count` conversations, each with one outbound message the portal sent, every other one in
    the second inbox; returns (message id, wamid, recipient number, the phone_number_id of its
    conversation's inbox) per message, in id order."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO contacts (name, phone, wa_id, created_at, updated_at)
            SELECT 'Drill ' || i, '+55119' || lpad(i::text, 8, '0'), '55119' || lpad(i::text, 8, '0'), now(), now()
            FROM generate_series(90000, 90000 + :n - 1) i"""), {"n": count})
        conn.execute(text("""
            INSERT INTO conversations (contact_id, inbox_id, channel, status, priority, started_at, last_message_at,
                                       last_inbound_at, created_at, updated_at)
            SELECT ct.id, i.id, 'whatsapp', 'active', 'normal', now(), now(), now(), now(), now()
            FROM contacts ct JOIN inboxes i
              ON i.phone_number_id = CASE WHEN ct.id % 2 = 1 THEN :first ELSE :second END"""),
                     {"first": harness.PHONE_NUMBER_ID, "second": harness.SECOND_PHONE_NUMBER_ID})
        conn.execute(text("""
            INSERT INTO messages (conversation_id, direction, body, sent_at, status, external_id, is_automatic,
                                  message_type, send_attempts, status_at)
            SELECT c.id, 'outbound', 'Resposta ' || c.id, now(), 'sent', 'wamid.drill.out.' || c.id, false,
                   'text', 1, now()
            FROM conversations c"""))
        rows = conn.execute(text(
            "SELECT m.id, m.external_id, ct.wa_id, i.phone_number_id FROM messages m "
            "JOIN conversations c ON c.id = m.conversation_id JOIN contacts ct ON ct.id = c.contact_id "
            "JOIN inboxes i ON i.id = c.inbox_id WHERE m.direction = 'outbound' ORDER BY m.id")).all()
    engine.dispose()
    return [(message_id, wamid, int(wa_id[5:]), number) for message_id, wamid, wa_id, number in rows]


def status_payloads(sent: list[tuple[int, str, int]]) -> list[list[dict]]:
    """Per message, its sent, delivered and read webhooks in order, from its inbox's number."""
    return [[harness.status_update(wamid, status, recipient, SENT_BASE + 10 * step, number)
             for step, status in enumerate(STATUSES)] for _, wamid, recipient, number in sent]


def inbound_payloads(tag: str, count: int, first_sender: int) -> list[dict]:
    """`count` messages from 150 senders, to both numbers in turn (each sender writes to both)."""
    numbers = tuple(harness.INBOXES)
    return [harness.text_message(sender=first_sender + i % 150, wamid=f"wamid.drill.{tag}.{i}", body=f"Mensagem {i}",
                                 phone_number_id=numbers[(i % 150 + i // 150) % len(numbers)])
            for i in range(count)]


def shuffled_storm(sent, inbound: list[dict], seed: int) -> list[harness.Request]:
    payloads = inbound + [p for per_message in status_payloads(sent) for p in per_message]
    twice = [harness.signed_request(p) for p in payloads for _ in range(2)]
    random.Random(seed).shuffle(twice)
    return twice


def adjacent_storm(sent, inbound: list[dict]) -> list[harness.Request]:
    ordered = [p for per_message in status_payloads(sent) for p in per_message * 2]
    ordered += [p for payload in inbound for p in (payload, payload)]
    return [harness.signed_request(p) for p in ordered]


def wamids(payloads: list[dict]) -> list[str]:
    return [p["entry"][0]["changes"][0]["value"]["messages"][0]["id"] for p in payloads]


def check_phase(verdict: harness.Verdict, stack: harness.Stack, phase: str, results, settled: evidence.Settled,
                posted: list[dict], sent) -> None:
    ids = [message_id for message_id, _, _, _ in sent]
    id_list = ",".join(map(str, ids))
    not_read = stack.count(f"SELECT count(*) FROM messages WHERE id IN ({id_list}) AND status <> 'read'")
    retried = stack.count("SELECT count(*) FROM webhook_events WHERE attempts > 1")
    changes = evidence.status_changes(stack.database_url, ids)
    print(f"  [{phase}] {settled.describe()}; {retried} events so far took more than one attempt", flush=True)
    verdict.check(f"[{phase}] every webhook answered 200", all(r.status == 200 for r in results),
                  harness.status_histogram(results))
    verdict.check(f"[{phase}] every event processed (a failed one waiting for its retry is not done)",
                  settled.done and settled.failed_final == 0, settled.describe())
    evidence.check_stored_once(verdict, stack.database_url, wamids(posted))
    evidence.check_inboxes(verdict, stack.database_url,
                           harness.addressed_to(harness.signed_request(p) for p in posted))
    verdict.check(f"[{phase}] every sent message ends read", not_read == 0, f"{not_read} of {len(ids)} not read")
    verdict.check(f"[{phase}] no status moved backwards (every change, from the trigger's log)",
                  not changes.backwards, changes.describe())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbound", type=int, default=300, help="customer messages per phase")
    parser.add_argument("--outbound", type=int, default=300, help="sent messages per phase")
    parser.add_argument("--workers", type=int, default=4, help="workers started at once in the adjacent phase")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=240, help="seconds each phase may take to settle")
    args = parser.parse_args()
    print(f"duplicate_storm drill: {harness.machine()}")
    verdict = harness.Verdict("duplicate_storm drill")
    stack = harness.Stack("atende_drill_dup")
    try:
        evidence.install_status_log(stack.database_url)
        sent = seed_sent_messages(stack.database_url, 2 * args.outbound)
        first, second = sent[:args.outbound], sent[args.outbound:]
        stack.start_web()

        inbound = inbound_payloads("dup", args.inbound, first_sender=0)
        requests = shuffled_storm(first, inbound, args.seed)
        for _ in range(2):
            stack.start_worker()
        started = time.perf_counter()
        results = harness.post_all(stack.base_url, "/webhooks/whatsapp", requests, concurrency=4)
        settled = evidence.settle(stack, len(requests), timeout=args.timeout, since=started)
        print(f"  [shuffled] {len(requests)} webhooks ({args.inbound} messages and {3 * args.outbound} statuses, "
              f"shuffled, each twice) with 2 workers running", flush=True)
        posted = list(inbound)
        check_phase(verdict, stack, "shuffled", results, settled, posted, first)

        for proc in stack.workers:
            harness.stop_process(proc)
        stack.workers.clear()
        adjacent_inbound = inbound_payloads("adj", args.inbound, first_sender=150)
        adjacent = adjacent_storm(second, adjacent_inbound)
        results = harness.post_all(stack.base_url, "/webhooks/whatsapp", adjacent, concurrency=1)
        pending = stack.count("SELECT count(*) FROM webhook_events WHERE status = 'pending'")
        started = time.perf_counter()
        for _ in range(args.workers):
            stack.start_worker()
        settled = evidence.settle(stack, len(requests) + len(adjacent), timeout=args.timeout, since=started)
        print(f"  [adjacent] {len(adjacent)} webhooks stored back to back ({pending} pending), then "
              f"{args.workers} workers started", flush=True)
        posted += adjacent_inbound
        check_phase(verdict, stack, "adjacent", results, settled, posted, second)
        outbound = stack.count("SELECT count(*) FROM messages WHERE direction = 'outbound'")
        verdict.check("no outbound message added or lost", outbound == len(sent), f"{outbound}")
    finally:
        stack.close()
    verdict.report()


if __name__ == "__main__":
    main()

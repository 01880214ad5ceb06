"""Drill: 2,000 replies while the Graph API answers slowly, with SIGKILLs, a Redis restart and retries; each sent once or failed with a reason.

    python -m bench.drills.outbound [--replies 2000] [--rate 12] [--latency 0.3] [--workers 4]

The portal's workers (`python worker.py`, every queue) run on a private PostgreSQL cluster and a
private redis-server, against the Graph API simulator in a process of its own, told to answer
every call `--latency` seconds late (its latency order: slow, but it answers). Agents reply
through `outbound.queue_reply`, the service function the reply form uses, at --rate a second,
one reply per conversation turn, each body tagged `[drill NNNNN]` so the simulator's request log
(every request with the answer it got) tells which message each accepted send carried.
Interleaved with the replies:

- a batch of replies whose recipient's sends fail 503 three times, and a few seconds later the
  redis-server stopped and started again empty while they wait for their retries (their RQ jobs
  are lost; the drill counts the retries scheduled just before the stop);
- once Redis is back, a batch whose recipient's sends fail 503 six times (the first try and five
  retries): they end `failed` with their job dead-lettered, after which that recipient's sends
  answer 3 s later still. For each one an agent clicks "Send again" (`outbound.requeue`) and an
  admin requeues the dead letter (`dead_letters.requeue`), one second apart, in either order, as
  the probe did;
- a batch refused for good (131026): half get "Send again" once failed, half stay failed;
- --kills SIGKILLs of a worker, each the moment its log shows it inside a job, a new worker
  started in its place.

Once no message is left `queued` (or --timeout seconds after the last reply), the checks: every
reply stored; none stuck in `queued`; no message accepted twice by the Graph API (a second
acceptance is excused only when a SIGKILL cut the first one's answer: the at-least-once edge the
README names); every message that ends sent was accepted exactly once, with that wamid stored;
every failed message has a reason; every send left from its conversation's inbox (every other
conversation belongs to the bench's second number; the simulator serves both, each with its own
token, and logs the number and token of each send); and the faults above really happened. Prints
PASS/FAIL per check and exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import secrets
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import create_engine, text

from bench import harness
from bench.drills import evidence

TOKEN = re.compile(r"\[drill (\d+)\]")
ACCEPTED_ANSWER_SLACK = 1.0  # seconds after an answer during which a kill still cuts it off
NO_DEAD_LETTER_AFTER = 15.0  # seconds a failed message may wait for its job to reach the dead letters


@dataclass
class Plan:
    """Which reply numbers get which fault (each special reply has a customer of its own)."""

    regular: int
    backoff: list[int]
    dead_letter: list[int]
    refused_retried: list[int]
    refused_kept: list[int]

    def kind(self, number: int) -> str:
        for name in ("backoff", "dead_letter", "refused_retried", "refused_kept"):
            if number in getattr(self, name):
                return name
        return "regular"

    @property
    def total(self) -> int:
        return self.regular + len(self.backoff) + len(self.dead_letter) + len(self.refused_retried) + len(
            self.refused_kept)


@dataclass
class Timeline:
    started: float = field(default_factory=time.time)
    kills: list[float] = field(default_factory=list)  # wall-clock times of proven mid-job kills
    all_kills: list[float] = field(default_factory=list)  # of every kill, proven or not
    unproven_kills: int = 0
    redis_down: float = 0.0
    redis_up: float = 0.0
    retries_waiting_at_restart: int = 0
    last_reply: float = 0.0
    agent_retries: int = 0
    agent_retries_refused: int = 0
    admin_requeues: int = 0
    dead_letters_seen: int = 0
    queued_while_redis_down: int = 0
    failed_without_dead_letter: int = 0

    def at(self, wall: float) -> str:
        return f"{wall - self.started:.1f} s"


def seed_customers(database_url: str, count: int) -> list[tuple[int, str]]:
    """`count` customers who wrote a minute ago (the 24-hour window is open), every other one to
    the second number; returns (conversation id, wa_id) in order."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO contacts (name, phone, wa_id, created_at, updated_at)
            SELECT 'Drill ' || i, '+55119' || lpad(i::text, 8, '0'), '55119' || lpad(i::text, 8, '0'), now(), now()
            FROM generate_series(1, :n) i"""), {"n": count})
        conn.execute(text("""
            INSERT INTO conversations (contact_id, inbox_id, channel, status, priority, started_at, last_message_at,
                                       last_inbound_at, created_at, updated_at)
            SELECT ct.id, i.id, 'whatsapp', 'active', 'normal', now(), now(), now() - interval '1 minute', now(), now()
            FROM contacts ct JOIN inboxes i
              ON i.phone_number_id = CASE WHEN ct.id % 2 = 1 THEN :first ELSE :second END
            ORDER BY ct.id"""), {"first": harness.PHONE_NUMBER_ID, "second": harness.SECOND_PHONE_NUMBER_ID})
        rows = conn.execute(text(
            "SELECT c.id, ct.wa_id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id ORDER BY c.id")).all()
    engine.dispose()
    return [(conversation_id, wa_id) for conversation_id, wa_id in rows]


def conversation_numbers(database_url: str) -> dict[int, str]:
    """The phone_number_id of each conversation's inbox."""
    return dict(evidence._rows(database_url, """
        SELECT c.id, i.phone_number_id FROM conversations c JOIN inboxes i ON i.id = c.inbox_id"""))


class Simulator:
    """The Graph API simulator in a process of its own, and its control API. It serves the
    bench's two numbers, each with its own token: a send with another number's token is refused."""

    def __init__(self, log_path) -> None:
        self.port = harness.free_port()
        numbers = [f"--number={number}:{token}" for number, (_, token) in harness.INBOXES.items()]
        self.proc = harness.start_process(
            [harness.PYTHON, "-m", "portal.channels.whatsapp.simulator", "--host", "127.0.0.1", "--port", str(self.port),
             *numbers],
            env=harness.portal_env("sqlite://", "redis://127.0.0.1:1/0"), log_path=log_path)
        harness.wait_for_port(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def order(self, **order) -> None:
        requests.post(f"{self.url}/_sim/fail", json={"endpoint": "messages", **order}, timeout=10).raise_for_status()

    def slow_down(self, seconds: float) -> None:
        requests.post(f"{self.url}/_sim/latency", json={"seconds": seconds}, timeout=10).raise_for_status()

    def sends(self) -> list[dict]:
        log = requests.get(f"{self.url}/_sim/requests", timeout=60).json()
        return [r for r in log if r["endpoint"] == "messages" and "status" not in (r["json"] or {})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=2000, help="regular replies (the faulted ones come on top)")
    parser.add_argument("--customers", type=int, default=500, help="conversations the regular replies go to")
    parser.add_argument("--rate", type=float, default=12, help="replies queued per second")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the simulator takes to answer a send")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=4, help="SIGKILLs of a worker mid-job")
    parser.add_argument("--batch", type=int, default=20, help="replies in each faulted batch")
    parser.add_argument("--redis-down", type=float, default=5, help="seconds Redis stays stopped")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds after the last reply for every message to leave `queued`")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    print(f"outbound drill: {harness.machine()}")
    verdict = harness.Verdict("outbound drill")
    rng = random.Random(args.seed)
    batch = args.batch
    plan = Plan(args.replies, *(list(range(args.replies + k * batch, args.replies + (k + 1) * batch))
                                for k in range(2)),
                refused_retried=list(range(args.replies + 2 * batch, args.replies + 2 * batch + batch // 2)),
                refused_kept=list(range(args.replies + 2 * batch + batch // 2, args.replies + 3 * batch)))
    timeline = Timeline()
    stack = None
    simulator = None
    try:
        log_dir = Path(tempfile.mkdtemp(prefix="atende-bench-logs-"))
        simulator = Simulator(log_dir / "simulator.log")
        stack = harness.Stack("atende_drill_out", log_dir=log_dir, WHATSAPP_API_BASE=simulator.url)
        customers = seed_customers(stack.database_url, args.customers + plan.total - plan.regular)
        regular_customers, special_customers = customers[:args.customers], customers[args.customers:]
        special = dict(zip(plan.backoff + plan.dead_letter + plan.refused_retried + plan.refused_kept,
                           special_customers, strict=True))

        # The portal, in this process, as the agents' and admins' browsers reach it.
        os.environ.update(stack.env)
        from portal import create_app
        from portal.extensions import db
        from portal.models import Agent, Conversation, Message, MessageStatus, Role
        from portal.services import agents, dead_letters, outbound

        app = create_app()
        # Each reply queued while Redis is down logs warnings here (no job, no live event); the count is printed.
        logging.getLogger("portal").setLevel(logging.ERROR)
        with app.app_context():
            agent = agents.create(email="agent@drill.test", name="Drill Agent", role=Role.agent, password=secrets.token_urlsafe(16))
            admin = agents.create(email="admin@drill.test", name="Drill Admin", role=Role.admin, password=secrets.token_urlsafe(16))
            db.session.commit()
            agent_id, admin_id = agent.id, admin.id

        message_ids: dict[int, int] = {}
        conversation_of: dict[int, int] = {}  # reply number -> its conversation

        def reply(number: int, conversation_id: int) -> None:
            conversation_of[number] = conversation_id
            with app.app_context():
                conversation = db.session.get(Conversation, conversation_id)
                by = db.session.get(Agent, agent_id)
                message = outbound.queue_reply(conversation, f"Resposta {number} [drill {number:05d}]", by=by)
                db.session.commit()
                message_ids[number] = message.id
                timeline.queued_while_redis_down += stack.redis.proc is None

        for _, wa_id in (special[n] for n in plan.backoff):
            simulator.order(code=503, times=3, to=wa_id)
        for _, wa_id in (special[n] for n in plan.dead_letter):
            simulator.order(code=503, times=1 + outbound.SEND_RETRIES, to=wa_id)
            simulator.order(code="timeout", delay=3.0, times=10, to=wa_id)
        for _, wa_id in (special[n] for n in plan.refused_retried + plan.refused_kept):
            simulator.order(code=131026, times=1, to=wa_id)
        simulator.slow_down(args.latency)

        for _ in range(args.workers):
            stack.start_worker()
        stop = threading.Event()

        def retry_as_agent(number: int) -> bool:
            with app.app_context():
                message = db.session.get(Message, message_ids[number])
                try:
                    outbound.requeue(message, by=db.session.get(Agent, agent_id))
                except outbound.OutboundError:
                    db.session.rollback()
                    timeline.agent_retries_refused += 1
                    return False
                db.session.commit()
                timeline.agent_retries += 1
                return True

        def requeue_as_admin(job_id: str) -> None:
            with app.app_context():
                timeline.admin_requeues += dead_letters.requeue([job_id], by=db.session.get(Agent, admin_id))
                db.session.commit()

        def one_second_apart(first, second) -> None:
            first()
            time.sleep(1.0)
            second()

        retried: set[int] = set()
        wanted = set(plan.dead_letter + plan.refused_retried)
        retry_pairs: list[threading.Thread] = []

        def retrier() -> None:
            """Agents retry the refused sends once failed; for each dead letter, an agent's "Send
            again" and an admin's requeue one second apart, the order alternating."""
            failed_since: dict[int, float] = {}
            while not stop.is_set() and retried != wanted:
                time.sleep(0.5)
                with app.app_context():
                    failed = {m.id for m in db.session.query(Message).filter(
                        Message.id.in_([message_ids[n] for n in wanted - retried if n in message_ids]),
                        Message.status == MessageStatus.failed)}
                    try:
                        jobs = {job.row_id: job.id for job in dead_letters.failed_jobs("outbound")}
                    except RedisConnectionError:  # Redis restarting: the admin page fails too; look again
                        continue
                for number in sorted(wanted - retried):
                    message_id = message_ids.get(number)
                    if message_id not in failed:
                        continue
                    failed_since.setdefault(number, time.monotonic())
                    if number in plan.refused_retried:
                        retry_as_agent(number)
                    elif message_id not in jobs and time.monotonic() - failed_since[number] > NO_DEAD_LETTER_AFTER:
                        # Failed without a dead letter (a kill broke its chain of retries and the
                        # sweep failed it): the agent's retry is all there is.
                        timeline.failed_without_dead_letter += 1
                        retry_as_agent(number)
                    elif message_id in jobs:
                        timeline.dead_letters_seen += 1
                        steps = [lambda n=number: retry_as_agent(n), lambda j=jobs[message_id]: requeue_as_admin(j)]
                        if plan.dead_letter.index(number) % 2:
                            steps.reverse()
                        pair = threading.Thread(target=one_second_apart, args=steps, daemon=True)
                        retry_pairs.append(pair)
                        pair.start()
                    else:
                        continue
                    retried.add(number)

        def killer() -> None:
            while len(timeline.kills) < args.kills and timeline.unproven_kills < args.kills and not stop.is_set():
                time.sleep(rng.uniform(3, args.replies / args.rate / max(args.kills, 1)))
                outcome = evidence.kill_mid_job(stack, rng.choice(stack.workers))
                if outcome is None:
                    continue
                killed_at, proven = outcome
                timeline.all_kills.append(killed_at)
                if proven:
                    timeline.kills.append(killed_at)
                else:
                    timeline.unproven_kills += 1

        def redis_restart() -> None:
            scheduled = "rq:scheduled:outbound"
            harness.wait_for(lambda: stack_redis().zcard(scheduled) >= len(plan.backoff) // 2, timeout=60,
                             interval=0.1, what="sends waiting for their retry")
            timeline.retries_waiting_at_restart = stack_redis().zcard(scheduled)
            stack.redis.stop()
            timeline.redis_down = time.time()
            time.sleep(args.redis_down)
            stack.redis.start()
            timeline.redis_up = time.time()

        def stack_redis():
            from redis import Redis

            return Redis.from_url(stack.redis.url, socket_connect_timeout=2, socket_timeout=5)

        # The replies: regular ones at --rate, the backoff batch early on (the Redis restart
        # follows it), the refused batch at 40% of the way, and the dead-letter batch once Redis
        # is back (a restart would empty the failed registry too).
        span = args.replies / args.rate
        schedule: list[tuple[float, int, int]] = [
            (i / args.rate, i, regular_customers[i % len(regular_customers)][0]) for i in range(args.replies)]
        for at, numbers in ((max(3.0, 0.05 * span), plan.backoff), (0.4 * span, plan.refused_retried + plan.refused_kept)):
            schedule += [(at + 0.02 * k, n, special[n][0]) for k, n in enumerate(numbers)]
        schedule.sort()
        threads = [threading.Thread(target=f, daemon=True) for f in (retrier, killer)]
        for thread in threads:
            thread.start()
        restart = threading.Thread(target=redis_restart, daemon=True)
        dead_letter_batch = [(n, special[n][0]) for n in plan.dead_letter]
        began = time.perf_counter()
        timeline.started = time.time()
        for due, number, conversation_id in schedule:
            time.sleep(max(0.0, began + due - time.perf_counter()))
            reply(number, conversation_id)
            if number == plan.backoff[-1]:
                restart.start()
            if dead_letter_batch and timeline.redis_up:
                for special_reply in dead_letter_batch:
                    reply(*special_reply)
                dead_letter_batch.clear()
        restart.join()
        for special_reply in dead_letter_batch:
            reply(*special_reply)
        timeline.last_reply = time.time()
        print(f"  {plan.total} replies queued in {timeline.last_reply - timeline.started:.0f} s; Redis down from "
              f"{timeline.at(timeline.redis_down)} to {timeline.at(timeline.redis_up)} "
              f"({timeline.retries_waiting_at_restart} sends waiting for their retry, "
              f"{timeline.queued_while_redis_down} replies queued meanwhile); "
              f"{len(timeline.kills)} SIGKILLs proven mid-job at "
              f"{', '.join(timeline.at(k) for k in timeline.kills)} ({timeline.unproven_kills} not)", flush=True)

        def queued() -> int:
            return stack.count("SELECT count(*) FROM messages WHERE status = 'queued'")

        def retries_due() -> int:
            """Replies an agent or admin is yet to retry: failed and not retried yet (a reply
            that never failed, its refusal taken by an attempt a kill cut short, is not due)."""
            due = [message_ids[n] for n in wanted - retried if n in message_ids]
            return stack.count(f"SELECT count(*) FROM messages WHERE status = 'failed' AND id IN ({','.join(map(str, due))})"
                               ) if due else 0

        def jobs_waiting() -> int:
            """Send jobs queued or scheduled for a retry (the requeued dead letters among them)."""
            redis = stack_redis()
            return redis.llen("rq:queue:outbound") + redis.zcard("rq:scheduled:outbound")

        def in_flight() -> int:
            return sum(1 for r in simulator.sends() if "answer_status" not in r)

        try:
            harness.wait_for(lambda: queued() == 0 and in_flight() == 0 and retries_due() == 0 and jobs_waiting() == 0
                             and not any(pair.is_alive() for pair in retry_pairs),
                             timeout=args.timeout, interval=1.0, what="every message to leave queued")
        except TimeoutError:
            pass
        stop.set()
        settled_at = time.time()
        time.sleep(2)  # a send that a duplicate job started just now is answered in the log
        sends = simulator.sends()
        messages = {row[0]: row[1:] for row in evidence._rows(stack.database_url, """
            SELECT id, status, external_id, error_code, error_title, send_attempts FROM messages
            WHERE direction = 'outbound'""")}
        print(f"  settled {timeline.at(settled_at)} after the start ({settled_at - timeline.last_reply:.0f} s after "
              f"the last reply); the simulator saw {len(sends)} sends", flush=True)

        accepted: dict[int, list[dict]] = defaultdict(list)
        for entry in sends:
            found = TOKEN.search(((entry["json"] or {}).get("text") or {}).get("body", ""))
            if found and entry.get("answer_status") == 200 and entry.get("wamid"):
                accepted[int(found.group(1))].append(entry)
        by_message = {message_ids[n]: n for n in message_ids}

        def cut_by_kill(entry: dict) -> bool:
            return any(entry["at"] <= k <= entry["answered_at"] + ACCEPTED_ANSWER_SLACK for k in timeline.all_kills)

        twice = {n: e for n, e in accepted.items() if len(e) > 1}
        excused = {n for n, e in twice.items() if any(cut_by_kill(x) for x in e[:-1])}
        unexcused = sorted(set(twice) - excused)
        stuck = [(by_message[i], m) for i, m in messages.items() if m[0] == "queued"]
        sent_statuses = ("sent", "delivered", "read")
        sent_wrong = [by_message[i] for i, m in messages.items() if m[0] in sent_statuses
                      and not any(e["wamid"] == m[1] for e in accepted.get(by_message[i], []))]
        failed = [(by_message[i], m) for i, m in messages.items() if m[0] == "failed"]
        failed_unreasoned = [n for n, m in failed if m[2] is None and not m[3]]
        failed_accepted = [n for n, _ in failed if accepted.get(n)]
        # Every send, accepted or not, must leave from its conversation's inbox: its number in the
        # URL and that number's token (the simulator records both).
        inbox_number = conversation_numbers(stack.database_url)
        tokens = {number: token for number, (_, token) in harness.INBOXES.items()}
        from_number: Counter = Counter()
        crossed: list[int] = []
        for entry in sends:
            found = TOKEN.search(str(entry["json"]))
            if not found:
                continue
            expected = inbox_number[conversation_of[int(found.group(1))]]
            from_number[entry["phone_number_id"]] += 1
            if entry["phone_number_id"] != expected or entry["token"] != tokens[expected]:
                crossed.append(int(found.group(1)))
        ends = defaultdict(int)
        for m in messages.values():
            ends[m[0]] += 1

        verdict.check(f"every reply stored ({plan.total})", len(messages) == len(message_ids) == plan.total,
                      f"{len(messages)} outbound messages")
        verdict.check("no message stuck in queued", not stuck,
                      f"{len(stuck)} queued {args.timeout:.0f} s after the last reply"
                      + (f", e.g. reply {stuck[0][0]} after {stuck[0][1][4]} attempts" if stuck else ""))
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(Counter(plan.kind(n) for n in unexcused).items()))
        verdict.check("no message accepted twice by the Graph API (simulator's log)", not unexcused,
                      f"{len(unexcused)} accepted twice or more{f' ({kinds})' if kinds else ''}"
                      + (f", e.g. reply {unexcused[0]} ({len(twice[unexcused[0]])} times)" if unexcused else "")
                      + f"; {len(excused)} more whose first answer a SIGKILL cut off (at-least-once edge)")
        verdict.check("every message that ends sent was accepted, its wamid stored", not sent_wrong,
                      f"{len(sent_wrong)} without a matching accepted send")
        verdict.check("every send left from its conversation's inbox: its number and its token (simulator's log)",
                      len(from_number) == len(harness.INBOXES) and not crossed,
                      f"{len(crossed)} sends from another number or with another token"
                      + (f", e.g. reply {crossed[0]}" if crossed else "") + "; sends per number: "
                      + ", ".join(f"{n}: {c}" for n, c in sorted(from_number.items())))
        verdict.check("every failed message has a reason", not failed_unreasoned,
                      f"{len(failed)} failed, {len(failed_unreasoned)} without a reason; {len(failed_accepted)} of "
                      "them accepted by the Graph API all the same (the answer was lost)")
        verdict.check("the faults happened: a Redis restart with sends waiting for their retry",
                      timeline.retries_waiting_at_restart > 0, f"{timeline.retries_waiting_at_restart} waiting")
        verdict.check(f"the faults happened: {args.kills} SIGKILLs mid-job", len(timeline.kills) == args.kills,
                      f"{len(timeline.kills)} proven, {timeline.unproven_kills} not")
        verdict.check("the faults happened: dead letters retried by an agent and requeued by an admin",
                      timeline.dead_letters_seen >= len(plan.dead_letter) / 2,
                      f"{timeline.dead_letters_seen} of {len(plan.dead_letter)} dead-lettered "
                      f"({timeline.failed_without_dead_letter} failed without a dead letter); 'Send again' "
                      f"{timeline.agent_retries} times (+{timeline.agent_retries_refused} refused: not failed any "
                      f"more), {timeline.admin_requeues} dead letters requeued")
        print(f"  messages end: {dict(sorted(ends.items()))}", flush=True)
        for number in unexcused[:5]:
            every = [e for e in sends if f"[drill {number:05d}]" in str(e["json"])]
            print(f"  reply {number} ({plan.kind(number)}), {messages[message_ids[number]][4]} attempts counted; "
                  "its sends (start-answer, status): " + ", ".join(
                      f"{timeline.at(e['at'])}-{timeline.at(e.get('answered_at', e['at']))} {e.get('answer_status')}"
                      for e in every), flush=True)
        if unexcused:
            print(f"  kills at {', '.join(timeline.at(k) for k in timeline.all_kills)}", flush=True)
    finally:
        if stack is not None:
            stack.close()
        if simulator is not None:
            harness.stop_process(simulator.proc)
    verdict.report()


if __name__ == "__main__":
    main()

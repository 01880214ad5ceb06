"""Benchmark: a 10,000-recipient campaign at 80 messages/s with 2 workers, against the Graph API simulator.

    nice python -m bench.campaign [--recipients 10000] [--rate 80] [--workers 2] [--lifted-rate 1000]

A private PostgreSQL cluster and redis-server (bench/harness.py), the simulator in a process of
its own, and `--workers` portal workers (`python worker.py`). The campaign is made and confirmed
through portal.services.campaigns as the campaign page does (audience: a tag every seeded contact
has). From the simulator's request log (each send's arrival time): the sustained rate (sends
after the first second to the last, over that time), the most sends in any one-second window
(sliding, every arrival as a window's start) against the limit, and the workers' CPU per send.
Then the same with the limit lifted (`--lifted-rate`): the highest send rate the workers reach,
per worker, beside the no-op job rate of the same workers (bench/noop.py's measure).
"""

from __future__ import annotations

import argparse
import bisect
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench import harness
from bench.drills.outbound import Simulator


def reset(simulator: Simulator) -> None:
    """The simulator forgets its requests and failures (each run reads its own sends)."""
    requests.post(f"{simulator.url}/_sim/reset", timeout=10).raise_for_status()


def seed_audience(database_url: str, count: int, tag: str, offset: int = 0) -> list[str]:
    """`count` new contacts, each with a closed conversation tagged `tag` (a campaign's audience);
    returns their WhatsApp ids."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        first_new = conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM contacts")).scalar()
        conn.execute(text("""
            INSERT INTO contacts (name, phone, wa_id, city, created_at, updated_at)
            SELECT 'Cliente ' || i, '+55119' || lpad(i::text, 8, '0'), '55119' || lpad(i::text, 8, '0'), 'Recife', now(), now()
            FROM generate_series(:o + 1, :o + :n) i"""), {"n": count, "o": offset})
        conn.execute(text("INSERT INTO tags (name) VALUES (:tag)"), {"tag": tag})
        conn.execute(text("""
            INSERT INTO conversations (contact_id, inbox_id, channel, status, priority, started_at, closed_at,
                                       last_message_at, created_at, updated_at)
            SELECT id, (SELECT min(id) FROM inboxes), 'whatsapp', 'closed', 'normal', now(), now(), now(), now(), now()
            FROM contacts WHERE id >= :first"""), {"first": first_new})
        conn.execute(text("""
            INSERT INTO conversation_tags (conversation_id, tag_id)
            SELECT c.id, (SELECT id FROM tags WHERE name = :tag) FROM conversations c WHERE c.contact_id >= :first"""),
            {"tag": tag, "first": first_new})
        rows = conn.execute(text("SELECT wa_id FROM contacts WHERE id >= :first ORDER BY id"), {"first": first_new}).all()
    engine.dispose()
    return [wa_id for (wa_id,) in rows]


def start_campaign(app, rate: int, name: str, tag: str) -> int:
    """Make and confirm a campaign to everyone tagged `tag`, as the campaign page does; its id."""
    from portal.extensions import db
    from portal.models import Agent, Inbox, MessageTemplate, Role
    from portal.services import agents, campaigns

    with app.app_context():
        supervisor = db.session.query(Agent).filter_by(role=Role.supervisor).first() or agents.create(
            email="supervisor@bench.test", name="Bench Supervisor", role=Role.supervisor,
            password=secrets.token_urlsafe(16))
        inbox = db.session.query(Inbox).order_by(Inbox.id).first()
        template = db.session.query(MessageTemplate).filter_by(template_key="bench_promo").first()
        if template is None:
            template = MessageTemplate(template_key="bench_promo", language="pt_BR", body="Olá {{1}}, novidades!",
                                       waba_id=inbox.waba_id)
            db.session.add(template)
            db.session.flush()
        campaign = campaigns.create_draft(
            name=name, inbox=inbox, template=template, param_fields=["contact.first_name"],
            audience=campaigns.Audience(tags=[tag]), rate=rate, send_at=None, by=supervisor)
        campaigns.confirm(campaign, by=supervisor)
        db.session.commit()
        return campaign.id


def wait_until_done(stack: harness.Stack, campaign_id: int, timeout: float) -> str:
    def done() -> bool:
        return stack.count(f"SELECT count(*) FROM campaigns WHERE id = {campaign_id} AND status = 'completed'") == 1
    try:
        harness.wait_for(done, timeout=timeout, interval=0.5, what="the campaign to complete")
    except TimeoutError:
        return "timeout"
    return "completed"


@dataclass
class Rates:
    sends: int
    sustained: float
    busiest_second: int
    seconds: float


def rates(arrivals: list[float]) -> Rates:
    """The sustained rate (after the first second, so a start-up burst cannot flatter it) and the
    most arrivals in any one-second window [t, t + 1) starting at an arrival."""
    arrivals = sorted(arrivals)
    busiest = max((bisect.bisect_left(arrivals, t + 1.0) - i for i, t in enumerate(arrivals)), default=0)
    start = arrivals[0] + 1.0 if arrivals else 0.0
    steady = [t for t in arrivals if t >= start]
    span = steady[-1] - steady[0] if len(steady) > 1 else 0.0
    return Rates(len(arrivals), (len(steady) - 1) / span if span else 0.0, busiest, arrivals[-1] - arrivals[0] if arrivals else 0.0)


def run(stack: harness.Stack, simulator: Simulator, app, recipients: int, rate: int, label: str,
        timeout: float) -> tuple[Rates, float]:
    seed_audience(stack.database_url, recipients, tag=label, offset=stack.count("SELECT count(*) FROM contacts"))
    reset(simulator)
    cpu_before = harness.cpu_seconds(p.pid for p in stack.workers)
    campaign_id = start_campaign(app, rate, label, tag=label)
    outcome = wait_until_done(stack, campaign_id, timeout)
    cpu = harness.cpu_seconds(p.pid for p in stack.workers) - cpu_before
    sends = [s for s in simulator.sends() if s.get("wamid")]
    result = rates([s["at"] for s in sends])
    print(f"  {label}: {outcome}; {result.sends} sends of {recipients} in {result.seconds:.1f} s, "
          f"sustained {result.sustained:.1f}/s, busiest second {result.busiest_second}, "
          f"worker CPU {1000 * cpu / max(result.sends, 1):.2f} ms per send", flush=True)
    return result, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=80)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lifted-rate", type=int, default=1000, help="the limit for the unthrottled run")
    parser.add_argument("--lifted-recipients", type=int, default=5000)
    parser.add_argument("--noop-jobs", type=int, default=3000)
    args = parser.parse_args()
    print(f"campaign bench: {harness.machine()}")
    verdict = harness.Verdict("campaign bench")
    stack = None
    try:
        log_dir = Path(tempfile.mkdtemp(prefix="atende-bench-logs-"))
        simulator = Simulator(log_dir / "simulator.log")
        stack = harness.Stack("atende_bench_campaign", log_dir=log_dir, WHATSAPP_API_BASE=simulator.url)
        os.environ.update(stack.env)
        from portal import create_app

        app = create_app()
        for _ in range(args.workers):
            stack.start_worker()
        stack.wait_for_workers()

        limited, _cpu = run(stack, simulator, app, args.recipients, args.rate, "limited", timeout=args.recipients / args.rate * 3 + 120)
        verdict.check("every recipient sent once", limited.sends == args.recipients, f"{limited.sends} sends")
        verdict.check(f"sustained within 5% of {args.rate}/s", abs(limited.sustained - args.rate) <= 0.05 * args.rate,
                      f"{limited.sustained:.1f}/s")
        verdict.check(f"no one-second window above {args.rate}", limited.busiest_second <= args.rate,
                      f"busiest {limited.busiest_second}")

        # The limit lifted, to a fresh audience.
        lifted, cpu = run(stack, simulator, app, args.lifted_recipients, args.lifted_rate, "lifted",
                          timeout=args.lifted_recipients / 10 + 120)
        per_worker = lifted.sustained / args.workers
        noop_rate = noop_jobs_per_second(stack, args.noop_jobs)
        print(f"  lifted: {per_worker:.1f} sends/s per worker; no-op jobs {noop_rate / args.workers:.1f}/s per worker "
              f"on the same {args.workers} workers", flush=True)
    finally:
        if stack is not None:
            stack.close()
    verdict.report()


def noop_jobs_per_second(stack: harness.Stack, count: int) -> float:
    """The workers' rate on jobs that do nothing: RQ's own cost per job on this machine now."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(stack.redis.url)
    queue = Queue("default", connection=connection)
    started = time.perf_counter()
    for _ in range(count):
        queue.enqueue("bench.noop.noop")
    harness.wait_for(lambda: queue.count == 0 and queue.started_job_registry.count == 0, timeout=600, interval=0.1,
                     what="the no-op jobs")
    return count / (time.perf_counter() - started)


if __name__ == "__main__":
    main()

"""Drill: a 5,000-recipient campaign at 50 messages/s with 10 worker SIGKILLs; each recipient sent exactly once.

    nice python -m bench.drills.campaign_kill [--recipients 5000] [--rate 50] [--workers 2] [--kills 10]

A private PostgreSQL cluster and redis-server (bench/harness.py), the Graph API simulator in a
process of its own and `--workers` portal workers. The campaign is made and confirmed through
portal.services.campaigns as the campaign page does. While it sends, --kills SIGKILLs of a worker,
each the moment its log shows it inside a job (a dispatch batch or a send), a new worker started in
its place; and once, the simulator answers 130429 (rate limit hit) to --throttled sends in a row.
Checks, from the simulator's request log: every recipient accepted exactly once (none twice, none
missing; a second acceptance is reported apart when a kill cut the first one's answer, the
at-least-once edge README, "Delivery guarantees" names), the campaign completed with every
recipient's message sent, the 130429 answers really given and their sends accepted later, and the
kills proven mid-job. Prints PASS/FAIL per check and exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench import harness
from bench.campaign import seed_audience, start_campaign, wait_until_done
from bench.drills import evidence
from bench.drills.outbound import Simulator

ANSWER_SLACK = 1.0  # seconds after an answer during which a kill still cuts it off


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--throttled", type=int, default=20, help="sends answered 130429 in a row, once")
    parser.add_argument("--timeout", type=float, default=600, help="seconds after the expected end")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    print(f"campaign kill drill: {harness.machine()}")
    verdict = harness.Verdict("campaign kill drill")
    rng = random.Random(args.seed)
    stack = None
    kills: list[float] = []
    unproven = 0
    try:
        log_dir = Path(tempfile.mkdtemp(prefix="atende-bench-logs-"))
        simulator = Simulator(log_dir / "simulator.log")
        stack = harness.Stack("atende_drill_campaign", log_dir=log_dir, WHATSAPP_API_BASE=simulator.url)
        audience = seed_audience(stack.database_url, args.recipients, tag="drill")
        os.environ.update(stack.env)
        from portal import create_app

        app = create_app()
        for _ in range(args.workers):
            stack.start_worker()
        stack.wait_for_workers()
        expected_seconds = args.recipients / args.rate
        campaign_id = start_campaign(app, args.rate, "drill", tag="drill")
        started = time.time()
        stop = threading.Event()

        def killer() -> None:
            nonlocal unproven
            gap = expected_seconds * 0.8 / max(args.kills, 1)
            while len(kills) < args.kills and unproven < 3 * args.kills and not stop.is_set():
                time.sleep(rng.uniform(0.5 * gap, gap))
                outcome = evidence.kill_mid_job(stack, rng.choice(stack.workers), interval=0.005)
                if outcome is None:
                    continue
                killed_at, proven = outcome
                if proven:
                    kills.append(killed_at)
                else:
                    unproven += 1

        def throttle() -> None:
            time.sleep(expected_seconds / 3)
            simulator.order(code=130429, times=args.throttled)

        threads = [threading.Thread(target=killer, daemon=True), threading.Thread(target=throttle, daemon=True)]
        for thread in threads:
            thread.start()
        outcome = wait_until_done(stack, campaign_id, timeout=expected_seconds + args.timeout)
        stop.set()
        elapsed = time.time() - started
        print(f"  campaign {outcome} after {elapsed:.1f} s; {len(kills)} SIGKILLs proven mid-job "
              f"({unproven} not)", flush=True)

        log = simulator.sends()
        accepted = [r for r in log if r.get("wamid")]
        throttled = [r for r in log if r.get("answer_status") == 429]  # only 130429 was ordered
        per_recipient = Counter(r["json"]["to"] for r in accepted)
        missing = [w for w in audience if per_recipient[w] == 0]
        twice = {w: n for w, n in per_recipient.items() if n > 1}
        cut = {w for w in twice if _cut_by_a_kill(w, accepted, kills)}
        verdict.check("every recipient accepted at least once", not missing, f"{len(missing)} missing")
        verdict.check("no recipient accepted twice", not twice,
                      f"{len(twice)} twice, {len(cut)} of them with a kill cutting the first answer")
        verdict.check("nobody outside the audience", set(per_recipient) <= set(audience))
        verdict.check("campaign completed", outcome == "completed")
        sent = stack.count(f"""SELECT count(*) FROM campaign_recipients r JOIN messages m ON m.id = r.message_id
                              WHERE r.campaign_id = {campaign_id} AND m.status = 'sent'""")
        verdict.check("every recipient's message ends sent", sent == args.recipients, f"{sent} sent")
        verdict.check("130429 answered and those sends accepted later", len(throttled) == args.throttled,
                      f"{len(throttled)} answered 130429")
        verdict.check(f"{args.kills} kills proven mid-job", len(kills) >= args.kills, f"{len(kills)}")
    finally:
        if stack is not None:
            stack.close()
    verdict.report()


def _cut_by_a_kill(wa_id: str, accepted: list[dict], kills: list[float]) -> bool:
    first = min((r for r in accepted if r["json"]["to"] == wa_id), key=lambda r: r["at"])
    answered = first.get("answered_at", first["at"])
    return any(answered <= k <= answered + ANSWER_SLACK for k in kills)


if __name__ == "__main__":
    main()

"""Drill: SIGKILL a worker 20 times mid-job during a 2,000-message burst; each message stored exactly once.

    python -m bench.drills.kill_worker [--messages 2000] [--kills 20]

Two workers (`python worker.py`, every queue) serve a portal under gunicorn on a private
PostgreSQL cluster and a private redis-server. While the burst is posted, a worker (a random one
of the two, after a random pause) is killed with SIGKILL as soon as its log shows it inside a
job, and a new one started in its place, as a process supervisor would. A kill counts only if it
is proven to have landed mid-job: the killed worker's own log ends with a job taken and never
finished, and RQ never saw that job end (still started, or taken a moment before RQ marked it
started). The drill kills until --kills are proven.
A killed job's transaction never commits, so its event stays pending until the workers' scheduled
sweep re-enqueues it (events pending for over 60 s), which the drill waits for. Then each posted
wamid must be stored exactly once. The burst is addressed to the bench's two numbers in turn (each
customer writes to both), and each message must land in the inbox of the number it was sent to,
with one open conversation per contact and inbox. Prints PASS/FAIL per check and exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import threading
import time

import psutil

from bench import harness
from bench.drills import evidence


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0, help="at most this many seconds of pause before each kill")
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for processing")
    args = parser.parse_args()
    print(f"kill_worker drill: {harness.machine()}")
    verdict = harness.Verdict("kill_worker drill")
    stack = harness.Stack("atende_drill_kill")
    victims: list[int] = []
    try:
        stack.start_web()
        for _ in range(2):
            stack.start_worker()
        stack.wait_for_workers()
        requests = harness.text_burst("drill.kill", args.messages, customers=700,
                                       numbers=tuple(harness.INBOXES))
        kills: list[float] = []  # when each proven mid-job kill happened
        unproven: list[str] = []
        unprocessed_at_kill: list[int] = []
        started = time.perf_counter()

        def processed() -> int:
            return stack.count("SELECT count(*) FROM webhook_events WHERE status = 'processed'")

        def killer() -> None:
            rng = random.Random(20)
            while len(kills) < args.kills and len(unproven) < args.kills:
                time.sleep(rng.uniform(0, args.interval))
                victim = stack.workers[rng.randrange(len(stack.workers))]
                log = stack.worker_log(victim)
                harness.wait_for(lambda log=log: evidence.unfinished_job(log) is not None, timeout=60,
                                 interval=0.01, what="the worker to take a job")
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                stack.workers.remove(victim)
                victims.append(victim.pid)
                job_id = evidence.unfinished_job(log)
                status = evidence.job_status(stack.redis.url, job_id) if job_id else None
                # Started, or taken from the queue a moment before RQ marked it started: either way
                # RQ never saw it end.
                if status in ("started", "queued"):
                    kills.append(time.perf_counter() - started)
                    unprocessed_at_kill.append(args.messages - processed())
                else:
                    unproven.append(f"{job_id}: {status}")
                stack.start_worker()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        # Meta retries what is not answered 200; the web side is not under test here but must hold.
        results = harness.post_all(stack.base_url, "/webhooks/whatsapp", requests, concurrency=2, rate=50)
        posted_at = time.perf_counter() - started
        thread.join()
        pending_after_kills = unprocessed_at_kill[-1] if unprocessed_at_kill else 0
        span = f"between {kills[0]:.1f} s and {kills[-1]:.1f} s" if kills else ""
        print(f"  burst posted in {posted_at:.1f} s; {len(kills)} SIGKILLs proven mid-job {span}, "
              f"{len(unproven)} not ({'; '.join(unproven[:3])}); {pending_after_kills} of the burst's events "
              "not yet processed at the last kill", flush=True)
        settled = evidence.settle(stack, args.messages, timeout=args.timeout, since=started)
        verdict.check("every webhook answered 200", all(r.status == 200 for r in results),
                      harness.status_histogram(results))
        verdict.check(f"{args.kills} SIGKILLs landed mid-job (the killed worker's log: a job taken and never "
                      "finished; RQ: that job never ended)",
                      len(kills) == args.kills and pending_after_kills > 0,
                      f"{len(kills)} proven, {len(unproven)} not; {pending_after_kills} events not yet processed "
                      "at the last kill")
        verdict.check("every event processed (a failed one waiting for its retry is not done)",
                      settled.done and settled.failed_final == 0, settled.describe())
        evidence.check_stored_once(verdict, stack.database_url,
                                   [f"wamid.drill.kill.{i}" for i in range(args.messages)])
        evidence.check_inboxes(verdict, stack.database_url, harness.addressed_to(requests))
    finally:
        # SIGKILL takes only the worker: the RQ scheduler process it forked lives on, orphaned,
        # in the worker's process group. Count them (a finding), then stop them by group id.
        orphans = [p.pid for p in psutil.process_iter(["pid"]) if _group_of(p.pid) in set(victims)]
        print(f"  {len(orphans)} process(es) outlived their killed worker (RQ's forked scheduler)", flush=True)
        for pgid in victims:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        stack.close()
    verdict.report()


if __name__ == "__main__":
    main()

"""Drill: restart PostgreSQL mid-burst; web app and workers recover without a restart, nothing is lost.

    python -m bench.drills.postgres_restart [--messages 1200] [--down 10]

Runs on a private PostgreSQL cluster (initdb under /tmp, random port), never the machine's shared
server. A portal under gunicorn (2 workers) and two workers (`python worker.py`) take a steady
burst of webhooks; a few seconds in, PostgreSQL is stopped (`pg_ctl -m fast`, which cuts every
connection), kept down for --down seconds, and started again. The web app answers 200 only after
committing, and waits up to WEBHOOK_DATABASE_WAIT_SECONDS (15 s) for the database to return, so a
restart delays answers instead of failing them; like Meta, the load generator would still send
again, a second later, whatever was not answered 200. Checks that every webhook is answered 200
on the first try, that the gunicorn workers and the RQ workers are the same processes as before,
that the database holds exactly one webhook event per 200 answer (a 200 means committed; any
other answer stored nothing), that every event ends processed (a failed one waiting for its retry
is not done), and that each posted wamid is stored exactly once, in the inbox of the number it
was sent to (the burst goes to the bench's two numbers in turn, each customer writing to both),
with one open conversation per contact and inbox. Prints the answer times,
PASS/FAIL per check, and exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import threading
import time

from bench import harness
from bench.drills import evidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1200)
    parser.add_argument("--rate", type=float, default=30, help="webhooks per second")
    parser.add_argument("--down", type=float, default=10, help="seconds PostgreSQL stays down")
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for processing")
    args = parser.parse_args()
    print(f"postgres_restart drill: {harness.machine()}")
    verdict = harness.Verdict("postgres_restart drill")
    postgres = harness.PostgresServer().start()
    stack = None
    try:
        stack = harness.Stack("atende_drill_pg", postgres=postgres)
        stack.start_web()
        for _ in range(2):
            stack.start_worker()
        stack.wait_for_workers()
        web_pids = stack.web_worker_pids()
        worker_pids = [w.pid for w in stack.workers]
        requests = harness.text_burst("drill.pg", args.messages, customers=400,
                                       numbers=tuple(harness.INBOXES))
        timeline: dict[str, float] = {}
        started = time.perf_counter()

        def restart() -> None:
            time.sleep(8)
            timeline["down"] = time.perf_counter() - started
            postgres.stop("fast")
            time.sleep(args.down)
            postgres.start()
            timeline["up"] = time.perf_counter() - started

        thread = threading.Thread(target=restart, daemon=True)
        thread.start()
        results = harness.post_all(stack.base_url, "/webhooks/whatsapp", requests, concurrency=16,
                                   rate=args.rate, retry_until_200=True, retry_delay=1.0)
        thread.join()
        retried = [r for r in results if r.attempts > 1]
        answer_ms = [r.seconds * 1000 for r in results]
        print(f"  PostgreSQL down from {timeline['down']:.1f} s to {timeline['up']:.1f} s; "
              f"{len(retried)} webhooks needed a retry; every answer seen: {harness.status_histogram(results)}; "
              f"answer time p50/p99/max {harness.percentile(answer_ms, 50):.0f}/"
              f"{harness.percentile(answer_ms, 99):.0f}/{max(answer_ms):.0f} ms", flush=True)
        settled = evidence.settle(stack, args.messages, timeout=args.timeout, since=started)
        finished = time.perf_counter() - started
        events = stack.count("SELECT count(*) FROM webhook_events")
        answered_200 = sum(status == 200 for r in results for status in r.statuses_seen)
        verdict.check("every webhook answered 200 on the first try",
                      all(r.status == 200 and r.attempts == 1 for r in results),
                      f"{len(retried)} needed a retry")
        if not verdict.check("same gunicorn workers before and after",
                             stack.web_worker_pids() == web_pids and stack.web.poll() is None,
                             f"before {sorted(web_pids)}, after {sorted(stack.web_worker_pids())}"):
            print("\n".join(line for line in stack.log_tail("web.log", 100_000).splitlines()
                            if "[CRITICAL]" in line or "[ERROR]" in line or "Worker" in line))
        verdict.check("same RQ workers before and after", [w.pid for w in stack.workers] == worker_pids
                      and all(w.poll() is None for w in stack.workers))
        verdict.check("one webhook event stored per 200 answer", events == answered_200,
                      f"{events} events stored, {answered_200} answers 200")
        verdict.check("every event processed (a failed one waiting for its retry is not done)",
                      settled.done and settled.failed_final == 0,
                      f"done {finished - timeline['up']:.0f} s after PostgreSQL returned; {settled.describe()}")
        evidence.check_stored_once(verdict, stack.database_url,
                                   [f"wamid.drill.pg.{i}" for i in range(args.messages)])
        evidence.check_inboxes(verdict, stack.database_url, harness.addressed_to(requests))
    finally:
        if stack is not None:
            stack.close()
        postgres.close()
    verdict.report()


if __name__ == "__main__":
    main()

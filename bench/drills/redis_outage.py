"""Drill: stop Redis for 30 s during a burst; every webhook is answered 200 and processed after it returns.

    python -m bench.drills.redis_outage [--messages 600] [--copies 2] [--outage 30]

A portal under gunicorn and two workers (`python worker.py`) run on a private PostgreSQL cluster
and a private redis-server. Webhooks are posted at a steady rate for about a minute, each --copies
times in a row as Meta redelivers, without retries (any non-200 is a FAIL). Two copies processed
at once race on the insert: the loser's event fails and waits for its retry. Five seconds in, the
redis-server is stopped for --outage seconds, then started again on the same port, empty (no
persistence): the queued jobs and the scheduled retries are lost with it, and so is the retry of
any event that fails while Redis is away (a job running at the stop goes on draining events). The
web app keeps committing events while Redis is down; the workers, never restarted, reconnect, and
their scheduled sweep must pick up both the events still pending and the failed ones whose retry
was lost. The wait ends when every event is processed or finally
failed (a failed one waiting for its retry, or whose retry was lost, is not done); then each
posted wamid must be stored exactly once, in the inbox of the number it was sent to (the burst
goes to the bench's two numbers in turn, each customer writing to both), with one open
conversation per contact and inbox. Prints PASS/FAIL per check and exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import threading
import time

from redis import Redis

from bench import harness
from bench.drills import evidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600, help="customer messages")
    parser.add_argument("--copies", type=int, default=2, help="times each webhook is posted, back to back")
    parser.add_argument("--rate", type=float, default=20, help="webhooks per second")
    parser.add_argument("--outage", type=float, default=30, help="seconds Redis stays down")
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for processing")
    args = parser.parse_args()
    print(f"redis_outage drill: {harness.machine()}")
    verdict = harness.Verdict("redis_outage drill")
    stack = harness.Stack("atende_drill_redis")
    try:
        stack.start_web()
        for _ in range(2):
            stack.start_worker()
        stack.wait_for_workers()
        requests = [request for request in harness.text_burst("drill.redis", args.messages, customers=400,
                                       numbers=tuple(harness.INBOXES))
                    for _ in range(args.copies)]
        timeline: dict[str, float] = {}
        started = time.perf_counter()
        retries = Redis.from_url(stack.redis.url)

        def retries_waiting() -> int:
            return retries.zcard("rq:scheduled:webhooks")

        def outage() -> None:
            time.sleep(5)
            timeline["retries_waiting"] = retries_waiting()
            stack.redis.stop()
            timeline["down"] = time.perf_counter() - started
            time.sleep(args.outage)
            stack.redis.start()
            timeline["up"] = time.perf_counter() - started

        thread = threading.Thread(target=outage, daemon=True)
        thread.start()
        results = harness.post_all(stack.base_url, "/webhooks/whatsapp", requests, concurrency=2, rate=args.rate)
        timeline["posted"] = time.perf_counter() - started
        thread.join()
        during = [r for i, r in enumerate(results)
                  if timeline["down"] <= i / args.rate <= timeline["up"]]
        during_ms = [r.seconds * 1000 for r in during] or [0.0]
        outside_ms = [r.seconds * 1000 for r in results if r not in during] or [0.0]
        print(f"  Redis down from {timeline['down']:.1f} s to {timeline['up']:.1f} s; burst posted by "
              f"{timeline['posted']:.1f} s; {len(during)} webhooks arrived while Redis was down; "
              f"answer time p50/p99 {harness.percentile(during_ms, 50):.0f}/{harness.percentile(during_ms, 99):.0f} ms "
              f"during the outage, {harness.percentile(outside_ms, 50):.0f}/{harness.percentile(outside_ms, 99):.0f} ms "
              "outside it", flush=True)
        settled = evidence.settle(stack, len(requests), timeout=args.timeout, since=started)
        retried = stack.count("SELECT count(*) FROM webhook_events WHERE attempts > 1")
        finished = time.perf_counter() - started
        alive = [w.poll() is None for w in stack.workers]
        verdict.check("every webhook answered 200 on the first try", all(r.status == 200 for r in results),
                      harness.status_histogram(results))
        verdict.check("webhooks arrived while Redis was down", len(during) > 0, f"{len(during)}")
        if args.copies > 1:
            verdict.check("the copies raced: events failed and needed another attempt", retried > 0,
                          f"{retried} events took more than one attempt; {timeline['retries_waiting']} retries "
                          "were waiting when Redis stopped")
        if not verdict.check("workers survived the outage without a restart", all(alive),
                             f"{sum(alive)} of {len(alive)} alive"):
            print(stack.worker_logs_tail())
        verdict.check("every event processed after Redis returned (a failed one waiting for its retry is not done)",
                      settled.done and settled.failed_final == 0,
                      f"done {finished - timeline['up']:.0f} s after Redis returned; {settled.describe()}")
        evidence.check_stored_once(verdict, stack.database_url,
                                   [f"wamid.drill.redis.{i}" for i in range(args.messages)])
        evidence.check_inboxes(verdict, stack.database_url, harness.addressed_to(requests))
    finally:
        stack.close()
    verdict.report()


if __name__ == "__main__":
    main()

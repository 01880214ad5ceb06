"""Drill: SIGKILL a worker 20 times during a 2,000-message burst; exactly 2,000 messages, none twice.

    python -m bench.drills.kill_worker [--messages 2000] [--kills 20]

Two workers (`python worker.py`, every queue) serve a portal under gunicorn on a fresh database
and a private redis-server. While the burst is posted, a worker is killed with SIGKILL (a random
one of the two, at a random moment once the workers have processed ten more events, so the kill
lands mid-job rather than on a booting worker) and a new one started in its place, as a process
supervisor would. A killed job's transaction never commits, so its event stays pending until the
workers' scheduled sweep re-enqueues it (events pending for over 60 s), which the drill waits for.
Prints PASS/FAIL per check and exits 1 on a FAIL.
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


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="at most this many seconds between a worker processing and its kill")
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
        requests = harness.text_burst("drill.kill", args.messages, customers=700)
        kills: list[float] = []
        unprocessed_at_kill: list[int] = []
        started = time.perf_counter()

        def processed() -> int:
            return stack.count("SELECT count(*) FROM webhook_events WHERE status = 'processed'")

        def killer() -> None:
            rng = random.Random(20)
            while len(kills) < args.kills:
                # Kill only once the workers are processing again, at a random moment, so kills
                # land inside jobs rather than on a worker still booting.
                mark = processed()
                harness.wait_for(lambda mark=mark: processed() >= mark + 10, timeout=60, interval=0.05,
                                 what="the workers to process again")
                time.sleep(rng.uniform(0, args.interval))
                victim = stack.workers.pop(rng.randrange(len(stack.workers)))
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                victims.append(victim.pid)
                kills.append(time.perf_counter() - started)
                unprocessed_at_kill.append(args.messages - processed())
                stack.start_worker()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        # Meta retries what is not answered 200; the web side is not under test here but must hold.
        results = harness.post_all(stack.base_url, "/webhooks/whatsapp", requests, concurrency=2, rate=50)
        posted_at = time.perf_counter() - started
        thread.join()
        pending_after_kills = unprocessed_at_kill[-1] if unprocessed_at_kill else 0
        print(f"  burst posted in {posted_at:.1f} s; {len(kills)} SIGKILLs between {kills[0]:.1f} s and "
              f"{kills[-1]:.1f} s; {pending_after_kills} of the burst's events not yet processed at the last kill",
              flush=True)
        done = stack.wait_until_processed(args.messages, timeout=args.timeout)
        finished_at = time.perf_counter() - started
        messages = stack.count("SELECT count(*) FROM messages")
        distinct = stack.count("SELECT count(DISTINCT external_id) FROM messages")
        expected_ids = stack.count(
            "SELECT count(*) FROM messages WHERE external_id LIKE 'wamid.drill.kill.%'")
        failed = stack.count("SELECT count(*) FROM webhook_events WHERE status = 'failed'")
        verdict.check("every webhook answered 200", all(r.status == 200 for r in results),
                      harness.status_histogram(results))
        verdict.check(f"{args.kills} workers killed with SIGKILL while processing the burst",
                      len(kills) == args.kills and pending_after_kills > 0,
                      f"{pending_after_kills} events not yet processed at the last kill")
        verdict.check("every event processed", done and failed == 0,
                      f"after {finished_at:.0f} s, {failed} failed")
        verdict.check(f"exactly {args.messages} messages", messages == args.messages == expected_ids,
                      f"{messages} stored")
        verdict.check("no message twice", distinct == messages, f"{distinct} distinct WhatsApp ids")
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

"""Bench 1b: inbound processing, webhook to stored message, with 1, 2 and 4 workers, against no-op jobs.

    python -m bench.inbound [--messages 2000] [--workers 1 2 4]

For each worker count: N signed text-message webhooks are POSTed to the portal under gunicorn
(no worker running, so they wait in queue `webhooks`); the queue is set aside, `python worker.py
webhooks` is started that many times, and once every worker has registered the queue is put back
in one atomic RENAME. The clock runs from there until every event is processed and N messages
exist. The same is then done with N no-op jobs (bench.noop.noop) on the same worker class.
Senders repeat (N/3 customers), so conversations are both opened and reused. Prints messages/s,
jobs/s, the ratio, the CPU time per message of the workers and of their PostgreSQL backends (what
the machine's other load disturbs least), and the peak RSS of a worker process.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from redis import Redis
from rq import Queue, Worker

from bench import harness

QUEUE = "webhooks"
HELD = "bench:held-webhooks"


def webhook_requests(count: int, round_no: int) -> list[harness.Request]:
    return harness.text_burst(
        f"bench.inbound.{round_no}", count, customers=max(1, count // 3), first_sender=round_no * 100_000
    )


def start_workers(count: int, env: dict, redis: Redis, rss: harness.RssSampler, log_dir: Path | None = None) -> list:
    """Start `count` workers on the held queue; return once all have registered with Redis. With
    `log_dir`, each worker logs to a file of its own there."""
    before = {w.name for w in Worker.all(connection=redis)}
    workers = [harness.start_worker(env, QUEUE, log_path=log_dir / f"worker-{len(list(log_dir.glob('worker-*')))}.log"
                                    if log_dir else None) for _ in range(count)]
    for proc in workers:
        rss.watch("worker", proc.pid)
    harness.wait_for(lambda: len({w.name for w in Worker.all(connection=redis)} - before) >= count,
                     timeout=60, what=f"{count} workers to register")
    return workers


def timed_release(redis: Redis, done, procs: list, timeout: float = 600) -> tuple[float, float]:
    """Put the held jobs back on the queue at once; (seconds, worker CPU seconds) until done()."""
    pids = [proc.pid for proc in procs]
    cpu_before = harness.cpu_seconds(pids)
    start = time.perf_counter()
    redis.rename(HELD, f"rq:queue:{QUEUE}")
    harness.wait_for(done, timeout=timeout, interval=0.05, what="the queue to drain")
    return time.perf_counter() - start, harness.cpu_seconds(pids) - cpu_before


def process_webhooks(count: int, workers: int, env: dict, database_url: str, redis: Redis,
                     rss: harness.RssSampler, round_no: int) -> tuple[float, float, float]:
    """(messages per second, worker CPU ms per message, PostgreSQL CPU ms per message)"""
    port = harness.free_port()
    web = harness.start_gunicorn("wsgi:app", env, port, workers=2)
    try:
        results = harness.post_all(f"http://127.0.0.1:{port}", "/webhooks/whatsapp",
                                   webhook_requests(count, round_no), concurrency=2)
    finally:
        harness.stop_process(web)
    refused = sum(r.status != 200 for r in results)
    if refused:
        raise SystemExit(f"inbound: {refused} webhooks were not answered 200")
    redis.rename(f"rq:queue:{QUEUE}", HELD)
    procs = start_workers(workers, env, redis, rss)
    try:
        seconds, cpu = timed_release(redis, lambda: harness.scalar(
            database_url, "SELECT count(*) FROM webhook_events WHERE status = 'pending'") == 0, procs)
        # The workers' database connections opened with their first job, so their backends' CPU
        # time is this run's.
        pg_cpu = harness.cpu_seconds(harness.backend_pids(database_url))
    finally:
        for proc in procs:
            harness.stop_process(proc)
    stored = harness.scalar(database_url, "SELECT count(*) FROM messages")
    failed = harness.scalar(database_url, "SELECT count(*) FROM webhook_events WHERE status = 'failed'")
    if stored != count or failed:
        raise SystemExit(f"inbound: expected {count} messages, found {stored} ({failed} events failed)")
    return count / seconds, cpu / count * 1000, pg_cpu / count * 1000


def process_noops(count: int, workers: int, env: dict, redis: Redis, rss: harness.RssSampler) -> tuple[float, float]:
    """(jobs per second, worker CPU ms per job)"""
    held = Queue(QUEUE, connection=redis)
    with redis.pipeline() as pipe:
        for i in range(count):
            held.enqueue_call("bench.noop.noop", args=(i,), pipeline=pipe)
        pipe.execute()
    redis.rename(f"rq:queue:{QUEUE}", HELD)
    procs = start_workers(workers, env, redis, rss)
    try:
        seconds, cpu = timed_release(
            redis, lambda: held.count == 0 and held.started_job_registry.count == 0, procs)
        return count / seconds, cpu / count * 1000
    finally:
        for proc in procs:
            harness.stop_process(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    print(f"inbound: {harness.machine()}")
    redis_server = harness.RedisServer().start()
    redis = Redis.from_url(redis_server.url)
    database_url = harness.create_database("atende_bench_inbound")
    try:
        harness.migrate(database_url, redis_server.url)
        env = harness.portal_env(database_url, redis_server.url)
        rows = []
        with harness.RssSampler() as rss:
            for round_no, workers in enumerate(args.workers):
                harness.truncate_all(database_url)
                redis.flushdb()
                messages_rate, message_cpu, pg_cpu = process_webhooks(
                    args.messages, workers, env, database_url, redis, rss, round_no)
                redis.flushdb()
                noop_rate, noop_cpu = process_noops(args.messages, workers, env, redis, rss)
                rows.append((workers, messages_rate, noop_rate))
                print(f"  {workers} worker(s): {messages_rate:6.0f} messages/s   no-op jobs {noop_rate:6.0f} jobs/s   "
                      f"ratio {messages_rate / noop_rate:.0%}   CPU per message: worker {message_cpu:.1f} ms, "
                      f"PostgreSQL {pg_cpu:.1f} ms; per no-op job: worker {noop_cpu:.1f} ms", flush=True)
        print(f"{args.messages} webhooks (one text message each) per run:")
        for workers, messages_rate, noop_rate in rows:
            harness.line(f"{workers} worker(s) messages/s | no-op jobs/s | ratio",
                         f"{messages_rate:.0f} | {noop_rate:.0f} | {messages_rate / noop_rate:.0%}")
        two = next((m for w, m, _ in rows if w == 2), None)
        if two is not None:
            harness.line("2 workers (target >= 250 msg/s)", f"{two:.0f}  {'PASS' if two >= 250 else 'MISS'}")
        harness.line("peak RSS of a worker process", f"{rss.peaks.get('worker', 0):.0f} MiB")
    finally:
        redis_server.close()
        harness.drop_database(database_url)


if __name__ == "__main__":
    main()

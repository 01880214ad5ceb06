"""Bench 1a: webhook ingest under gunicorn (2 workers) on PostgreSQL, against the bare baseline.

    python -m bench.ingest [--requests 2000] [--concurrency 4] [--rounds 5]

Both apps run under the same gunicorn command on the same database (a fresh `atende_bench_ingest`)
and a private redis-server; no RQ worker runs, so only the web side is measured. Each round runs
the baseline, then the portal; the figures are the median round. Prints requests/s, p50 and p99
latency as the load generator (threads, one connection each, on this machine) sees them, the
ratio portal/baseline per round (the median round's ratio is the verdict), the gunicorn
workers' CPU time per request, and the peak RSS of a gunicorn worker.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

from redis import Redis

from bench import harness

PATH = "/webhooks/whatsapp"
TARGETS = {"baseline": "bench.baseline_app:app", "portal": "wsgi:app"}


@dataclass
class Round:
    rate: float
    p50_ms: float
    p99_ms: float
    non_200: int
    cpu_ms: float  # gunicorn workers' CPU per request


def requests_for(count: int, offset: int) -> list[harness.Request]:
    return [
        harness.signed_request(harness.text_message(
            sender=(offset + i) % 5000, wamid=f"wamid.bench.ingest.{offset + i}",
            body=f"Bom dia! Vocês entregam em Niterói? pedido {offset + i}"))
        for i in range(count)
    ]


def run_round(spec: str, env: dict, requests: list[harness.Request], warmup: list[harness.Request],
              concurrency: int, rss: harness.RssSampler, label: str) -> Round:
    port = harness.free_port()
    server = harness.start_gunicorn(spec, env, port, workers=2)
    rss.watch(label, server.pid, children_only=True)
    base = f"http://127.0.0.1:{port}"
    try:
        harness.post_all(base, PATH, warmup, concurrency)
        workers = harness.children(server.pid)
        cpu_before = harness.cpu_seconds(workers)
        start = time.perf_counter()
        results = harness.post_all(base, PATH, requests, concurrency)
        elapsed = time.perf_counter() - start
        cpu = harness.cpu_seconds(workers) - cpu_before
    finally:
        harness.stop_process(server)
    latencies = [r.seconds * 1000 for r in results]
    return Round(
        rate=len(results) / elapsed,
        p50_ms=harness.percentile(latencies, 50),
        p99_ms=harness.percentile(latencies, 99),
        non_200=sum(r.status != 200 for r in results),
        cpu_ms=cpu / len(results) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"ingest: {harness.machine()}")
    redis = harness.RedisServer().start()
    database_url = harness.create_database("atende_bench_ingest")
    try:
        harness.migrate(database_url, redis.url)
        env = harness.portal_env(database_url, redis.url)
        rounds: dict[str, list[Round]] = {name: [] for name in TARGETS}
        with harness.RssSampler() as rss:
            for n in range(args.rounds):
                for name, spec in TARGETS.items():
                    offset = (n * 2 + list(TARGETS).index(name)) * (args.requests + 200)
                    warmup = requests_for(200, offset)
                    measured = requests_for(args.requests, offset + 200)
                    result = run_round(spec, env, measured, warmup, args.concurrency, rss, name)
                    rounds[name].append(result)
                    print(f"  round {n + 1} {name:<8} {result.rate:7.0f} req/s  p50 {result.p50_ms:5.1f} ms  "
                          f"p99 {result.p99_ms:6.1f} ms  CPU {result.cpu_ms:4.1f} ms/request  non-200: {result.non_200}",
                          flush=True)
                    harness.truncate_all(database_url)
                    Redis.from_url(redis.url).flushdb()
        print(f"median of {args.rounds} rounds, {args.requests} signed POSTs each, {args.concurrency} connections:")
        medians = {}
        for name, results in rounds.items():
            median = sorted(results, key=lambda r: r.rate)[len(results) // 2]
            medians[name] = median
            harness.line(f"{name} requests/s", f"{median.rate:.0f}")
            harness.line(f"{name} latency p50 / p99", f"{median.p50_ms:.1f} ms / {median.p99_ms:.1f} ms")
            harness.line(f"{name} gunicorn CPU per request", f"{median.cpu_ms:.1f} ms")
            harness.line(f"{name} peak RSS of a gunicorn worker", f"{rss.peaks.get(name, 0):.0f} MiB")
        # Each round runs the baseline and the portal back to back, so the other load on the machine
        # is alike within a round: the median of the per-round ratios is the figure to trust.
        ratios = sorted(p.rate / b.rate for b, p in zip(rounds["baseline"], rounds["portal"], strict=True))
        ratio = ratios[len(ratios) // 2]
        harness.line("portal / baseline, per round", ", ".join(f"{r:.0%}" for r in ratios))
        harness.line("portal / baseline, median round",
                     f"{ratio:.0%}  (target >= 80%: {'PASS' if ratio >= 0.8 else 'MISS'})")
        cpu_ratio = medians["baseline"].cpu_ms / medians["portal"].cpu_ms
        harness.line("baseline / portal CPU per request", f"{cpu_ratio:.0%}  (the ratio on CPU, less sensitive to load)")
        harness.line("spread of portal rounds (req/s)",
                     f"{min(r.rate for r in rounds['portal']):.0f} .. {max(r.rate for r in rounds['portal']):.0f}"
                     f" (stdev {statistics.pstdev([r.rate for r in rounds['portal']]):.0f})")
    finally:
        redis.close()
        harness.drop_database(database_url)


if __name__ == "__main__":
    main()

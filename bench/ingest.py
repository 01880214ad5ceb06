"""Bench 1a: webhook ingest under gunicorn (2 workers) on PostgreSQL, against the bare baseline.

    python -m bench.ingest [--rounds 5] [--seconds 8] [--connections 16]

Both apps run under the same gunicorn command, side by side on the same database (a private
PostgreSQL cluster with stock settings) and a private redis-server; no RQ worker runs, so only the web side is
measured. The load generator is wrk (Debian package `wrk`, C, event loop: it is not what limits
the rate), with 16 connections posting signed text-message webhooks (`bench/ingest.lua`).
Rounds alternate: each pair runs the baseline and the portal for --seconds each, back to back,
the first of the pair swapping every round, so the other load on the shared machine is alike
within a pair. Prints per round the rate, latency percentiles as wrk sees them and the gunicorn
workers' CPU per request; then the median of the per-pair rate ratios beside the ratio of the
median CPU per request, and the peak RSS of a gunicorn worker.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import harness

PATH = "/webhooks/whatsapp"
TARGETS = {"baseline": "bench.baseline_app:app", "portal": "wsgi:app"}
SCRIPT = Path(__file__).with_name("ingest.lua")


@dataclass
class Round:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    cpu_ms: float  # gunicorn workers' CPU per request


def write_bodies(path: Path, count: int, tag: str) -> None:
    """`count` signed webhooks, each a new wamid from one of 5,000 customers, for bench/ingest.lua."""
    with path.open("w") as out:
        for i in range(count):
            request = harness.signed_request(harness.text_message(
                sender=i % 5000, wamid=f"wamid.bench.ingest.{tag}.{i}",
                body=f"Bom dia! Vocês entregam em Niterói? pedido {i}"))
            out.write(f"{request.headers['X-Hub-Signature-256']} {request.body.decode()}\n")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, bodies: Path, seconds: int, connections: int) -> tuple[float, float, float, int, int]:
    """Run wrk; returns requests/s, p50 and p99 in ms, requests completed and non-2xx answers."""
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(SCRIPT),
         f"http://127.0.0.1:{port}", "--", str(bodies), PATH],
        capture_output=True, text=True, check=True,
    )
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(*re.search(r"\s50%\s+([\d.]+)(us|ms|s)", out).groups())
    p99 = _ms(*re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups())
    completed = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(non_2xx.group(1)) if non_2xx else 0
    if errors:
        failed += sum(int(n) for n in errors.groups())
    return rate, p50, p99, completed, failed


def run_round(server, port: int, bodies: Path, seconds: int, connections: int) -> Round:
    workers = harness.children(server.pid)
    cpu_before = harness.cpu_seconds(workers)
    rate, p50, p99, completed, failed = wrk(port, bodies, seconds, connections)
    cpu = harness.cpu_seconds(workers) - cpu_before
    return Round(rate, p50, p99, completed, failed, cpu / max(completed, 1) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("ingest: wrk is not installed (apt-get install wrk)")
    print(f"ingest: {harness.machine()}")
    postgres = harness.PostgresServer().start()
    redis = harness.RedisServer().start()
    database_url = harness.create_database("atende_bench_ingest", postgres.url)
    folder = Path(tempfile.mkdtemp(prefix="atende-bench-ingest-"))
    servers = {}
    try:
        harness.migrate(database_url, redis.url)
        env = harness.portal_env(database_url, redis.url)
        for name, spec in TARGETS.items():
            port = harness.free_port()
            servers[name] = (harness.start_gunicorn(spec, env, port, workers=2), port)
            write_bodies(folder / f"{name}.txt", 4000, name)
        rounds: dict[str, list[Round]] = {name: [] for name in TARGETS}
        loads = []
        with harness.RssSampler() as rss:
            for name, (server, port) in servers.items():
                rss.watch(name, server.pid, children_only=True)
                wrk(port, folder / f"{name}.txt", 2, args.connections)  # warm-up: connections, caches
            for n in range(args.rounds):
                order = list(TARGETS) if n % 2 == 0 else list(reversed(TARGETS))
                for name in order:
                    server, port = servers[name]
                    result = run_round(server, port, folder / f"{name}.txt", args.seconds, args.connections)
                    rounds[name].append(result)
                    loads.append(os.getloadavg()[0])
                    print(f"  round {n + 1} {name:<8} {result.rate:7.0f} req/s  p50 {result.p50_ms:5.1f} ms  "
                          f"p99 {result.p99_ms:6.1f} ms  CPU {result.cpu_ms:4.2f} ms/request  "
                          f"failed: {result.non_2xx}  load {loads[-1]:.1f}", flush=True)
        print(f"{args.rounds} rounds of {args.seconds} s per app, wrk with {args.connections} connections, "
              f"load average {min(loads):.1f} to {max(loads):.1f}:")
        medians = {}
        for name, results in rounds.items():
            medians[name] = statistics.median(r.cpu_ms for r in results)
            harness.line(f"{name} requests/s, median (min .. max)",
                         f"{statistics.median(r.rate for r in results):.0f} "
                         f"({min(r.rate for r in results):.0f} .. {max(r.rate for r in results):.0f})")
            harness.line(f"{name} latency p50 / p99, median round",
                         f"{statistics.median(r.p50_ms for r in results):.1f} ms / "
                         f"{statistics.median(r.p99_ms for r in results):.1f} ms")
            harness.line(f"{name} gunicorn CPU per request, median", f"{medians[name]:.2f} ms")
            harness.line(f"{name} peak RSS of a gunicorn worker", f"{rss.peaks.get(name, 0):.0f} MiB")
            harness.line(f"{name} failed requests", f"{sum(r.non_2xx for r in results)}")
        ratios = sorted(p.rate / b.rate for b, p in zip(rounds["baseline"], rounds["portal"], strict=True))
        ratio = statistics.median(ratios)
        cpu_ratio = medians["baseline"] / medians["portal"]
        harness.line("portal / baseline rate, per pair", ", ".join(f"{r:.0%}" for r in ratios))
        harness.line("portal / baseline rate, median pair",
                     f"{ratio:.0%}  (target >= 90%: {'PASS' if ratio >= 0.9 else 'MISS'})")
        harness.line("baseline / portal CPU per request",
                     f"{cpu_ratio:.0%}  (target >= 90%: {'PASS' if cpu_ratio >= 0.9 else 'MISS'})")
    finally:
        for server, _ in servers.values():
            harness.stop_process(server)
        redis.close()
        harness.drop_engines()
        postgres.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

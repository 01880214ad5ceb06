"""Bench: live updates (issue 16), webhook to every open tab.

    python -m bench.live [--clients 200] [--idle-clients 100] [--agents 10] [--rate 4] [--seconds 30]
                         [--burst 600]

The default server layout of scripts/run on a private redis-server and a bench database:
gunicorn (2 sync workers), one `python worker.py` and one stream server (`python -m portal.live`).
`--agents` agents sign in once each (the sign-in limits allow 20 per address); the SSE clients
share their session cookies, as tabs do, and every new conversation is in all of their scopes.

1. Ingest with no client: `--burst` webhooks POSTed by 8 threads as fast as they are answered.
2. Idle: `--idle-clients` streams open, nothing happening; CPU of the stream process over 20 s.
3. Latency: `--clients` streams open; webhooks at `--rate` per second for `--seconds`, each from a
   new customer; for each webhook and each client, the time from the webhook's 200 to that
   client's `message.created` event (matched by the contact's name), p50/p95/max, and how many
   deliveries never came.
4. Ingest with the clients connected (and hearing every event): the burst of step 1 again.
Peak RSS of the stream process over the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import re
import subprocess
import threading
import time

import psutil
import requests
from redis import Redis

from bench import harness

PASSWORD = "bench-live-password-42"
CREATE_AGENTS = """
import sys
from portal import create_app
from portal.extensions import db
from portal.models import Agent, Role
app = create_app()
with app.app_context():
    for i in range(int(sys.argv[1])):
        agent = Agent(name=f"Bench agent {i}", email=f"bench{i}@atende.example", role=Role.agent, active=True)
        agent.set_password(sys.argv[2])
        db.session.add(agent)
    db.session.commit()
"""


def sign_in(base_url: str, email: str) -> str:
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = session.post(f"{base_url}/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302, f"sign-in of {email} answered {answer.status_code}"
    return session.cookies["session"]


class Clients:
    """SSE clients on one asyncio loop in a thread of their own; arrivals[title] = [time per client].
    Runs in a process of its own (ClientProcess), so parsing the events never slows the posting
    threads through the GIL."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.ready = 0
        self.arrivals: dict[str, list[float]] = {}
        self.tasks: list[asyncio.Future] = []
        self.stage: dict[int, str] = {}

    def open(self, cookies: list[str]) -> None:
        for n, cookie in enumerate(cookies, len(self.tasks)):
            self.tasks.append(asyncio.run_coroutine_threadsafe(self._client(n, cookie), self.loop))
        try:
            harness.wait_for(lambda: self.ready >= len(self.tasks), timeout=60, what="streams ready")
        except TimeoutError:
            failed = [task.exception() for task in self.tasks if task.done() and task.exception()]
            stuck = [stage for stage in self.stage.values() if stage != "ready"]
            raise TimeoutError(f"{self.ready} of {len(self.tasks)} streams ready; first failures: {failed[:3]}; "
                               f"stuck at: {stuck[:5]}") from None

    async def _client(self, n: int, cookie: str) -> None:
        self.stage[n] = "connecting"
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.stage[n] = "sent"
        writer.write(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nCookie: session={cookie}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        status = await reader.readline()
        self.stage[n] = "status"
        assert b" 200 " in status, status
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        buffer = b""
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                return
            buffer += (await reader.readexactly(size + 2))[:-2]
            self.stage[n] = f"body {buffer[:60]!r}" if self.stage[n] != "ready" else "ready"
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                self._event(n, block, time.monotonic())

    def _event(self, n: int, block: bytes, at: float) -> None:
        fields = dict(line.split(": ", 1) for line in block.decode().splitlines() if not line.startswith(":")
                      and ": " in line)
        if fields.get("event") == "ready":
            self.ready += 1
            self.stage[n] = "ready"
        elif fields.get("event") == "change" and "message.created" in fields.get("data", ""):
            data = json.loads(fields["data"])
            if data.get("type") == "message.created":
                self.arrivals.setdefault(data.get("title", ""), []).append(at)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


class ClientProcess:
    """Clients in a child process, driven over a pipe; time.monotonic() is the same clock in both."""

    def __init__(self, port: int) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=self._serve, args=(child, port), daemon=True)
        self.process.start()

    @staticmethod
    def _serve(conn, port: int) -> None:
        clients = Clients(port)
        while True:
            command, arg = conn.recv()
            if command == "open":
                clients.open(arg)
                conn.send(clients.ready)
            elif command == "delivered":
                conn.send(sum(len(clients.arrivals.get(title, ())) for title in arg))
            elif command == "arrivals":
                conn.send({title: clients.arrivals.get(title, []) for title in arg})
            else:
                clients.close()
                conn.send(None)
                return

    def call(self, command: str, arg=None):
        self.conn.send((command, arg))
        return self.conn.recv()

    def close(self) -> None:
        if self.process.is_alive():
            self.call("close")
        self.process.join(10)


def post_steadily(base_url: str, rate: float, seconds: float, first_sender: int) -> dict[str, float]:
    """One webhook per 1/rate s, each from a new customer; the time each one's 200 arrived."""
    parts = requests.utils.urlparse(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    answered: dict[str, float] = {}
    start = time.monotonic()
    for i in range(int(rate * seconds)):
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        sender = first_sender + i
        request = harness.signed_request(harness.text_message(sender, f"wamid.bench.live.{sender}", "Olá?"))
        conn.request("POST", "/webhooks/whatsapp", body=request.body, headers=request.headers)
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            answered[f"Bench {sender}"] = time.monotonic()
    conn.close()
    return answered


def ingest_rate(base_url: str, count: int, first_sender: int) -> float:
    burst = [harness.signed_request(harness.text_message(first_sender + i, f"wamid.bench.live.{first_sender + i}",
                                                         "Olá?")) for i in range(count)]
    began = time.perf_counter()
    results = harness.post_all(base_url, "/webhooks/whatsapp", burst, concurrency=8)
    elapsed = time.perf_counter() - began
    assert all(r.status == 200 for r in results), harness.status_histogram(results)
    return count / elapsed


def wait_until_processed(database_url: str, messages: int) -> None:
    harness.wait_for(lambda: harness.scalar(database_url, "SELECT count(*) FROM messages") >= messages,
                     timeout=300, interval=0.5, what=f"{messages} messages stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--idle-clients", type=int, default=100)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--rate", type=float, default=4.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=600)
    args = parser.parse_args()
    print(f"live: {harness.machine()}", flush=True)
    redis_server = harness.RedisServer().start()
    database_url = harness.create_database("atende_bench_live")
    clients: ClientProcess | None = None
    try:
        harness.migrate(database_url, redis_server.url)
        web_port, stream_port = harness.free_port(), harness.free_port()
        base_url = f"http://127.0.0.1:{web_port}"
        env = harness.portal_env(database_url, redis_server.url, PUBLIC_BASE_URL=base_url,
                                 EVENTS_URL=f"http://127.0.0.1:{stream_port}/events")
        subprocess.run([harness.PYTHON, "-c", CREATE_AGENTS, str(args.agents), PASSWORD], cwd=harness.ROOT, env=env,
                       check=True)
        harness.start_gunicorn("wsgi:app", env, web_port, workers=2)
        harness.start_worker(env)
        stream = harness.start_process([harness.PYTHON, "-m", "portal.live", "--port", str(stream_port)], env=env)
        harness.wait_for_port(stream_port)
        cookies = [sign_in(base_url, f"bench{i}@atende.example") for i in range(args.agents)]
        stored = 0

        with harness.RssSampler() as rss:
            rss.watch("stream", stream.pid)
            alone = ingest_rate(base_url, args.burst, first_sender=1_000_000)
            stored += args.burst
            wait_until_processed(database_url, stored)
            harness.line("1. ingest, no client", f"{alone:.0f} webhooks/s")

            clients = ClientProcess(stream_port)
            clients.call("open", [cookies[i % len(cookies)] for i in range(args.idle_clients)])
            time.sleep(3)
            process = psutil.Process(stream.pid)
            before = sum(process.cpu_times()[:2])
            time.sleep(20)
            idle_cpu = (sum(process.cpu_times()[:2]) - before) / 20
            harness.line(f"2. CPU of the stream process, {args.idle_clients} idle clients",
                         f"{idle_cpu:.2%} of one core  {'PASS' if idle_cpu <= 0.01 else 'MISS'} (<= 1%)")

            clients.call("open", [cookies[i % len(cookies)] for i in range(args.clients - args.idle_clients)])
            answered = post_steadily(base_url, args.rate, args.seconds, first_sender=2_000_000)
            stored += len(answered)
            expected = len(answered) * args.clients
            try:
                harness.wait_for(lambda: clients.call("delivered", list(answered)) >= expected,
                                 timeout=30, interval=0.5, what="every event delivered")
            except Exception as exc:  # reported below as deliveries missing
                print(f"  ({exc})")
            arrivals = clients.call("arrivals", list(answered))
            latencies = [at - answered[title] for title in answered for at in arrivals[title]]
            p50, p95 = harness.percentile(latencies, 50), harness.percentile(latencies, 95)
            harness.line(f"3. webhook 200 -> {args.clients} clients, {args.rate:g}/s for {args.seconds:g} s",
                         f"{len(latencies)} of {expected} deliveries")
            harness.line("   p50 | p95 | max",
                         f"{p50 * 1000:.0f} ms | {p95 * 1000:.0f} ms | {max(latencies) * 1000:.0f} ms  "
                         f"{'PASS' if p50 <= 0.3 and p95 <= 1.0 else 'MISS'} (p50 <= 300 ms, p95 <= 1 s)")
            wait_until_processed(database_url, stored)

            with_clients = ingest_rate(base_url, args.burst, first_sender=3_000_000)
            stored += args.burst
            harness.line(f"4. ingest, {args.clients} clients connected", f"{with_clients:.0f} webhooks/s "
                         f"({with_clients / alone:.0%} of no client)  "
                         f"{'PASS' if with_clients >= 0.9 * alone else 'MISS'} (>= 90%)")
            wait_until_processed(database_url, stored)
        harness.line("peak RSS of the stream process", f"{rss.peaks.get('stream', 0):.0f} MiB  "
                     f"{'PASS' if rss.peaks.get('stream', 0) <= 150 else 'MISS'} (<= 150 MB)")
        redis = Redis.from_url(redis_server.url)
        harness.line("live events in the Redis stream", f"{redis.xlen('atende:live:events')}")
        print(f"live: done; {harness.machine()}", flush=True)
    finally:
        if clients is not None:
            clients.close()
        redis_server.close()
        harness.drop_database(database_url)


if __name__ == "__main__":
    main()

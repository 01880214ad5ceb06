"""/metrics under gunicorn with two workers and PROMETHEUS_MULTIPROC_DIR (README, "Metrics and
health"): the HTTP histogram a scrape returns is the sum over both workers, whichever answers it."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _auth_login_count(port: int) -> float:
    status, body = _get(port, "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    return sum(
        s.value for s in families["atende_http_request_duration_seconds"].samples
        if s.name.endswith("_count") and s.labels == {"group": "auth", "method": "GET", "status": "200"}
    )


@pytest.fixture
def gunicorn_two_workers(tmp_path, redis_url):
    database = tmp_path / "atende.db"
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": redis_url,
           "ATENDE_ENV": "development", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env.pop("METRICS_TOKEN", None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", "127.0.0.1:0",
             "--workers", "2", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        port = _wait_for_port(proc, log)
        yield proc, port, metrics_dir
    finally:
        proc.terminate()
        proc.wait(30)


def _wait_for_port(proc: subprocess.Popen, log: Path) -> int:
    """gunicorn binds port 0 to a free port and logs it ("Listening at: http://127.0.0.1:PORT")."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        for line in log.read_text().splitlines():
            if "Listening at: http://127.0.0.1:" in line:
                port = int(line.rsplit(":", 1)[1].split()[0])
                try:
                    if _get(port, "/login")[0] == 200:
                        return port
                except OSError:
                    pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not start:\n{log.read_text()}")


def _worker_pids(proc: subprocess.Popen) -> set[int]:
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def test_the_http_histogram_adds_up_both_workers(gunicorn_two_workers):
    proc, port, metrics_dir = gunicorn_two_workers
    before = _auth_login_count(port)
    workers = _worker_pids(proc)
    assert len(workers) == 2
    sent = 0
    # Concurrent requests until each worker has answered some (each writes its own histogram file).
    with ThreadPoolExecutor(8) as pool:
        while sent < 400:
            statuses = list(pool.map(lambda _: _get(port, "/login")[0], range(16)))
            assert statuses == [200] * 16
            sent += 16
            files = {int(p.stem.rsplit("_", 1)[1]) for p in metrics_dir.glob("histogram_*.db")}
            if workers <= files:
                break
    assert workers <= files, f"only {files & workers} of {workers} answered {sent} requests"

    # Each scrape is answered by one worker; every one reports all requests of both.
    for _ in range(4):
        assert _auth_login_count(port) - before == sent

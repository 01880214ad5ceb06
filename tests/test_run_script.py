"""scripts/run, as a newcomer uses it: other ports, a clear line when one is taken, and Ctrl+C
stops everything without a traceback (the worker stops before the embedded Redis)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(instance: Path) -> dict[str, str]:
    drop = {"REDIS_URL", "DATABASE_URL", "ATENDE_PORT", "ATENDE_SIMULATOR_PORT", "ATENDE_EVENTS_PORT", "EVENTS_URL",
            "PUBLIC_BASE_URL", "WHATSAPP_API_BASE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "ATENDE_INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1", "ATENDE_ENV": "development"}


def test_a_taken_port_is_refused_with_what_to_do(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["scripts/run", "--port", str(port), "--simulator-port", str(_free_port()), "--events-port", str(_free_port())],
            cwd=ROOT, env=_env(tmp_path / "instance"), capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port} (the web app) is already in use" in result.stderr
    assert "scripts/run --port" in result.stderr and "ATENDE_PORT=" in result.stderr
    assert not (tmp_path / "instance").exists()


def test_runs_on_other_ports_and_ctrl_c_stops_everything_quietly(tmp_path):
    port, simulator_port, events_port = _free_port(), _free_port(), _free_port()
    instance = tmp_path / "instance"
    log = tmp_path / "run.log"
    env = {**_env(instance), "ATENDE_PORT": str(port), "ATENDE_SIMULATOR_PORT": str(simulator_port),
           "ATENDE_EVENTS_PORT": str(events_port)}
    with log.open("w") as out:
        # A session of its own stands in for the terminal: Ctrl+C signals its foreground group.
        run = subprocess.Popen(["scripts/run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        assert requests.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200, log.read_text()
        assert requests.post(f"http://127.0.0.1:{simulator_port}/_sim/reset", timeout=5).status_code < 500
        assert requests.get(f"http://127.0.0.1:{events_port}/events", timeout=5).status_code == 401  # the stream server
        time.sleep(2)  # the worker is up and listening on Redis
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:  # the script's own cleanup stops the programs it started
            os.killpg(run.pid, signal.SIGTERM)
            try:
                run.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
    output = log.read_text()
    assert "Traceback" not in output, output
    assert "atende: stopped" in output
    assert not (instance / "redis.sock").exists()
    with socket.socket() as s:  # the web app let go of its port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_gunicorn_reads_the_checkouts_config_and_opens_no_shared_control_socket(monkeypatch):
    from gunicorn.app.wsgiapp import WSGIApplication

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("sys.argv", ["gunicorn", "wsgi:app"])
    cfg = WSGIApplication().cfg
    assert cfg.control_socket_disable is True

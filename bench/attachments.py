"""Attachments: a 10 MB document uploaded through the REST API and sent by a worker to the Graph
API simulator, on a private PostgreSQL cluster and redis-server.

    python -m bench.attachments [--size-mb 10] [--uploads 5]

Measures, for each upload, how much the gunicorn worker that took it grew (its RSS sampled every
10 ms, peak minus what it had before: the file must be streamed to disk, never held whole, let
alone twice), the web workers' CPU per upload, the time until the message is `sent`, and the
RQ worker's CPU and RSS growth per send (its upload to the Graph API is streamed too). The verdict
is the issue's bound: the web process grows by at most 20 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psutil
import requests

from bench import harness
from bench.drills.outbound import Simulator

LIMIT_MB = 20.0


def seed(stack: harness.Stack) -> tuple[str, int]:
    """A supervisor (who sees every inbox) with an API token, and a conversation whose customer
    wrote a minute ago."""
    from portal import create_app
    from portal.extensions import db
    from portal.models import Agent, Contact, Conversation, Inbox, Role, utcnow
    from portal.services import api_tokens

    app = create_app({"SQLALCHEMY_DATABASE_URI": stack.database_url, "REDIS_URL": stack.redis.url})
    with app.app_context():
        agent = Agent(name="Bench Agent", email="bench@atende.example", role=Role.supervisor, password_hash=None)
        contact = Contact(name="Cliente Bench", phone="+5511988887777", wa_id="5511988887777")
        inbox = db.session.query(Inbox).one()
        conversation = Conversation(contact=contact, inbox=inbox, last_inbound_at=utcnow() - timedelta(minutes=1))
        db.session.add_all([agent, contact, conversation])
        db.session.flush()
        _, token = api_tokens.create(agent, "bench")
        db.session.commit()
        conversation_id = conversation.id
        db.engine.dispose()
    return token, conversation_id


def document(size: int, folder: Path) -> Path:
    path = folder / "relatorio.pdf"
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        remaining = size - 9
        while remaining > 0:
            chunk = os.urandom(min(remaining, 1 << 20))
            out.write(chunk)
            remaining -= len(chunk)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=10)
    parser.add_argument("--uploads", type=int, default=5)
    args = parser.parse_args()
    print(f"attachments: {harness.machine()}")
    folder = Path(tempfile.mkdtemp(prefix="atende-bench-attachments-"))
    simulator = Simulator(folder / "simulator.log")
    stack = harness.Stack(
        "atende_bench_attachments", WHATSAPP_API_BASE=simulator.url, MEDIA_ROOT=str(folder / "media")
    )
    try:
        token, conversation_id = seed(stack)
        stack.start_web()
        worker = stack.start_worker()
        stack.wait_for_workers()
        path = document(int(args.size_mb * 2**20), folder)
        url = f"{stack.base_url}/api/v1/conversations/{conversation_id}/attachments"
        headers = {"Authorization": f"Bearer {token}"}
        web_pids = sorted(stack.web_worker_pids())

        def upload(name: str) -> tuple[dict, float]:
            with path.open("rb") as file:
                started = time.perf_counter()
                response = requests.post(url, headers=headers, files={"file": (name, file, "application/pdf")},
                                         data={"caption": "Relatório"}, timeout=120)
                elapsed = time.perf_counter() - started
            response.raise_for_status()
            return response.json(), elapsed

        def wait_sent(message_id: int) -> None:
            harness.wait_for(lambda: stack.count(f"SELECT count(*) FROM messages WHERE id = {message_id} "
                                                 "AND status = 'sent'") == 1, timeout=120, what="the send")

        # Warm-up: every import and connection of the web and worker processes exists before measuring.
        warmups = 2 * len(web_pids)
        for _ in range(warmups):
            message, _seconds = upload("aquecimento.pdf")
            wait_sent(message["id"])

        growth, upload_ms, send_ms, web_cpu, worker_cpu, worker_growth = [], [], [], [], [], []
        for n in range(args.uploads):
            before = {pid: psutil.Process(pid).memory_info().rss / 2**20 for pid in web_pids}
            worker_before = psutil.Process(worker.pid).memory_info().rss / 2**20
            cpu_web = harness.cpu_seconds(web_pids)
            cpu_worker = harness.cpu_seconds([worker.pid])
            sampler = harness.RssSampler(interval=0.01)
            for pid in web_pids:
                sampler.watch(str(pid), pid)
            sampler.watch("worker", worker.pid)
            with sampler:
                message, seconds = upload(f"relatorio-{n}.pdf")
                web_cpu.append(harness.cpu_seconds(web_pids) - cpu_web)
                started = time.perf_counter()
                wait_sent(message["id"])
                send_ms.append((time.perf_counter() - started) * 1000)
                worker_cpu.append(harness.cpu_seconds([worker.pid]) - cpu_worker)
            upload_ms.append(seconds * 1000)
            growth.append(max(sampler.peaks.get(str(pid), 0.0) - before[pid] for pid in web_pids))
            worker_growth.append(sampler.peaks.get("worker", 0.0) - worker_before)

        sends = simulator.sends()
        uploaded = [r for r in requests.get(f"{simulator.url}/_sim/requests", timeout=60).json()
                    if r["endpoint"] == "media_upload" and r.get("answer_status") == 200]
        print(f"  {args.uploads} uploads of {args.size_mb:g} MB (+ {warmups} warm-up), "
              f"{len(uploaded)} media uploads and {len(sends)} sends seen by the simulator")
        harness.line("web worker RSS growth per upload, max", f"{max(growth):.1f} MB (bound {LIMIT_MB:g} MB)")
        harness.line("web worker RSS growth per upload, median", f"{statistics.median(growth):.1f} MB")
        harness.line("upload request time, median", f"{statistics.median(upload_ms):.0f} ms")
        harness.line("web CPU per upload, median", f"{statistics.median(web_cpu) * 1000:.0f} ms")
        harness.line("queued to sent, median", f"{statistics.median(send_ms):.0f} ms")
        harness.line("worker CPU per send, median", f"{statistics.median(worker_cpu) * 1000:.0f} ms")
        harness.line("worker RSS growth per send, max", f"{max(worker_growth):.1f} MB")
        verdict = harness.Verdict("attachments")
        verdict.check(f"the web process grows by at most {LIMIT_MB:g} MB per {args.size_mb:g} MB upload",
                      max(growth) <= LIMIT_MB, f"max {max(growth):.1f} MB")
        verdict.check("every upload was sent once", len(sends) == args.uploads + warmups,
                      f"{len(sends)} sends")
        verdict.report()
    finally:
        stack.close()
        harness.stop_process(simulator.proc)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

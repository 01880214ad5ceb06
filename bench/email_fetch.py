"""Bench: fetch and store 1,000 mails from a local IMAP server (issue 20).

    python -m bench.email_fetch [--mails 1000]

A private Dovecot (portal.channels.email.localmail), a private PostgreSQL cluster and redis-server
(bench.harness); the support mailbox gets the mails by IMAP APPEND first (not measured): 80 % plain
text, 15 % HTML-only, 5 % with a 100 KB PDF. Then, in this process, two measured stages:

1. fetch: the fetch job (portal.channels.email.fetch.fetch_inbox): IMAP UID SEARCH and FETCH in
   batches, raw files written, receipts and pending events committed;
2. process: one in-process RQ worker drains the webhooks queue (the "email" processor: parse,
   contact, conversation, message, attachments as media rows).

Prints mails per second and this process's CPU per mail for each stage and in all, and Dovecot's
CPU per mail beside them.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import psutil

from bench import harness


def mails(count: int) -> list[bytes]:
    out = []
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 400
    for n in range(count):
        message = EmailMessage()
        message["From"] = f"Cliente {n % 300} <cliente{n % 300}@example.com>"
        message["To"] = "support@example.com"
        message["Subject"] = f"Pedido {n}"
        message["Message-ID"] = make_msgid(domain="example.com")
        if n % 20 == 0:
            message.set_content(f"Segue o comprovante do pedido {n}.")
            message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"pedido-{n}.pdf")
        elif n % 7 == 0:
            message.set_content(f"<p>Olá, sobre o <b>pedido {n}</b>:</p><img src='https://t.example/p.gif'>", subtype="html")
        else:
            message.set_content(f"Olá, o pedido {n} ainda não chegou.\n\nObrigada\n-- \nCliente")
        out.append(bytes(message))
    return out


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def dovecot_cpu(root_pid: int) -> float:
    total = 0.0
    try:
        root = psutil.Process(root_pid)
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    except psutil.Error:
        pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=1000)
    args = parser.parse_args()

    from portal.channels.email.localmail import PASSWORD, LocalMail

    mail = LocalMail(users=("support",)).start()
    pg = harness.PostgresServer().start()
    redis = harness.RedisServer().start()
    media = Path(tempfile.mkdtemp(prefix="atende-bench-media-"))
    try:
        mail.append_many("support", mails(args.mails))
        database_url = harness.create_database("atende_bench_email", pg.url)
        harness.migrate(database_url, redis.url)

        from portal import create_app
        from portal.channels.email import config, fetch
        from portal.extensions import db
        from portal.models import EmailReceipt, Message
        from portal.worker_process import build_worker

        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis.url, "MEDIA_ROOT": str(media)})
        with app.app_context():
            inbox = config.create_inbox(
                {"imap_host": "127.0.0.1", "imap_port": mail.imap_port, "imap_security": "none", "imap_user": "support",
                 "imap_password": PASSWORD, "smtp_host": "127.0.0.1", "smtp_port": mail.smtp_port,
                 "smtp_security": "none", "from_address": "support@example.com"},
                name="E-mail", by=None,
            )
            db.session.commit()
            dovecot_before = dovecot_cpu(mail.dovecot_pid)
            wall0, cpu0 = time.perf_counter(), cpu()
            fetched = fetch.fetch_inbox(inbox)
            wall1, cpu1 = time.perf_counter(), cpu()
            dovecot_after = dovecot_cpu(mail.dovecot_pid)
            build_worker(app, ("webhooks", "outbound")).work(burst=True, logging_level="WARNING")
            wall2, cpu2 = time.perf_counter(), cpu()
            receipts = db.session.query(EmailReceipt).count()
            messages = db.session.query(Message).filter(Message.message_type == "email").count()
        n = fetched
        print(f"mails fetched {fetched}, receipts {receipts}, e-mail messages {messages}")
        print(f"fetch:   {n / (wall1 - wall0):7.1f} mails/s  {1000 * (cpu1 - cpu0) / n:6.2f} ms CPU/mail (portal)"
              f"  {1000 * (dovecot_after - dovecot_before) / n:5.2f} ms CPU/mail (Dovecot)")
        print(f"process: {n / (wall2 - wall1):7.1f} mails/s  {1000 * (cpu2 - cpu1) / n:6.2f} ms CPU/mail")
        print(f"total:   {n / (wall2 - wall0):7.1f} mails/s  {1000 * (cpu2 - cpu0) / n:6.2f} ms CPU/mail")
        with app.app_context():
            db.engine.dispose()
    finally:
        mail.stop()
        redis.close()
        pg.close()
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()

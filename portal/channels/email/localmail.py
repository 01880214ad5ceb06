"""A real local mail pair for tests, benchmarks and `scripts/run`: a private Dovecot IMAP server
(Debian's dovecot-imapd, run in the foreground with its own configuration, passwd-file users and
Maildirs in a folder of its own) and an aiosmtpd SMTP server that delivers each accepted mail into
the recipient's IMAP mailbox by APPEND, as an MTA's local delivery would.

    python -m portal.channels.email.localmail     # prints the settings to enter under Admin > Inboxes

Nothing here is used by the portal itself (docs/architecture.md, "E-mail").
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "mail-secret"


def dovecot_missing() -> str | None:
    """Why no Dovecot can be started here, or None."""
    return None if os.path.exists(DOVECOT) else "dovecot is not installed (Debian: apt-get install dovecot-imapd)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Delivered:
    """What the SMTP server accepted: the envelope and the raw message."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class LocalMail:
    """The running pair. `users` are the mailbox names (an address's local part) with PASSWORD."""

    users: tuple[str, ...] = ("support", "customer")
    domain: str = "example.com"
    imap_port: int = 0
    smtp_port: int = 0
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atende-mail-")))
    delivered: list[Delivered] = field(default_factory=list)
    # SMTP replies to give instead of delivering, oldest first (e.g. "550 5.1.1 No such user").
    refusals: list[str] = field(default_factory=list)

    def start(self) -> LocalMail:
        problem = dovecot_missing()
        if problem:
            raise RuntimeError(problem)
        self.imap_port = self.imap_port or free_port()
        self.smtp_port = self.smtp_port or free_port()
        self._start_dovecot()
        self._start_smtp()
        return self

    def stop(self) -> None:
        smtp = getattr(self, "_smtp", None)
        if smtp is not None:
            smtp.stop()
        process = getattr(self, "_dovecot", None)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def dovecot_pid(self) -> int:
        return self._dovecot.pid

    def address(self, user: str) -> str:
        return f"{user}@{self.domain}"

    # -- Dovecot ---------------------------------------------------------------------------------

    def _start_dovecot(self) -> None:
        # Root runs the mail processes as `nobody` (Dovecot refuses uid 0); anyone else runs it
        # rootless as themselves.
        if os.getuid() == 0:
            mail_user, internal, login = pwd.getpwnam("nobody"), "dovecot", "dovenull"
        else:
            mail_user = pwd.getpwuid(os.getuid())
            internal = login = mail_user.pw_name
        os.chmod(self.root, 0o755)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        os.chown(self.root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        (self.root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}::::::\n" for u in self.users))
        os.chmod(self.root / "passwd", 0o644)
        config = self.root / "dovecot.conf"
        config.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {min(mail_user.pw_uid, 500) or 1}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={self.root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        )
        self._dovecot = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._dovecot.poll() is not None:
                raise RuntimeError(f"dovecot stopped: {self._log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not listen: {self._log()}")

    def _log(self) -> str:
        log = self.root / "dovecot.log"
        return log.read_text()[-2000:] if log.exists() else ""

    def imap(self, user: str) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.imap_port)
        connection.login(user, PASSWORD)
        return connection

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Put a mail into a mailbox, as local delivery does."""
        connection = self.imap(user)
        try:
            connection.append(folder, None, None, raw)
        finally:
            connection.logout()

    def append_many(self, user: str, mails: list[bytes], folder: str = "INBOX") -> None:
        connection = self.imap(user)
        try:
            for raw in mails:
                connection.append(folder, None, None, raw)
        finally:
            connection.logout()

    def mailbox(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """Every mail in the mailbox, oldest first."""
        connection = self.imap(user)
        try:
            connection.select(folder, readonly=True)
            _, data = connection.uid("SEARCH", None, "ALL")
            uids = data[0].split()
            mails = []
            for uid in uids:
                _, parts = connection.uid("FETCH", uid, "(BODY.PEEK[])")
                mails.append(next(p[1] for p in parts if isinstance(p, tuple)))
            return mails
        finally:
            connection.logout()

    def clear(self, user: str, folder: str = "INBOX") -> None:
        connection = self.imap(user)
        try:
            connection.select(folder)
            connection.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            connection.expunge()
        finally:
            connection.logout()

    # -- SMTP ------------------------------------------------------------------------------------

    def _start_smtp(self) -> None:
        from aiosmtpd.controller import Controller

        self._smtp = Controller(_Delivery(self), hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()


class _Delivery:
    """aiosmtpd handler: each local recipient's copy is appended to their INBOX."""

    def __init__(self, mail: LocalMail) -> None:
        self.mail = mail

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mail.refusals:
            return self.mail.refusals.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        self.mail.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), data))
        for rcpt in envelope.rcpt_tos:
            user, _, domain = rcpt.partition("@")
            if domain.lower() == self.mail.domain and user in self.mail.users:
                self.mail.append(user, data)
        return "250 Message accepted for delivery"


def main() -> None:
    mail = LocalMail().start()
    print(f"IMAP 127.0.0.1:{mail.imap_port} (no TLS), SMTP 127.0.0.1:{mail.smtp_port} (no TLS)")
    for user in mail.users:
        print(f"  mailbox {mail.address(user)}: user {user}, password {PASSWORD}")
    print("Admin > Inboxes > New e-mail inbox: the support mailbox for IMAP, and SMTP as above.")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        mail.stop()


if __name__ == "__main__":
    main()

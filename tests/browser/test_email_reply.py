"""An e-mail conversation in the same workspace as WhatsApp, in headless Chromium: the HTML mail
shows without loading its tracking pixel until asked, the agent answers it, and the reply reaches
the customer's IMAP mailbox (real Dovecot, through the real aiosmtpd server) threaded."""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage
from email.utils import make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from portal.models import utcnow
from portal.queue import OUTBOUND
from tests import factories

# The fetch and the SMTP round trip share the machine with the browser: waits get more room.
WAIT = 15000
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


@pytest.fixture
def pixel_server():
    """A remote server whose every request is counted: a tracking pixel."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.send_header("Content-Length", str(len(GIF)))
            self.end_headers()
            self.wfile.write(GIF)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def test_agent_answers_an_email_next_to_whatsapp_and_the_reply_reaches_the_mailbox(
    page, db, browser_login, mail_servers, email_inbox, fetch_and_process, run_jobs, pixel_server
):
    pixel_url, hits = pixel_server
    agent = factories.agent(name="Gabriela")
    email_inbox.agents.append(agent)
    whatsapp = factories.conversation(factories.contact(name="Rodrigo Alves", phone="+5511987650002"))
    factories.message(whatsapp, body="Bom dia pelo WhatsApp", sent_at=utcnow())
    db.session.commit()
    customer = EmailMessage()
    customer["From"] = "Fernanda Lima <customer@example.com>"
    customer["To"] = "support@example.com"
    customer["Subject"] = "Boleto vencido"
    customer["Message-ID"] = make_msgid(domain="example.com")
    customer.set_content(
        f'<p>Meu <b>boleto</b> venceu.</p><img src="{pixel_url}/pixel.gif" alt=""><script>alert(1)</script>',
        subtype="html",
    )
    mail_servers.append("support", bytes(customer))
    fetch_and_process()

    page.set_default_timeout(WAIT)
    browser_login(agent)
    page.goto("/inbox")
    expect(page.locator(".conversation-row")).to_have_count(2, timeout=WAIT)
    expect(page.locator(".conversation-list")).to_contain_text("Rodrigo Alves", timeout=WAIT)
    page.click("text=Fernanda Lima")
    frame = page.frame_locator("iframe.email-frame")
    expect(frame.locator("b")).to_have_text("boleto", timeout=WAIT)
    expect(page.locator(".email-subject")).to_have_text("Boleto vencido", timeout=WAIT)
    assert hits == []  # the tracking pixel was not loaded

    page.fill("#composer textarea[name=body]", "Enviamos um novo boleto.")
    page.press("#composer textarea[name=body]", "Control+Enter")
    reply = page.locator(".msg-outbound", has_text="Enviamos um novo boleto.")
    expect(reply.locator(".tick")).to_have_attribute("data-status", "queued", timeout=WAIT)
    run_jobs(OUTBOUND)
    expect(reply.locator(".tick")).to_have_attribute("data-status", "sent", timeout=WAIT)

    [raw] = mail_servers.mailbox("customer")
    received = email.message_from_bytes(raw, policy=email.policy.default)
    assert received["In-Reply-To"] == customer["Message-ID"]
    assert received["References"] == customer["Message-ID"]
    assert received["Subject"].startswith("Re: Boleto vencido [#")
    assert "Enviamos um novo boleto." in received.get_body(preferencelist=("plain",)).get_content()

    page.click("text=Show remote images")
    # Asked for: that frame alone may now load it.
    expect(frame.locator("img")).to_have_js_property("naturalWidth", 1, timeout=WAIT)
    assert hits == ["/pixel.gif"]

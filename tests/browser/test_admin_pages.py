"""Admin pages in a real browser under the content security policy: no console errors (a CSP
violation is one), HTMX filters and the audited payload reveal."""

from portal.extensions import db as _db
from portal.models import AuditLog, Role, WebhookEvent, WebhookStatus
from tests import factories

PHONE = "5511987654321"


def test_every_admin_page_renders_without_console_errors(page, db, browser_login):
    admin = factories.agent(role=Role.admin)
    db.session.commit()
    browser_login(admin)
    for path, heading in [
        ("/admin", "Admin"),
        ("/admin/agents", "Agents"),
        ("/admin/agents/new", "New agent"),
        (f"/admin/agents/{admin.id}", admin.name),
        ("/admin/dead-letters", "Dead letters"),
        ("/admin/webhook-events", "Webhook events"),
        ("/admin/audit", "Audit log"),
        ("/admin/settings", "Settings"),
        ("/profile", "Your profile"),
    ]:
        page.goto(path)
        assert page.locator("h1").inner_text() == heading, path


def test_filtering_webhook_events_swaps_the_table_and_keeps_the_url(page, db, browser_login):
    admin = factories.agent(role=Role.admin)
    ok = WebhookEvent(provider="whatsapp", event_type="messages", payload_json={}, status=WebhookStatus.processed)
    bad = WebhookEvent(provider="whatsapp", event_type="messages", payload_json={}, status=WebhookStatus.failed)
    db.session.add_all([ok, bad])
    db.session.commit()
    browser_login(admin)
    page.goto("/admin/webhook-events")
    assert page.locator(f"#event-{ok.id}").count() == 1
    page.select_option("select[name=status]", "failed")
    page.wait_for_url("**status=failed**")
    page.locator(f"#event-{ok.id}").wait_for(state="detached")
    assert page.locator(f"#event-{bad.id}").is_visible()


def test_revealing_a_payload_shows_the_phone_and_is_audited(page, db, browser_login):
    admin = factories.agent(role=Role.admin)
    event = WebhookEvent(provider="whatsapp", event_type="messages", payload_json={"from": PHONE})
    db.session.add(event)
    db.session.commit()
    browser_login(admin)
    page.goto(f"/admin/webhook-events/{event.id}")
    assert PHONE not in page.locator("pre.payload").inner_text()
    page.click("text=Reveal")
    page.locator("text=Revealed").wait_for()
    assert PHONE in page.locator("pre.payload").inner_text()
    assert _db.session.query(AuditLog).filter_by(action="webhook_event.revealed").count() == 1


def test_a_new_agent_sets_a_password_from_the_link(page, db, browser_login):
    admin = factories.agent(role=Role.admin)
    db.session.commit()
    browser_login(admin)
    page.goto("/admin/agents/new")
    page.fill("input[name=name]", "Bruna")
    page.fill("input[name=email]", "bruna@example.com")
    page.select_option("select[name=role]", "supervisor")
    page.click("button[type=submit].primary")
    link = page.input_value("#set-password-link")

    page.click("text=Sign out")
    page.goto(link)
    page.fill("input[name=new_password]", "bruna-password")
    page.fill("input[name=confirm_password]", "bruna-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/login")
    page.fill("input[name=email]", "bruna@example.com")
    page.fill("input[name=password]", "bruna-password")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    assert "Bruna" in page.locator("header .who").inner_text()

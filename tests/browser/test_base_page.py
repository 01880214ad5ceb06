from portal.models import Role
from tests import factories


def test_login_page_renders_with_htmx_served_locally(page):
    page.goto("/login")
    assert page.title().endswith("Atende")
    assert page.evaluate("typeof window.htmx") == "object"
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert scripts and all(src.startswith(page.url.split("/login")[0]) for src in scripts)


def test_navigation_follows_the_role(page, db, browser_login):
    agent = factories.agent(role=Role.agent)
    db.session.commit()
    browser_login(agent)
    assert page.locator("header.topbar").is_visible()
    assert page.locator("nav a", has_text="Admin").count() == 0


def test_admin_sees_admin_navigation_and_can_sign_out(page, db, browser_login):
    admin = factories.agent(role=Role.admin)
    db.session.commit()
    browser_login(admin)
    page.click("text=Sign out")
    page.wait_for_url("**/login")
    assert page.locator(".flash").first.is_visible()


def test_wrong_password_shows_the_error_beside_the_field(page, db):
    agent = factories.agent()
    db.session.commit()
    page.goto("/login")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert page.locator(".field.has-error .errors").is_visible()

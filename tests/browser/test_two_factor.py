"""Two-factor sign-in in Chromium: an agent sets it up from the profile (the key read from the
page, the code computed with pyotp as a phone would), then signs in with a code, and with a
recovery code."""

import time

import pyotp

from portal.models import Role
from tests import factories
from tests.conftest import TEST_PASSWORD


def _code_for_next_step(secret: str) -> str:
    """A code for a step not used yet: each step's code is accepted once."""
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + totp.interval)


def _sign_in_with_password(page, agent):
    page.goto("/login")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/code")


def _sign_out(page):
    page.click("text=Sign out")
    page.wait_for_url("**/login")


def test_an_agent_turns_on_two_factor_and_signs_in_with_a_code_and_a_recovery_code(page, db, browser_login):
    agent = factories.agent(role=Role.agent, password=TEST_PASSWORD)
    db.session.commit()
    browser_login(agent)
    page.goto("/profile")
    page.click("text=Manage two-factor sign-in")
    page.click("text=Set up two-factor sign-in")
    assert page.locator(".qr-code svg").count() == 1
    secret = page.inner_text("#totp-secret").strip()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Turn on')")
    codes = [c.strip() for c in page.locator("#recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    page.screenshot(path="/tmp/atende-two-factor-codes.png", full_page=True)
    page.click("text=I have saved them")
    _sign_out(page)

    _sign_in_with_password(page, agent)
    page.fill("input[name=code]", _code_for_next_step(secret))
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/login" not in url)
    assert agent.name in page.locator("header .who").inner_text()
    _sign_out(page)

    _sign_in_with_password(page, agent)
    page.fill("input[name=code]", codes[3])
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/profile/two-factor")
    assert "9 recovery codes left" in page.inner_text("main")
    _sign_out(page)

    _sign_in_with_password(page, agent)
    page.fill("input[name=code]", codes[3])  # used once already
    page.click("button[type=submit].primary")
    assert "That code is not right" in page.inner_text("main")
    assert "/login/code" in page.url

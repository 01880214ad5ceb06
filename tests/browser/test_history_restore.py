"""Back after a live search, when HTMX's history cache has no copy of the page: HTMX asks the
server with HX-History-Restore-Request and swaps the answer into the whole body, so the answer
must be the whole page (issue 13 item 13)."""

from portal.models import Role
from tests import factories


def test_back_after_a_search_restores_the_whole_contacts_page(page, db, browser_login):
    agent = factories.agent(role=Role.agent, locale="en")
    factories.contact(name="Ana Souza")
    factories.contact(name="Bruno Lima")
    db.session.commit()
    browser_login(agent)
    page.goto("/contacts")
    search = page.get_by_label("Search").first
    search.fill("Ana")
    page.wait_for_url("**/contacts?q=Ana*")
    search.fill("Bruno")
    page.wait_for_url("**/contacts?q=Bruno*")
    # No history cache (as when HTMX evicted the page, or sessionStorage is full): Back asks the server.
    page.evaluate("htmx.config.historyCacheSize = 0; sessionStorage.clear()")
    with page.expect_request(lambda r: r.headers.get("hx-history-restore-request") == "true"):
        page.go_back()
    page.wait_for_url("**/contacts?q=Ana*")
    page.locator("#contact-results").get_by_text("Ana Souza").wait_for()
    assert page.locator("nav").count() >= 1 and page.locator("form[role=search]").count() == 1
    assert page.locator("#contact-results").get_by_text("Bruno Lima").count() == 0

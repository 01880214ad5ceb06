"""Contacts in a real browser: live search swaps the results and keeps the URL shareable; the
CSV import goes from upload to preview to confirm, and the job's progress page shows the result."""

from pathlib import Path

from portal.models import Contact, Role
from tests import factories

PTBR_EXPORT = Path(__file__).parent.parent / "fixtures" / "contatos_excel_ptbr.csv"


def test_typing_in_search_updates_results_and_url(page, db, browser_login):
    agent = factories.agent(role=Role.agent, locale="en")
    factories.contact(name="Ana Souza", phone="+5511987654321")
    factories.contact(name="Bruno Lima", phone="+5521912345678")
    db.session.commit()
    browser_login(agent)
    page.goto("/contacts")
    page.get_by_label("Search").first.fill("8765-4321")
    page.wait_for_url("**/contacts?q=8765-4321*")
    results = page.locator("#contact-results")
    results.get_by_text("Ana Souza").wait_for()
    assert results.get_by_text("Bruno Lima").count() == 0


def test_supervisor_imports_a_ptbr_spreadsheet(page, db, browser_login, run_jobs):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    db.session.commit()
    browser_login(supervisor)
    page.goto("/contacts/import")
    page.set_input_files("input[type=file]", str(PTBR_EXPORT))
    page.get_by_role("button", name="Preview").click()
    page.locator("#import-summary").wait_for()
    assert page.locator(".import-preview .row-error").count() == 4
    page.get_by_role("button", name="Import 2 contacts").click()
    page.wait_for_url("**/contacts/import/*")
    page.get_by_text("Waiting for a worker").wait_for()
    db.session.commit()
    run_jobs("default")  # a real RQ worker; the page polls until it shows the result
    page.locator("#import-result").get_by_text("2 contacts imported. 4 rows skipped.").wait_for()
    db.session.rollback()
    assert db.session.query(Contact).count() == 2


def test_merge_shows_both_contacts_side_by_side_and_asks_before_merging(page, db, browser_login):
    supervisor = factories.agent(role=Role.supervisor, locale="en")
    survivor = factories.contact(name="Helena", city="Recife")
    other = factories.contact(name="Helena Souza", email="helena@example.com", city="Olinda")
    moving = factories.conversation(other)
    db.session.commit()
    other_id = other.id
    browser_login(supervisor)
    page.goto(f"/contacts/{survivor.id}/merge")
    page.get_by_label("Find the duplicate").fill("Souza")
    page.get_by_role("button", name="Compare and merge").click()
    compare = page.locator("#merge-compare")
    compare.wait_for()
    assert "Recife" in compare.inner_text() and "Olinda" in compare.inner_text()
    assert page.locator(f"#moving-{moving.id}").is_visible()
    db.session.rollback()
    assert db.session.get(Contact, other_id) is not None  # asking changed nothing
    page.get_by_role("button", name="Merge and delete Helena Souza").click()
    page.wait_for_url(f"**/contacts/{survivor.id}")
    page.get_by_text("Merged: 1 conversation moved to Helena.").wait_for()
    db.session.rollback()
    assert db.session.get(Contact, other_id) is None

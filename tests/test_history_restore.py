"""Pages whose filters push their URL render whole on an HTMX history restore (issue 13 item 13):
Back after HTMX's history cache missed sends HX-Request with HX-History-Restore-Request, and a
fragment alone would replace the page's body."""

from __future__ import annotations

import pytest

from portal.models import Role
from tests import factories

PUSHED_PAGES = [
    (Role.agent, "/contacts?q=ana"),
    (Role.agent, "/inbox?status=new"),
    (Role.supervisor, "/contacts/{contact}/merge?q=ana"),
    (Role.supervisor, "/incidents?severity=high"),
    (Role.supervisor, "/reports?start=2026-11-02&end=2026-11-04"),
    (Role.admin, "/admin/audit?action=x"),
    (Role.admin, "/admin/webhook-events?provider=crm"),
    (Role.admin, "/crm/deliveries?status=failed"),
]
SWAP = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


@pytest.mark.parametrize(("role", "url"), PUSHED_PAGES)
def test_a_history_restore_gets_the_whole_page_and_a_swap_the_fragment(client, login_as, db, role, url):
    login_as(role)
    url = url.format(contact=factories.contact(name="Bia").id)
    db.session.commit()
    restored = client.get(url, headers=RESTORE).get_data(as_text=True)
    swapped = client.get(url, headers=SWAP).get_data(as_text=True)
    assert "<html" in restored and "<nav" in restored
    assert "<html" not in swapped

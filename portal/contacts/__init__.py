"""/contacts: search, detail, edit, merge, CSV import and export.

Roles (docs/architecture.md, "Roles and scopes", has no contacts row, so this follows its spirit): any agent may search,
open and edit a contact, because replying needs the customer's details right. Merging (it
deletes a contact) and importing or exporting in bulk (a copy of the whole customer base) need a
supervisor.
"""

from flask import Blueprint

bp = Blueprint("contacts", __name__, url_prefix="/contacts")

from portal.contacts import views  # noqa: E402,F401

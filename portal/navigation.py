"""The navigation bar: each entry names its endpoint and the least role that sees it.
Entries whose endpoint is not registered are skipped, so areas can land one at a time."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    role: Role
    icon: str


NAV_ITEMS = (
    NavItem("inbox.index", _l("Inbox"), Role.agent, "inbox"),
    NavItem("contacts.index", _l("Contacts"), Role.agent, "users"),
    NavItem("board.index", _l("Pipeline"), Role.supervisor, "kanban"),
    NavItem("incidents.index", _l("Incidents"), Role.supervisor, "triangle-alert"),
    NavItem("reports.index", _l("Reports"), Role.supervisor, "chart-column"),
    NavItem("sla.index", _l("SLA"), Role.supervisor, "timer"),
    NavItem("teams.index", _l("Teams"), Role.supervisor, "users"),
    NavItem("campaigns.index", _l("Campaigns"), Role.supervisor, "send"),
    NavItem("rules.index", _l("Auto-rules"), Role.supervisor, "workflow"),
    NavItem("templates.index", _l("Templates"), Role.supervisor, "file-text"),
    NavItem("quick_replies.shared_index", _l("Quick replies"), Role.supervisor, "message-circle"),
    NavItem("admin.index", _l("Admin"), Role.admin, "settings"),
    NavItem("crm.deliveries", _l("CRM"), Role.admin, "plug"),
)


def visible_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return [
        item
        for item in NAV_ITEMS
        if current_user.has_role(item.role)
    ]

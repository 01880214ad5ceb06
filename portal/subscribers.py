"""Modules whose @events.subscribe handlers must be registered at app start."""

SUBSCRIBER_MODULES: tuple[str, ...] = (
    "portal.services.sla",
    "portal.services.crm",
    "portal.services.rules",
    "portal.services.contact_admin",
)


def load() -> None:
    for name in SUBSCRIBER_MODULES:
        __import__(name)

"""`flask --app wsgi <command>`: each module adds its commands to the app."""

from flask import Flask

COMMAND_MODULES = (
    "portal.cli.agents",
    "portal.cli.inboxes",
    "portal.cli.setup",
    "portal.cli.demo",
    "portal.cli.webhooks",
    "portal.cli.backup",
)


def register_commands(app: Flask) -> None:
    for name in COMMAND_MODULES:
        module = __import__(name, fromlist=["register"])
        module.register(app)

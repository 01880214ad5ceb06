"""gunicorn settings read by `gunicorn wsgi:app` (it loads ./gunicorn.conf.py) and scripts/run.

Recent gunicorn versions open a control socket in ~/.gunicorn/ by default, shared by every gunicorn of the
user: two installations (or two checkouts) would fight over it, and Atende never uses it.
The access log goes through Atende's masking filter (portal/pii.py), installed when the app loads.
"""

control_socket_disable = True


def on_starting(server):
    """Refuse to start against a database whose schema is not the code's (portal/ops/schema.py),
    once in the master, before any worker forks."""
    import sys

    from portal import create_app
    from portal.config import ConfigError
    from portal.ops.schema import refuse_mismatched_schema

    try:
        refuse_mismatched_schema(create_app())
    except ConfigError as exc:
        sys.exit(str(exc))

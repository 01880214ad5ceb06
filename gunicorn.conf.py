"""gunicorn settings read by `gunicorn wsgi:app` (it loads ./gunicorn.conf.py) and scripts/run.

Recent gunicorn versions open a control socket in ~/.gunicorn/ by default, shared by every gunicorn of the
user: two installations (or two checkouts) would fight over it, and Atende never uses it.
The access log goes through Atende's masking filter (portal/pii.py), installed when the app loads.
"""

control_socket_disable = True

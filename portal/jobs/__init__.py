"""RQ job functions, one module per queue. A job takes a row id, loads the row, calls a service
and commits; it runs inside the app context that the worker process built once (see
portal.worker_process). Importing this package never builds an app."""

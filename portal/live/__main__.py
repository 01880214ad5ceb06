"""Run the stream server: `python -m portal.live [--host 127.0.0.1] [--port 5002]`.

One process holds every open tab's stream (docs/architecture.md, "Live updates"); behind a
reverse proxy, route /events here with buffering off.
"""

import argparse
import sys

import uvicorn

from portal import create_app
from portal.config import ConfigError
from portal.live.stream import StreamApp
from portal.ops.schema import refuse_mismatched_schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5002)
    args = parser.parse_args()
    try:
        app = create_app()
        refuse_mismatched_schema(app)
    except ConfigError as exc:
        sys.exit(str(exc))
    # Open streams never finish by themselves: on stop, give them a second, then cut them (the
    # browsers reconnect with Last-Event-ID).
    uvicorn.run(StreamApp(app), host=args.host, port=args.port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=1, lifespan="on")


if __name__ == "__main__":
    main()

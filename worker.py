"""Start an RQ worker for Atende: `python worker.py [queue ...] [--burst]`.

The app is built once for the process; with no queue names the worker serves all of them.
"""

import argparse
import sys

from portal import create_app
from portal.config import ConfigError
from portal.ops.schema import refuse_mismatched_schema
from portal.queue import ALL_QUEUES
from portal.worker_process import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queues", nargs="*", default=list(ALL_QUEUES), help="queues to serve, in priority order")
    parser.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    args = parser.parse_args()
    unknown = set(args.queues) - set(ALL_QUEUES)
    if unknown:
        sys.exit(f"atende worker: unknown queue(s): {', '.join(sorted(unknown))}")
    try:
        app = create_app()
        refuse_mismatched_schema(app)
    except ConfigError as exc:
        sys.exit(str(exc))
    run(app, tuple(args.queues), burst=args.burst)


if __name__ == "__main__":
    main()

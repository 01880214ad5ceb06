"""Bench 1c: server time of the inbox, a 500-message thread and the reports, at a million messages.

    python -m bench.generate_data          # once: 100k contacts and conversations, 1M messages
    python -m bench.pages [--runs 50] [--only NAME] [--profile NAME] [--sql NAME]

Runs the portal in this process on the generated `atende_bench` database and times each page with
the Flask test client, signed in as the supervisor (who sees every conversation) or as an agent
(who sees their own and the unassigned ones). Server time is the whole request inside Flask:
routing, session, queries and template. Prints p50/p95 per page against its target and the peak
RSS of this process (the same app a gunicorn worker holds). --profile NAME prints a pyinstrument
profile of that page instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from dataclasses import dataclass
from datetime import date, timedelta

from bench import harness
from bench.generate_data import AGENT_EMAIL, BENCH_PASSWORD, LONG_THREAD_CONVERSATION_ID, SUPERVISOR_EMAIL

PAGE_TARGET_MS = 50
REPORTS_TARGET_MS = 300
REPORTS_YEAR_TARGET_MS = 1000
CONTACT_SEARCH_TARGET_MS = 100
EXPORT_RSS_TARGET_MIB = 150


@dataclass(frozen=True)
class Page:
    name: str
    who: str
    url: str
    target_ms: int


def pages() -> list[Page]:
    end = date.today()
    start = end - timedelta(days=29)
    reports = f"/reports?start={start.isoformat()}&end={end.isoformat()}"
    year = f"/reports?start={(end - timedelta(days=364)).isoformat()}&end={end.isoformat()}"
    return [
        Page("inbox (open, supervisor)", SUPERVISOR_EMAIL, "/inbox", PAGE_TARGET_MS),
        Page("inbox (open, agent scope)", AGENT_EMAIL, "/inbox", PAGE_TARGET_MS),
        Page("inbox filtered (status+priority+tag)", SUPERVISOR_EMAIL,
             "/inbox?status=all&priority=high&tag=vip", PAGE_TARGET_MS),
        Page("inbox filtered (mine, agent)", AGENT_EMAIL, "/inbox?assignee=mine", PAGE_TARGET_MS),
        Page("inbox searched (contact name)", SUPERVISOR_EMAIL, "/inbox?status=all&q=Souza", PAGE_TARGET_MS),
        Page("inbox searched (phone)", SUPERVISOR_EMAIL, "/inbox?status=all&q=%2B55%2011%2000004-2424",
             PAGE_TARGET_MS),
        Page("inbox searched (message text)", SUPERVISOR_EMAIL, "/inbox?status=all&q=boleto", PAGE_TARGET_MS),
        Page("inbox htmx list refresh", SUPERVISOR_EMAIL, "/inbox?status=all", PAGE_TARGET_MS),
        Page("conversation with 500 messages", SUPERVISOR_EMAIL,
             f"/conversations/{LONG_THREAD_CONVERSATION_ID}", PAGE_TARGET_MS),
        Page("reports, 30 days", SUPERVISOR_EMAIL, reports, REPORTS_TARGET_MS),
        Page("reports, 30 days, one agent", SUPERVISOR_EMAIL, f"{reports}&agent_id=1", REPORTS_TARGET_MS),
        Page("reports, 365 days", SUPERVISOR_EMAIL, year, REPORTS_YEAR_TARGET_MS),
        Page("contacts, first page", SUPERVISOR_EMAIL, "/contacts", CONTACT_SEARCH_TARGET_MS),
        Page("contacts searched (name)", SUPERVISOR_EMAIL, "/contacts?q=Souza", CONTACT_SEARCH_TARGET_MS),
        Page("contacts searched (phone)", SUPERVISOR_EMAIL, "/contacts?q=11%2000004-2424", CONTACT_SEARCH_TARGET_MS),
    ]


def build_app(database_url: str, redis_url: str):
    from portal import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "WTF_CSRF_ENABLED": False,
    })


def signed_in_client(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"pages: could not sign in as {email} ({response.status_code})")
    return client


def fetch(client, page: Page) -> float:
    headers = {"HX-Request": "true"} if "htmx" in page.name else {}
    start = time.perf_counter()
    response = client.get(page.url, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"pages: {page.url} answered {response.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="atende_bench")
    parser.add_argument("--server-url", default=harness.DEFAULT_SERVER_URL)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--only", help="time only the pages whose name starts with this")
    parser.add_argument("--profile", help="print a pyinstrument profile of the page with this name")
    parser.add_argument("--sql", help="print each SQL statement of the page with this name, its time, "
                                      "and the plan of the slowest")
    args = parser.parse_args()
    from sqlalchemy.engine import make_url

    database_url = make_url(args.server_url).set(database=args.database).render_as_string(hide_password=False)
    try:
        messages = harness.scalar(database_url, "SELECT count(*) FROM messages")
    except Exception:
        raise SystemExit("pages: no bench data; run `python -m bench.generate_data` first") from None
    contacts = harness.scalar(database_url, "SELECT count(*) FROM contacts")
    print(f"pages: {harness.machine()}")
    print(f"  data: {contacts:,} contacts, {messages:,} messages in {args.database}")
    redis = harness.RedisServer().start()
    try:
        app = build_app(database_url, redis.url)
        clients = {email: signed_in_client(app, email) for email in (SUPERVISOR_EMAIL, AGENT_EMAIL)}
        if args.profile:
            profile(clients, args.profile)
            return
        if args.sql:
            with app.app_context():
                sql_timings(app, clients, args.sql)
            return
        print(f"server time over {args.runs} requests after 5 warm-up requests (ms); CPU per request of this "
              "process (the app) and of the PostgreSQL backends; the 1-minute load average at the start:")
        print(f"  {'page':<44} {'p50':>7} {'p95':>7} {'max':>7} {'app CPU':>8} {'PG CPU':>7} {'load':>5}  target")
        postgres_pids = harness.backend_pids(database_url)
        for page in pages():
            if args.only and not page.name.startswith(args.only):
                continue
            client = clients[page.who]
            for _ in range(5):
                fetch(client, page)
            load = os.getloadavg()[0]
            cpu, pg_cpu = time.process_time(), harness.cpu_seconds(postgres_pids)
            times = [fetch(client, page) for _ in range(args.runs)]
            cpu = (time.process_time() - cpu) / args.runs * 1000
            pg_cpu = (harness.cpu_seconds(postgres_pids) - pg_cpu) / args.runs * 1000
            p95 = harness.percentile(times, 95)
            verdict = "PASS" if p95 <= page.target_ms else "MISS"
            print(f"  {page.name:<44} {harness.percentile(times, 50):7.1f} {p95:7.1f} {max(times):7.1f}"
                  f" {cpu:8.1f} {pg_cpu:7.1f} {load:5.1f}  p95 <= {page.target_ms}: {verdict}", flush=True)
        if not args.only or "contacts export".startswith(args.only):
            export_contacts(clients[SUPERVISOR_EMAIL])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        harness.line("peak RSS of the web app process", f"{peak:.0f} MiB (target <= 150)")
    finally:
        redis.close()


def export_contacts(client) -> None:
    """GET /contacts/export.csv of every contact, read as it streams and thrown away; the time, the
    size and this process's RSS before and at its peak during the export (run it alone,
    `--only "contacts export"`, for the RSS of a process that did nothing else)."""
    import psutil

    process = psutil.Process()
    before = process.memory_info().rss / 2**20
    with harness.RssSampler(interval=0.05) as rss:
        rss.watch("export", process.pid)
        start = time.perf_counter()
        response = client.get("/contacts/export.csv", buffered=False)
        size = rows = 0
        for chunk in response.response:
            size += len(chunk)
            rows += chunk.count("\n") if isinstance(chunk, str) else chunk.count(b"\n")
        response.close()
        seconds = time.perf_counter() - start
    peak = rss.peaks.get("export", before)
    verdict = "PASS" if peak <= EXPORT_RSS_TARGET_MIB else "MISS"
    harness.line("contacts export (CSV, streamed)", f"{rows - 1:,} rows, {size / 2**20:.0f} MiB in {seconds:.1f} s")
    harness.line("  RSS before / peak during the export",
                 f"{before:.0f} / {peak:.0f} MiB  (peak <= {EXPORT_RSS_TARGET_MIB}: {verdict})")


def page_named(name: str) -> Page:
    page = next((p for p in pages() if p.name.startswith(name)), None)
    if page is None:
        raise SystemExit(f"pages: no page named {name!r}; names: {', '.join(p.name for p in pages())}")
    return page


def sql_timings(app, clients, name: str) -> None:
    from sqlalchemy import event

    from portal.extensions import db

    page = page_named(name)
    client = clients[page.who]
    fetch(client, page)
    statements: list[tuple[float, str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append(((time.perf_counter() - conn.info["bench_started"]) * 1000, statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        total = fetch(client, page)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    print(f"{page.name}: {total:.1f} ms in all, {sum(s[0] for s in statements):.1f} ms in "
          f"{len(statements)} statements")
    for ms, statement, _ in statements:
        print(f"  {ms:8.1f} ms  {' '.join(statement.split())[:160]}")
    ms, statement, parameters = max(statements, key=lambda s: s[0])
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            print("plan of the slowest:")
            for (row,) in cursor.fetchall():
                print("   ", row)


def profile(clients, name: str) -> None:
    from pyinstrument import Profiler

    page = page_named(name)
    client = clients[page.who]
    fetch(client, page)
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(5):
            fetch(client, page)
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()

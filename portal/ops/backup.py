"""One-file backups and their restore (docs: README, "Backups").

The archive is an uncompressed tar holding manifest.json, the database (PostgreSQL: pg_dump's
custom format, one consistent snapshot; SQLite: a copy made with SQLite's online backup API, so
the portal keeps running) and the media files under media/. The manifest names the dialect, the
schema revision and every member's SHA-256; restore checks them all before it writes anything,
and loads only into an empty database and an empty media folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from portal.extensions import db
from portal.models import utcnow

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite"
MEDIA = "media"


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why, for the operator."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    media_files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it
    (a password on the command line would show in `ps`)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(_("%(program)s failed: %(error)s", program=command[0], error=result.stderr.strip()))


def _current_revision() -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _dump_database(url: URL, folder: Path) -> Path:
    if url.get_backend_name() == "postgresql":
        target = folder / PG_DUMP
        dsn, env = _libpq(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", dsn], env)
        return target
    target = folder / SQLITE_COPY
    source = sqlite3.connect(url.database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


def _media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def backup(output: Path) -> Outcome:
    url = _url()
    media_root = Path(current_app.config["MEDIA_ROOT"])
    with tempfile.TemporaryDirectory(prefix="atende-backup-") as scratch:
        dump = _dump_database(url, Path(scratch))
        media = _media_files(media_root)
        members = {dump.name: dump} | {f"{MEDIA}/{p.relative_to(media_root).as_posix()}": p for p in media}
        manifest = {
            "format": ARCHIVE_FORMAT,
            "created_at": utcnow().isoformat(timespec="seconds") + "Z",
            "dialect": url.get_backend_name(),
            "schema_revision": _current_revision(),
            "database": dump.name,
            "files": {name: {"sha256": _sha256(path), "bytes": path.stat().st_size} for name, path in members.items()},
        }
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
            for name, path in members.items():
                archive.add(path, arcname=name, recursive=False)
        partial.replace(output)  # a backup cut short never takes the finished archive's name
    return Outcome(output, len(media))


def _read_manifest(archive: tarfile.TarFile, path: Path) -> dict:
    try:
        return json.load(archive.extractfile(MANIFEST))
    except (KeyError, ValueError, TypeError):
        raise BackupError(_("%(path)s is not an Atende backup (no readable manifest).", path=path)) from None


def _extract_checked(archive: tarfile.TarFile, manifest: dict, folder: Path) -> None:
    names = set(manifest["files"])
    found = {m.name for m in archive.getmembers() if m.isfile()} - {MANIFEST}
    if found != names:
        raise BackupError(_("The archive's files differ from its manifest: the archive is damaged."))
    archive.extractall(folder, members=[m for m in archive.getmembers() if m.name in names], filter="data")
    for name, expected in manifest["files"].items():
        if _sha256(folder / name) != expected["sha256"]:
            raise BackupError(_("%(name)s does not match its checksum: the archive is damaged.", name=name))


def _refuse_non_empty(media_root: Path) -> None:
    with db.engine.connect() as conn:
        if inspect(conn).get_table_names():
            raise BackupError(
                _("The database is not empty: restore only into a new, empty database (point DATABASE_URL at one).")
            )
    if _media_files(media_root):
        raise BackupError(_("The media folder %(path)s is not empty.", path=media_root))


def _load_database(url: URL, dump: Path) -> None:
    if url.get_backend_name() == "postgresql":
        dsn, env = _libpq(url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={dsn}", str(dump)], env)
        return
    _dispose_engines()  # no pooled connection may hold the file while it is replaced
    source = sqlite3.connect(dump)
    target = sqlite3.connect(url.database)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def restore(path: Path) -> Outcome:
    url = _url()
    media_root = Path(current_app.config["MEDIA_ROOT"])
    with tarfile.open(path, "r") as archive, tempfile.TemporaryDirectory(prefix="atende-restore-") as scratch:
        manifest = _read_manifest(archive, path)
        if manifest.get("format") != ARCHIVE_FORMAT:
            raise BackupError(_("%(path)s was written by another version of the backup format.", path=path))
        if manifest["dialect"] != url.get_backend_name():
            raise BackupError(
                _("This backup holds a %(archive)s database, and DATABASE_URL names a %(target)s one.",
                  archive=manifest["dialect"], target=url.get_backend_name())
            )
        _refuse_non_empty(media_root)
        folder = Path(scratch)
        _extract_checked(archive, manifest, folder)
        _load_database(url, folder / manifest["database"])
        media = [name for name in manifest["files"] if name.startswith(f"{MEDIA}/")]
        for name in media:
            target = media_root / name.removeprefix(f"{MEDIA}/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / name, target)
    _dispose_engines()
    return Outcome(path, len(media))


def _dispose_engines() -> None:
    """Close every pooled connection, the webhooks bind's too: a restored PostgreSQL database has
    new type OIDs, and a connection's prepared statements would still name the old ones."""
    for engine in db.engines.values():
        engine.dispose()

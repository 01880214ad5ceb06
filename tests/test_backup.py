"""Backup -> wipe -> restore brings back every row and media file, on SQLite and PostgreSQL alike
(portal/ops/backup.py); restore refuses a non-empty database or a damaged archive."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from portal.extensions import db as _db
from portal.models import Direction
from tests import factories


def _row_counts() -> dict[str, int]:
    return {
        table.name: _db.session.scalar(select(func.count()).select_from(table))
        for table in _db.metadata.sorted_tables
    } | {"alembic_version": _db.session.scalar(text("SELECT count(*) FROM alembic_version"))}


def _media_checksums(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def _wipe_database() -> None:
    """Leave the database as a freshly created one: no tables, no types."""
    _db.session.remove()
    engine = _db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for name in inspect(conn).get_table_names():
                conn.execute(text(f'DROP TABLE "{name}"'))
    for pooled in _db.engines.values():
        pooled.dispose()


def _wipe_media(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


@pytest.fixture
def filled(app, db):
    contact = factories.contact()
    conversation = factories.conversation(contact)
    for n in range(5):
        factories.message(conversation, Direction.inbound if n % 2 else Direction.outbound, body=f"message {n}")
    factories.agent()
    db.session.commit()
    media_root = Path(app.config["MEDIA_ROOT"])
    (media_root / "2026" / "12").mkdir(parents=True, exist_ok=True)
    (media_root / "2026" / "12" / "photo.jpg").write_bytes(b"\xff\xd8 a photo " * 1000)
    (media_root / "note.ogg").write_bytes(b"OggS a voice note")
    yield media_root
    _wipe_media(media_root)


def test_backup_wipe_restore_gives_back_every_row_and_media_file(app, db, runner, filled, tmp_path):
    counts = _row_counts()
    checksums = _media_checksums(filled)

    written = runner.invoke(args=["backup", "--output", str(tmp_path)])  # a folder: the archive gets a dated name
    assert written.exit_code == 0, written.output
    (archive,) = tmp_path.glob("atende-backup-*.tar")
    assert "2 media files" in written.output
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["dialect"] == db.engine.dialect.name
    assert set(manifest["files"]) == {manifest["database"], "media/2026/12/photo.jpg", "media/note.ogg"}

    _wipe_database()
    _wipe_media(filled)
    restored = runner.invoke(args=["restore", str(archive)])
    assert restored.exit_code == 0, restored.output

    assert _row_counts() == counts
    assert counts["messages"] == 5
    assert _media_checksums(filled) == checksums


def test_restore_refuses_a_database_that_is_not_empty(app, db, runner, filled, tmp_path):
    archive = tmp_path / "atende.tar"
    assert runner.invoke(args=["backup", "--output", str(archive)]).exit_code == 0
    counts = _row_counts()
    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code != 0
    assert "The database is not empty" in refused.output
    assert _row_counts() == counts


def test_restore_refuses_a_damaged_archive_before_writing(app, db, runner, filled, tmp_path):
    archive = tmp_path / "atende.tar"
    assert runner.invoke(args=["backup", "--output", str(archive)]).exit_code == 0
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "media/note.ogg":
                data = data.replace(b"voice", b"VOICE")
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    _wipe_database()
    _wipe_media(filled)
    try:
        refused = runner.invoke(args=["restore", str(damaged)])
        assert refused.exit_code != 0
        assert "media/note.ogg does not match its checksum" in refused.output
        with _db.engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        assert runner.invoke(args=["restore", str(archive)]).exit_code == 0  # later tests need the schema

"""Contacts in and out of spreadsheets.

Import reads UTF-8 with or without a BOM (and, failing that, Windows-1252, which is what a
Brazilian Excel writes for "CSV (separado por vírgulas)"), detects a comma or semicolon
separator, and accepts pt-BR or English headers. `parse` validates every row without writing;
`import_valid` writes the valid rows; the caller commits once, so an import is all or nothing.

Export writes a UTF-8 BOM so Excel opens accents correctly, with the separator the reader's
locale expects (semicolon for pt-BR, where the comma is the decimal mark).

Custom fields of contacts are columns named by their key (the import also knows them by label):
the export writes each as the import reads it back (a CPF formatted, a number with the
separator's decimal mark), so an exported file imports unchanged. An import whose file lacks a
custom field's column leaves it out; a column that is there is checked like the contact form.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agent, Contact
from portal.phones import variants
from portal.services import audit, custom_fields
from portal.services.contact_admin import (
    ContactValidationError,
    clean,
    clean_custom,
    clean_phone,
    create,
    filtered,
)
from portal.services.spreadsheet import safe_cell

HEADER_ALIASES = {
    "name": ("nome", "name", "nome completo", "full name", "cliente"),
    "phone": ("telefone", "phone", "celular", "whatsapp", "fone", "mobile", "phone number", "tel"),
    "email": ("email", "e-mail", "e mail", "mail"),
    "city": ("cidade", "city", "municipio"),
}
EXPORT_HEADERS = ("name", "phone", "email", "city", "created_at")
MAX_ROWS = 20_000
STASH_MAX_AGE_SECONDS = 24 * 60 * 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class CsvError(ValueError):
    """The file as a whole cannot be read (no header, unknown columns, not text)."""


@dataclass
class ImportRow:
    line: int
    name: str
    phone: str
    email: str
    city: str
    errors: dict[str, str] = field(default_factory=dict)
    normalized_phone: str | None = None
    custom: dict[str, str] = field(default_factory=dict)  # custom field key -> cell, for the file's columns

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    delimiter: str
    columns: dict[str, str]  # our field -> the header found in the file

    @property
    def valid_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.valid]

    @property
    def invalid_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.valid]


# -- the uploaded file between preview and confirm ---------------------------------------------------
# Kept under instance/imports/, named for the agent who uploaded it, so confirm re-reads exactly
# what was previewed (and re-validates it: contacts may have changed in between) without a table.


def _stash_dir() -> Path:
    return Path(current_app.instance_path) / "imports"


def _stash_path(token: str, owner: Agent) -> Path | None:
    return _stash_dir() / f"{owner.id}-{token}.csv" if _TOKEN.match(token or "") else None


def stash(data: bytes, owner: Agent) -> str:
    """Keep an uploaded file for `owner`; returns the token that names it. Old files are dropped."""
    folder = _stash_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STASH_MAX_AGE_SECONDS
    for old in folder.glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    _stash_dir().joinpath(f"{owner.id}-{token}.csv").write_bytes(data)
    return token


def unstash(token: str, owner: Agent) -> bytes | None:
    """The file `owner` uploaded under `token`, or None (unknown, expired, someone else's)."""
    path = _stash_path(token, owner)
    return path.read_bytes() if path is not None and path.is_file() else None


def discard(token: str, owner: Agent) -> None:
    path = _stash_path(token, owner)
    if path is not None:
        path.unlink(missing_ok=True)


# -- parsing ---------------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header_key(header: str) -> str:
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return " ".join(plain.strip().lower().replace("_", " ").split())


def detect_delimiter(text: str) -> str:
    """Semicolon or comma, whichever the header line uses more (Sniffer guesses wrong on short files)."""
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","


CUSTOM_COLUMN = "custom_fields."


def _map_columns(headers: list[str]) -> dict[str, int]:
    """Our field -> column position; a custom field as "custom_fields.<key>"."""
    lookup = {alias: key for key, aliases in HEADER_ALIASES.items() for alias in aliases}
    for defn in custom_fields.definitions(custom_fields.Entity.contact):
        for name in (defn.label, defn.key):
            lookup.setdefault(_header_key(name), CUSTOM_COLUMN + defn.key)
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = lookup.get(_header_key(header))
        if key and key not in positions:
            positions[key] = index
    missing = [k for k in ("name", "phone") if k not in positions]
    if missing:
        raise CsvError(
            _("The file needs a name column (nome/name) and a phone column (telefone/celular/phone).")
        )
    return positions


def parse(data: bytes) -> ImportPreview:
    """Every row with its problems: bad phone or e-mail, duplicate (in the file or on file), missing name."""
    text = decode(data)
    if not text.strip():
        raise CsvError(_("The file is empty."))
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _read(reader, delimiter)
    except csv.Error as exc:
        raise CsvError(_("Line %(line)d is not valid CSV: %(reason)s", line=reader.line_num, reason=exc)) from None


def _read(reader, delimiter: str) -> ImportPreview:
    headers = next(reader)
    positions = _map_columns(headers)
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= MAX_ROWS:
            raise CsvError(_("The file has more than %(max)d rows; split it.", max=MAX_ROWS))

        def cell(key: str, record: list[str] = record) -> str:
            index = positions.get(key)
            return record[index].strip() if index is not None and index < len(record) else ""

        row = ImportRow(
            line=reader.line_num, name=cell("name"), phone=cell("phone"), email=cell("email"), city=cell("city"),
            custom={k.removeprefix(CUSTOM_COLUMN): cell(k) for k in positions if k.startswith(CUSTOM_COLUMN)},
        )
        _validate(row, seen)
        rows.append(row)
    return ImportPreview(rows=rows, delimiter=delimiter, columns={k: headers[i] for k, i in positions.items()})


def _validate(row: ImportRow, seen: dict[str, int]) -> None:
    try:
        clean(name=row.name, phone=row.phone, email=row.email, city=row.city)
    except ContactValidationError as exc:
        row.errors.update(exc.errors)
    try:
        clean_custom(row.custom, partial=True)
    except ContactValidationError as exc:
        row.errors.update(exc.errors)
    try:
        row.normalized_phone = clean_phone(row.phone)
    except ContactValidationError:
        return
    first_line = next((seen[v] for v in variants(row.normalized_phone) if v in seen), None)
    if first_line is not None:
        row.errors["phone"] = _("Duplicate of line %(line)d in this file.", line=first_line)
    else:
        seen[row.normalized_phone] = row.line


def import_valid(
    preview: ImportPreview, *, by: Agent | None, filename: str = "", progress: Callable[[int], None] | None = None
) -> list[Contact]:
    """Create a contact for each valid row, calling progress(rows done so far) after each. The
    caller commits once: all rows or none."""
    created = []
    for row in preview.valid_rows:
        created.append(
            create(
                name=row.name, phone=row.phone, email=row.email, city=row.city, custom=row.custom,
                custom_partial=True, by=by,
            )
        )
        if progress is not None:
            progress(len(created))
    audit.record(
        "contacts.imported",
        actor=by,
        target=("contacts", None),
        created=len(created),
        skipped=len(preview.invalid_rows),
        filename=filename[:200],
    )
    return created


EXPORT_BATCH_ROWS = 2_000


def export_filtered(
    query: str, city: str, *, by: Agent, delimiter: str = ",", fields: dict[str, str] | None = None
) -> Iterator[str]:
    """The contacts matching the list's filters as CSV, in chunks; a bulk copy of customer data is
    audited (recorded here, before the first chunk: the caller commits, then streams).

    The rows are read in batches through a server-side cursor and written as they come, so an
    export of a million contacts holds one batch in memory, not the whole file
    (docs/benchmarks.md, ten times the data)."""
    stmt = filtered(query, city, fields)
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    audit.record("contacts.exported", actor=by, target=("contacts", None), count=count, q=query, city=city)
    columns = stmt.with_only_columns(
        Contact.name, Contact.phone, Contact.email, Contact.city, Contact.created_at, Contact.custom_fields
    )
    return _csv_chunks(columns, delimiter, custom_fields.definitions(custom_fields.Entity.contact))


def _csv_chunks(stmt, delimiter: str, definitions: list) -> Iterator[str]:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([*EXPORT_HEADERS, *(d.key for d in definitions)])
    result = db.session.execute(stmt, execution_options={"yield_per": EXPORT_BATCH_ROWS})
    for batch in result.partitions():
        for *row, values in batch:
            values = values or {}
            writer.writerow(
                _export_row(*row)
                + [custom_fields.csv_value(d, values.get(d.key), delimiter) for d in definitions]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def _export_row(name, phone, email, city, created_at) -> list[str]:
    return [
        safe_cell(name),
        phone,
        safe_cell(email or ""),
        safe_cell(city or ""),
        created_at.strftime("%Y-%m-%d %H:%M") if created_at else "",
    ]

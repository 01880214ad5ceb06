"""Quick replies ("respostas rápidas"): saved texts an agent inserts by typing `/shortcut`.

Shared replies (owner_id null) are kept by supervisors; personal ones belong to one agent. Each
agent sees one namespace of shortcuts: a shortcut is unique among the shared replies and among one
agent's own, and a personal shortcut may not repeat a shared one (nor a new shared one an existing
personal one), so `/x` always means one reply. Shortcuts are stored case-folded, without the `/`.

A body may name variables in double braces, filled on the server when the reply is inserted into a
conversation's composer. VARIABLES is the table of fixed names; `register_variable` adds more, and
`known_variables` adds the contacts' custom fields ({{contact.<key>}}, their formatted value) as
admins define them. A body naming an unknown variable is refused when saved.

A reply may carry an attachment (a price list, a form): checked and kept by the composer's rules
(`attachments.store`: content sniffed, extension and type agreeing, size, file name), against every
kind the installation's channels send; the conversation it is sent to checks it again
(`attachments.reuse`). Sent from the composer, the text goes as its caption, or as a message of its
own before the file when it does not fit one (`attachments.send_with_text`). A file refused leaves
nothing: no row changes and the copy is removed. A file the reply no longer names is returned by
`update`/`delete` for the caller to `attachments.discard` after its commit (a sent message may still
name it).

CSV import is all or nothing: `parse_csv` checks every row (a shortcut that exists already, or twice
in the file, is an error of that row) and `import_rows` refuses to write anything while any row has
an error. A CSV carries text only: export names a reply's file in its `attachment` column, and
import ignores that column (an imported reply has no file; attach one on its edit page). Callers
commit.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Agent, Contact, Conversation, Message, QuickReply
from portal.services import attachments, audit, custom_fields
from portal.services.contact_csv import decode, detect_delimiter
from portal.services.outbound import MAX_TEXT_LENGTH
from portal.services.spreadsheet import safe_cell

SHORTCUT = re.compile(r"^[\w-]{1,40}$")
VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# Small enough to travel back in the confirm form under the app-wide request limit.
MAX_IMPORT_BYTES = 256 * 1024
MAX_IMPORT_ROWS = 2000
CSV_HEADERS = ("shortcut", "body", "attachment")
HEADER_ALIASES = {"shortcut": ("shortcut", "atalho"), "body": ("body", "texto", "mensagem", "message", "text")}
# Read only to say that its files are not imported (a CSV cannot carry them).
ATTACHMENT_ALIASES = ("attachment", "anexo", "arquivo", "file")


@dataclass(frozen=True)
class FillContext:
    """What a variable may read: the conversation's contact and the agent inserting the reply."""

    contact: Contact
    agent: Agent


@dataclass(frozen=True)
class Variable:
    label: object
    resolve: Callable[[FillContext], str]


def _first_word(text: str | None) -> str:
    return (text or "").split(" ", 1)[0].strip()


VARIABLES: dict[str, Variable] = {}


def register_variable(name: str, label: object, resolve: Callable[[FillContext], str]) -> None:
    """Make {{name}} known to quick-reply bodies (validation, filling and the help list)."""
    VARIABLES[name] = Variable(label, resolve)


register_variable("contact.name", _l("The contact's full name"), lambda c: c.contact.name or "")
register_variable("contact.first_name", _l("The contact's first name"), lambda c: _first_word(c.contact.name))
register_variable("agent.name", _l("Your full name"), lambda c: c.agent.name or "")
register_variable("agent.first_name", _l("Your first name"), lambda c: _first_word(c.agent.name))


def _custom_resolver(defn) -> Callable[[FillContext], str]:
    return lambda c: custom_fields.display(defn, (c.contact.custom_fields or {}).get(defn.key))


def known_variables() -> dict[str, Variable]:
    """The fixed variables and one per custom field of contacts."""
    known = dict(VARIABLES)
    for defn in custom_fields.definitions(custom_fields.Entity.contact):
        known.setdefault(f"contact.{defn.key}", Variable(defn.label, _custom_resolver(defn)))
    return known


class QuickReplyError(ValueError):
    """Readable reasons a quick-reply change was refused, by the form field each belongs to."""

    def __init__(self, message: str, field: str = "body", **more: str):
        super().__init__(" ".join([message, *more.values()]))
        self.errors = {field: message, **more}


def normalize_shortcut(raw: str | None) -> str:
    return (raw or "").strip().removeprefix("/").casefold()


def shortcut_error(shortcut: str) -> str | None:
    if not SHORTCUT.fullmatch(shortcut):
        return _("A shortcut is 1 to 40 letters, digits, - or _, without spaces.")
    return None


def _braced(name: str) -> str:
    return "{{" + name + "}}"


def body_errors(body: str) -> list[str]:
    """Why the body cannot be saved (empty list when it can)."""
    if not body.strip():
        return [_("Write the text of the quick reply.")]
    errors = []
    if len(body) > MAX_TEXT_LENGTH:
        errors.append(_("A quick reply holds at most %(max)d characters.", max=MAX_TEXT_LENGTH))
    known = known_variables()
    unknown = sorted({name for name in VARIABLE.findall(body) if name not in known})
    if unknown:
        errors.append(
            _(
                "Unknown variable: %(found)s. Use one of: %(known)s.",
                found=", ".join(_braced(name) for name in unknown),
                known=", ".join(_braced(name) for name in known),
            )
        )
    return errors


def usable_stmt(agent: Agent) -> Select:
    """The replies the agent may insert: the shared ones and their own."""
    return select(QuickReply).where(or_(QuickReply.owner_id.is_(None), QuickReply.owner_id == agent.id))


def usable_by(agent: Agent) -> list[QuickReply]:
    return list(db.session.scalars(usable_stmt(agent).order_by(QuickReply.shortcut)))


def listed(owner: Agent | None, query: str = "") -> list[QuickReply]:
    """The shared replies (owner None) or one agent's own, filtered by shortcut or text."""
    owned = QuickReply.owner_id.is_(None) if owner is None else QuickReply.owner_id == owner.id
    stmt = select(QuickReply).where(owned).order_by(QuickReply.shortcut)
    query = query.strip()
    if query:
        pattern = "%" + query.casefold().removeprefix("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(QuickReply.shortcut.like(pattern, escape="\\"), func.lower(QuickReply.body).like(pattern, escape="\\"))
        )
    return list(db.session.scalars(stmt))


def _clash(shortcut: str, owner: Agent | None, exclude_id: int | None = None) -> str | None:
    """Why `shortcut` cannot be used in `owner`'s scope now, or None."""
    same = select(QuickReply.id).where(QuickReply.shortcut == shortcut)
    if exclude_id is not None:
        same = same.where(QuickReply.id != exclude_id)
    if owner is None:
        if db.session.scalar(same.where(QuickReply.owner_id.is_(None)).limit(1)) is not None:
            return _("The shared shortcut /%(shortcut)s already exists.", shortcut=shortcut)
        personal = db.session.scalar(
            select(func.count()).select_from(same.where(QuickReply.owner_id.is_not(None)).subquery())
        )
        if personal:
            return ngettext(
                "/%(shortcut)s is already the personal shortcut of %(num)d agent: choose another.",
                "/%(shortcut)s is already the personal shortcut of %(num)d agents: choose another.",
                personal,
                shortcut=shortcut,
            )
        return None
    if db.session.scalar(same.where(QuickReply.owner_id == owner.id).limit(1)) is not None:
        return _("You already have a quick reply /%(shortcut)s.", shortcut=shortcut)
    if db.session.scalar(same.where(QuickReply.owner_id.is_(None)).limit(1)) is not None:
        return _("/%(shortcut)s is already a shared quick reply: choose another shortcut.", shortcut=shortcut)
    return None


def normalize_body(body: str | None) -> str:
    """Browsers send a textarea's line breaks as CRLF; one break is one character, as in the composer."""
    return (body or "").replace("\r\n", "\n")


class Upload(Protocol):
    """A file as a form brings it (werkzeug's FileStorage)."""

    stream: BinaryIO
    filename: str | None
    mimetype: str | None


def _checked(
    shortcut: str, body: str, owner: Agent | None, exclude_id: int | None = None, file: Upload | None = None
) -> tuple[str, attachments.StoredFile | None]:
    """The normalized shortcut and the kept file, or QuickReplyError with every field's problem
    (and nothing kept)."""
    shortcut = normalize_shortcut(shortcut)
    errors = {}
    if problem := shortcut_error(shortcut) or _clash(shortcut, owner, exclude_id):
        errors["shortcut"] = problem
    if problems := body_errors(body):
        errors["body"] = " ".join(problems)
    stored = None
    if file is not None:
        try:
            stored = attachments.store(file.stream, file.filename, file.mimetype, attachments.channel_kinds())
        except attachments.AttachmentError as error:
            errors["file"] = str(error)
    if errors:
        if stored is not None:
            attachments.discard(stored.relative)
        field, message = errors.popitem()
        raise QuickReplyError(message, field, **errors)
    return shortcut, stored


def _flush(reply: QuickReply, stored: attachments.StoredFile | None) -> None:
    """Flush in a savepoint: a reply saved by someone else meanwhile is a clash, not a crash (and
    the file kept for it is let go)."""
    try:
        with db.session.begin_nested():
            db.session.add(reply)
    except IntegrityError:
        if stored is not None:
            attachments.discard(stored.relative)
        raise QuickReplyError(_("That shortcut was just taken: choose another."), field="shortcut") from None


def _attach(reply: QuickReply, stored: attachments.StoredFile | None) -> None:
    reply.media_url = stored.relative if stored else None
    reply.media_mime_type = stored.mime_type if stored else None
    reply.media_sha256 = stored.sha256 if stored else None
    reply.media_filename = stored.filename if stored else None
    reply.media_size = stored.size if stored else None


def create(shortcut: str, body: str, *, owner: Agent | None, by: Agent, file: Upload | None = None) -> QuickReply:
    """A new reply, with `file` attached when one is given. The caller commits, and discards
    `reply.media_url` if its commit fails."""
    body = normalize_body(body)
    shortcut, stored = _checked(shortcut, body, owner, file=file)
    reply = QuickReply(shortcut=shortcut, body=body, owner_id=owner.id if owner else None)
    _attach(reply, stored)
    _flush(reply, stored)
    audit.record("quick_reply.created", actor=by, target=reply, shortcut=reply.shortcut, file=reply.media_filename)
    return reply


def update(
    reply: QuickReply,
    shortcut: str,
    body: str,
    *,
    by: Agent,
    file: Upload | None = None,
    remove_file: bool = False,
) -> str | None:
    """Change the reply; a new `file` replaces its attachment, `remove_file` drops it. Returns the
    file the reply no longer names, for the caller to `attachments.discard` after its commit."""
    owner = db.session.get(Agent, reply.owner_id) if reply.owner_id is not None else None
    body = normalize_body(body)
    shortcut, stored = _checked(shortcut, body, owner, exclude_id=reply.id, file=file)
    previous = reply.media_url
    reply.shortcut = shortcut
    reply.body = body
    if stored is not None or remove_file:
        _attach(reply, stored)
    _flush(reply, stored)
    audit.record("quick_reply.updated", actor=by, target=reply, shortcut=reply.shortcut, file=reply.media_filename)
    return previous if previous != reply.media_url else None


def delete(reply: QuickReply, *, by: Agent) -> str | None:
    """Delete the reply; returns its file, for the caller to `attachments.discard` after its commit."""
    audit.record("quick_reply.deleted", actor=by, target=reply, shortcut=reply.shortcut)
    db.session.delete(reply)
    return reply.media_url


def usable(agent: Agent, reply_id: int | None) -> QuickReply | None:
    """The reply `reply_id` if the agent may insert it (a shared one or their own)."""
    if reply_id is None:
        return None
    return db.session.scalar(usable_stmt(agent).where(QuickReply.id == reply_id))


def send_attachment(
    conversation: Conversation,
    reply: QuickReply,
    text: str,
    *,
    by: Agent,
    reply_to: Message | None = None,
) -> list[Message]:
    """Send the reply's file to the conversation with the composer's `text` (the reply filled in,
    as the agent left it): the composer's attachment path, from a file kept once."""
    if reply.media_url is None:
        raise attachments.AttachmentError(_("The quick reply /%(shortcut)s has no file.", shortcut=reply.shortcut))
    stored = attachments.reuse(
        conversation, reply.media_url, reply.media_mime_type, reply.media_sha256, reply.media_size, reply.media_filename
    )
    return attachments.send_with_text(conversation, stored, text, by=by, reply_to=reply_to)


def fill(body: str, conversation: Conversation, agent: Agent) -> str:
    """The body with its variables replaced for this conversation's contact and this agent."""
    context = FillContext(contact=conversation.contact, agent=agent)
    known = known_variables()

    def value(match: re.Match) -> str:
        variable = known.get(match.group(1))
        return variable.resolve(context) if variable is not None else match.group(0)

    return VARIABLE.sub(value, body)


# -- CSV -------------------------------------------------------------------------------------------------


class CsvError(ValueError):
    """The file as a whole cannot be read."""


@dataclass
class ImportRow:
    line: int
    shortcut: str
    body: str
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    # Rows whose attachment cell names a file: imported without it.
    files_left_out: int = 0

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row.errors)


def _column_positions(headers: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        for key, aliases in HEADER_ALIASES.items():
            if header.strip().casefold() in aliases and key not in positions:
                positions[key] = index
    if len(positions) < len(HEADER_ALIASES):
        raise CsvError(_("The file needs a shortcut column (atalho/shortcut) and a text column (texto/body)."))
    return positions


def parse_csv(data: bytes, owner: Agent | None) -> ImportPreview:
    """Every row of the file with its problems; writes nothing."""
    if len(data) > MAX_IMPORT_BYTES:
        raise CsvError(_("The file is larger than %(size)d KB.", size=MAX_IMPORT_BYTES // 1024))
    text = decode(data)
    if "\x00" in text:
        raise CsvError(_("This is not a CSV text file."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
    try:
        headers = next(reader)
    except StopIteration:
        raise CsvError(_("The file is empty.")) from None
    except csv.Error:
        raise CsvError(_("This is not a CSV text file.")) from None
    positions = _column_positions(headers)
    attachment_at = next((i for i, h in enumerate(headers) if h.strip().casefold() in ATTACHMENT_ALIASES), None)
    rows: list[ImportRow] = []
    seen: set[str] = set()
    files_left_out = 0
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise CsvError(_("The file has more than %(max)d rows.", max=MAX_IMPORT_ROWS))
            cell = {key: cells[i] if i < len(cells) else "" for key, i in positions.items()}
            if attachment_at is not None and attachment_at < len(cells) and cells[attachment_at].strip():
                files_left_out += 1
            row = ImportRow(reader.line_num, normalize_shortcut(cell["shortcut"]), normalize_body(cell["body"]))
            problem = shortcut_error(row.shortcut) or (
                _("/%(shortcut)s appears more than once in the file.", shortcut=row.shortcut)
                if row.shortcut in seen
                else _clash(row.shortcut, owner)
            )
            row.errors = ([problem] if problem else []) + body_errors(row.body)
            seen.add(row.shortcut)
            rows.append(row)
    except csv.Error:
        raise CsvError(_("This is not a CSV text file.")) from None
    if not rows:
        raise CsvError(_("The file has no rows under its header."))
    return ImportPreview(rows, files_left_out)


def import_rows(preview: ImportPreview, *, owner: Agent | None, by: Agent) -> int:
    """Write every row, or nothing when any row has a problem."""
    if preview.error_count:
        raise QuickReplyError(_("Fix the rows with problems and upload the file again: nothing was imported."))
    for row in preview.rows:
        _flush(QuickReply(shortcut=row.shortcut, body=row.body, owner_id=owner.id if owner else None), None)
    audit.record("quick_replies.imported", actor=by, count=len(preview.rows))
    return len(preview.rows)


def export_csv(replies: Iterable[QuickReply], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(CSV_HEADERS)
    for reply in replies:
        writer.writerow([safe_cell(reply.shortcut), safe_cell(reply.body), safe_cell(reply.media_filename or "")])
    return "\ufeff" + out.getvalue()

"""The quick-reply pages, once for each scope: shared (supervisors) and personal (each agent's own).

Each page function takes the Scope it serves; `_register` binds it to both URL prefixes with the
role that scope needs, so the two sets of pages cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal import channels
from portal.access import role_required
from portal.extensions import csrf, db
from portal.models import Agent, Conversation, QuickReply, Role
from portal.quick_replies import bp
from portal.quick_replies.forms import ImportConfirmForm, ImportUploadForm, QuickReplyForm
from portal.services import attachments, conversations, quick_replies
from portal.services.quick_replies import CsvError, QuickReplyError
from portal.web import UploadTooLarge, check_csrf, uploaded_file


@dataclass(frozen=True)
class Scope:
    name: str  # "shared" or "personal": the endpoint prefix

    @property
    def personal(self) -> bool:
        return self.name == "personal"

    @property
    def owner(self) -> Agent | None:
        return current_user if self.personal else None

    def url(self, page: str, **values) -> str:
        return url_for(f"quick_replies.{self.name}_{page}", **values)

    def holds(self, reply: QuickReply) -> bool:
        return reply.owner_id == (current_user.id if self.personal else None)


SHARED = Scope("shared")
PERSONAL = Scope("personal")


@bp.app_template_global()
def composer_max_length(conversation: Conversation) -> int | None:
    """The longest text the conversation's channel takes in one message (the composer's counter)."""
    adapter = channels.adapter_for(conversation)
    return adapter.max_text_length if adapter is not None else None


@bp.app_template_filter("file_size")
def file_size(size: int | None) -> str:
    return attachments.human_size(size or 0)


@bp.app_template_global()
def quick_reply_file_types() -> str:
    """The file picker's `accept`: every type a channel of this installation sends."""
    return ",".join(sorted({mime for kind in attachments.channel_kinds() for mime in kind.mime_types}))


@bp.app_template_global()
def caption_max_length() -> int:
    """The longest caption a file takes (the composer's counter while one is attached)."""
    return attachments.MAX_CAPTION_LENGTH


@bp.context_processor
def _variables():
    return {"quick_reply_variables": quick_replies.known_variables()}


def _reply_or_404(scope: Scope, reply_id: int) -> QuickReply:
    reply = db.session.get(QuickReply, reply_id)
    if reply is None or not scope.holds(reply):
        abort(404)
    return reply


def _largest_file() -> int:
    return max((kind.max_bytes for kind in attachments.channel_kinds()), default=0)


def _form(reply: QuickReply | None) -> tuple[QuickReplyForm, int]:
    """The form as posted, its file read under the largest attachment's limit (a larger body is
    refused before it is read: the page again, 413, with the reason on the file field)."""
    if request.method != "POST":
        return QuickReplyForm(obj=reply), 200
    largest = _largest_file()
    try:
        uploaded_file(largest)
    except UploadTooLarge:
        form = QuickReplyForm(formdata=None, obj=reply)
        form.file.errors = [_("The file is too large: WhatsApp takes at most %(size)s.", size=attachments.human_size(largest))]
        return form, 413
    check_csrf(request.form.get("csrf_token"))
    return QuickReplyForm(), 200


def _save(scope: Scope, reply: QuickReply | None):
    form, status = _form(reply)
    if status == 200 and form.validate_on_submit():
        kept = None
        try:
            if reply is None:
                reply = quick_replies.create(
                    form.shortcut.data, form.body.data, owner=scope.owner, by=current_user, file=form.file.data
                )
                released = None
            else:
                released = quick_replies.update(
                    reply, form.shortcut.data, form.body.data, by=current_user,
                    file=form.file.data, remove_file=form.remove_file.data,
                )
            kept = reply.media_url
            db.session.commit()
        except QuickReplyError as error:
            db.session.rollback()
            for field, message in error.errors.items():
                getattr(form, field).errors.append(message)
        except Exception:
            db.session.rollback()
            if kept is not None:
                attachments.discard(kept)
            raise
        else:
            if released is not None:
                attachments.discard(released)
            flash(_("Quick reply /%(shortcut)s saved.", shortcut=reply.shortcut), "success")
            return redirect(scope.url("index"))
    return render_template("quick_replies/form.html", form=form, reply=reply, scope=scope), status


def index(scope: Scope):
    query = request.args.get("q", "")
    replies = quick_replies.listed(scope.owner, query)
    return render_template("quick_replies/index.html", replies=replies, query=query, scope=scope)


def create(scope: Scope):
    return _save(scope, None)


def edit(scope: Scope, reply_id: int):
    return _save(scope, _reply_or_404(scope, reply_id))


def delete(scope: Scope, reply_id: int):
    """GET asks first and says what will happen; POST deletes."""
    reply = _reply_or_404(scope, reply_id)
    if request.method == "POST":
        shortcut = reply.shortcut
        released = quick_replies.delete(reply, by=current_user)
        db.session.commit()
        if released is not None:
            attachments.discard(released)
        flash(_("Quick reply /%(shortcut)s deleted.", shortcut=shortcut), "success")
        return redirect(scope.url("index"))
    return render_template("quick_replies/delete.html", reply=reply, scope=scope)


def export(scope: Scope):
    # Excel in pt-BR expects semicolons: the comma is its decimal mark.
    delimiter = ";" if str(get_locale() or "").startswith("pt") else ","
    text = quick_replies.export_csv(quick_replies.listed(scope.owner), delimiter)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=quick-replies.csv"
    return response


def _preview(scope: Scope, data: bytes, form: ImportUploadForm):
    try:
        preview = quick_replies.parse_csv(data, scope.owner)
    except CsvError as error:
        form.file.errors = [str(error)]
        return render_template("quick_replies/import.html", form=form, scope=scope)
    confirm = ImportConfirmForm(csv_text=quick_replies.decode(data))
    return render_template("quick_replies/import_preview.html", preview=preview, confirm=confirm, scope=scope)


def import_upload(scope: Scope):
    form = ImportUploadForm()
    if form.validate_on_submit():
        return _preview(scope, form.file.data.read(), form)
    return render_template("quick_replies/import.html", form=form, scope=scope)


def import_confirm(scope: Scope):
    """Checks the previewed file again (replies may have changed since) and writes all of it or nothing."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    data = form.csv_text.data.encode()
    try:
        count = quick_replies.import_rows(quick_replies.parse_csv(data, scope.owner), owner=scope.owner, by=current_user)
    except (CsvError, QuickReplyError):
        db.session.rollback()
        flash(_("Some rows have problems now: nothing was imported."), "error")
        return _preview(scope, data, ImportUploadForm(formdata=None))
    db.session.commit()
    flash(ngettext("%(num)d quick reply imported.", "%(num)d quick replies imported.", count), "success")
    return redirect(scope.url("index"))


PAGES: tuple[tuple[str, str, Callable, tuple[str, ...]], ...] = (
    ("", "index", index, ("GET",)),
    ("/new", "create", create, ("GET", "POST")),
    ("/<int:reply_id>/edit", "edit", edit, ("GET", "POST")),
    ("/<int:reply_id>/delete", "delete", delete, ("GET", "POST")),
    ("/export.csv", "export", export, ("GET",)),
    ("/import", "import_upload", import_upload, ("GET", "POST")),
    ("/import/confirm", "import_confirm", import_confirm, ("POST",)),
)


# The pages whose form takes a file.
FILE_PAGES = ("create", "edit")


def _register(scope: Scope, prefix: str, role: Role) -> None:
    for rule, page, function, methods in PAGES:

        def view(function=function, **values):
            return function(scope, **values)

        endpoint = f"{scope.name}_{page}"
        view.__name__ = endpoint
        if page in FILE_PAGES:
            csrf.exempt(view)  # checked in _form, once the body may be as large as a file (portal.web.check_csrf)
        bp.add_url_rule(prefix + rule, endpoint, role_required(role)(view), methods=list(methods))


_register(SHARED, "/quick-replies", Role.supervisor)
_register(PERSONAL, "/profile/quick-replies", Role.agent)


@bp.route("/conversations/<int:conversation_id>/quick-replies")
@role_required(Role.agent)
def picker(conversation_id: int):
    """The replies the agent may insert, filled for this conversation (the composer's `/` list)."""
    conversation = db.get_or_404(Conversation, conversation_id)
    refusal = conversations.refusal_status(current_user, conversation)
    if refusal is not None:  # 404 outside the agent's inboxes: not even its existence is told
        abort(refusal)
    return jsonify(
        [
            {
                "id": reply.id,
                "shortcut": reply.shortcut,
                "body": quick_replies.fill(reply.body, conversation, current_user),
                "scope": _("Shared") if reply.shared else _("Personal"),
                "attachment": {
                    "name": reply.media_filename,
                    "size": attachments.human_size(reply.media_size),
                    "audio": reply.media_mime_type.startswith("audio/"),
                }
                if reply.media_url
                else None,
            }
            for reply in quick_replies.usable_by(current_user)
        ]
    )

"""The e-mail channel's pages: Admin > Inboxes for an e-mail address (settings, members, the two
"test connection" buttons, which try what is typed before anything is saved), and the frame that
shows an HTML-only mail (portal.channels.email.render)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.access import role_required
from portal.admin.forms import InboxEnabledForm, csat_form_for
from portal.channels.base import ChannelError
from portal.channels.email import client, config, render
from portal.extensions import db
from portal.models import Agent, Channel, Conversation, Inbox, Message, Role
from portal.services import conversations, inboxes

bp = Blueprint("email", __name__)

SECURITY_CHOICES = [("tls", _l("TLS")), ("starttls", _l("STARTTLS")), ("none", _l("None (only on a trusted network)"))]
FIELDS = (
    "imap_host", "imap_port", "imap_security", "imap_user", "imap_password", "folder",
    "smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_password", "from_name", "from_address", "signature",
)


class EmailInboxForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    imap_host = StringField(_l("IMAP server"), validators=[Length(max=255)])
    imap_port = IntegerField(_l("IMAP port"), validators=[Optional(), NumberRange(1, 65535)])
    imap_security = SelectField(_l("IMAP security"), choices=SECURITY_CHOICES)
    imap_user = StringField(_l("IMAP user"), validators=[Length(max=254)])
    imap_password = PasswordField(
        _l("IMAP password or app password"),
        validators=[Length(max=500)],
        description=_l("Stored encrypted and never shown again. When editing, leave empty to keep the stored one."),
    )
    folder = StringField(_l("Folder"), default="INBOX", validators=[Length(max=200)],
                         description=_l("Read only: mails are never deleted or moved."))
    smtp_host = StringField(_l("SMTP server"), validators=[Length(max=255)])
    smtp_port = IntegerField(_l("SMTP port"), validators=[Optional(), NumberRange(1, 65535)])
    smtp_security = SelectField(_l("SMTP security"), choices=SECURITY_CHOICES)
    smtp_user = StringField(_l("SMTP user"), validators=[Length(max=254)],
                            description=_l("Leave empty for a server that takes mail without signing in."))
    smtp_password = PasswordField(_l("SMTP password"), validators=[Length(max=500)])
    from_name = StringField(_l("From name"), validators=[Length(max=100)])
    from_address = StringField(_l("From address"), validators=[Length(max=254)])
    signature = TextAreaField(_l("Signature"), validators=[Length(max=2000)],
                              description=_l("Added below every reply from this inbox."))
    members = SelectMultipleField(
        _l("Agents who work this inbox"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


def _form(inbox: Inbox | None) -> EmailInboxForm:
    form = EmailInboxForm(data={"name": inbox.name, **config.form_values(inbox)} if inbox else None)
    agents = list(db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)))
    form.members.choices = [(a.id, f"{a.name} ({a.email})") for a in agents]
    if not form.is_submitted():
        form.members.data = [a.id for a in inbox.agents] if inbox else [a.id for a in agents if a.role == Role.agent]
    return form


def _values(form: EmailInboxForm) -> dict:
    return {name: getattr(form, name).data for name in FIELDS}


@bp.route("/admin/inboxes/email/new", methods=["GET", "POST"])
@role_required(Role.admin)
def inbox_new():
    form = _form(None)
    result = _test(form, None)
    if result is None and form.validate_on_submit() and (inbox := _save(form, None)) is not None:
        flash(_("The inbox %(name)s was created.", name=inbox.name), "success")
        return redirect(url_for("admin.inbox_list"))
    return render_template("email/inbox_form.html", form=form, inbox=None, test_result=result)


@bp.route("/admin/inboxes/<int:inbox_id>/email", methods=["GET", "POST"])
@role_required(Role.admin)
def inbox_edit(inbox_id: int):
    inbox = db.session.get(Inbox, inbox_id)
    if inbox is None or inbox.channel != Channel.email:
        abort(404)
    form = _form(inbox)
    result = _test(form, inbox)
    if result is None and form.validate_on_submit() and _save(form, inbox) is not None:
        flash(_("The inbox %(name)s was saved.", name=inbox.name), "success")
        return redirect(url_for("admin.inbox_list"))
    return render_template(
        "email/inbox_form.html",
        form=form,
        inbox=inbox,
        test_result=result,
        enabled_form=InboxEnabledForm(),
        csat_form=csat_form_for(inbox),
    )


def _save(form: EmailInboxForm, inbox: Inbox | None) -> Inbox | None:
    members = list(db.session.scalars(select(Agent).where(Agent.id.in_(form.members.data or []))))
    try:
        if inbox is None:
            inbox = config.create_inbox(_values(form), name=form.name.data, by=current_user)
        else:
            config.update_inbox(inbox, _values(form), name=form.name.data, by=current_user)
        inboxes.set_members(inbox, members, by=current_user)
    except inboxes.InboxError as exc:
        db.session.rollback()
        getattr(form, exc.field or "name").errors.append(str(exc))
        return None
    db.session.commit()
    return inbox


def _test(form: EmailInboxForm, inbox: Inbox | None) -> tuple[bool, str] | None:
    """Run the test button pressed, if one was: (worked, what to show)."""
    kind = request.form.get("test") if request.method == "POST" else None
    if kind not in ("imap", "smtp") or not form.validate_on_submit():
        return None
    settings = config.candidate(_values(form), inbox)
    try:
        if kind == "imap":
            connection = client.imap_connect(settings.imap, timeout=10)
            try:
                client.imap_select(connection, settings.folder)
                count = int((connection.response("EXISTS")[1] or [b"0"])[-1] or 0)
            finally:
                connection.logout()
            return True, _("IMAP works: the folder %(folder)s holds %(count)d mails.", folder=settings.folder, count=count)
        connection = client.smtp_connect(settings.smtp, timeout=10)
        connection.quit()
        if settings.smtp.user:
            return True, _("SMTP works: the server accepted the connection and the sign-in.")
        return True, _("SMTP works: the server accepted the connection.")
    except ChannelError as error:
        return False, _("The connection failed: %(reason)s", reason=error.title)


@bp.route("/conversations/<int:conversation_id>/messages/<int:message_id>/email")
@role_required(Role.agent)
def frame(conversation_id: int, message_id: int):
    """An HTML mail inside the thread's sandboxed frame; `?remote=1` when the agent asked for its
    remote images."""
    conversation = db.session.get(Conversation, conversation_id)
    message = db.session.get(Message, message_id)
    if conversation is None or message is None or message.conversation_id != conversation.id:
        abort(404)
    refused = conversations.refusal_status(current_user, conversation)
    if refused:
        abort(refused)
    remote = request.args.get("remote") == "1"
    body = render_template("email/frame.html", body=render.frame_html(message, remote=remote))
    response = Response(body, mimetype="text/html")
    images = "img-src 'self' data: https: http:" if remote else "img-src 'self' data:"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; {images}; style-src 'self'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'; "
        "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response

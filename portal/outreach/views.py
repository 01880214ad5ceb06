"""/conversations/new: choose who (a contact, a phone in any format, or a name to search) and the
inbox; the page then says what may go out (a template only, or free text) before anything is typed."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.access import role_required
from portal.extensions import db
from portal.models import Contact, Inbox, MessageTemplate, Role
from portal.outreach import bp
from portal.services import contact_admin, contacts, outreach, templates
from portal.web import row_id

CANDIDATES = 10


def _arg(name: str) -> str:
    return (request.values.get(name) or "").strip()[:200]


def _choice() -> dict:
    """Who and from where, as the query string (or the posted form) names them."""
    contact_id = row_id(request.values.get("contact_id"))
    contact = db.session.get(Contact, contact_id) if contact_id is not None else None
    who = _arg("who")
    phone = outreach.phone_of(who) if contact is None and who else None
    if contact is None and phone is not None:
        contact = contacts.find_by_phone(phone)
    candidates = []
    if contact is None and phone is None and who:
        candidates = list(db.session.scalars(contact_admin.filtered(who).limit(CANDIDATES)))
    usable = outreach.usable_inboxes(current_user)
    inbox_id = row_id(request.values.get("inbox_id"))
    inbox = next((i for i in usable if i.id == inbox_id), usable[0] if len(usable) == 1 else None)
    return {
        "contact": contact,
        "who": who,
        "phone": phone,
        "name": _arg("name"),
        "candidates": candidates,
        "inboxes": usable,
        "inbox": inbox,
    }


def _page(choice: dict, errors: dict[str, str] | None = None, status: int = 200):
    ready = choice["inbox"] is not None and (choice["contact"] is not None or choice["phone"] is not None)
    window = outreach.window(choice["contact"], choice["inbox"]) if ready else None
    offered = templates.sendable_templates(choice["inbox"]) if ready else []
    template_id = row_id(request.values.get("template_id"))
    chosen = next((t for t in offered if t.id == template_id), None)
    params = request.form.getlist("params") if request.method == "POST" else []
    count = templates.placeholder_count(chosen.body) if chosen else 0
    params = (params + [""] * count)[:count]
    return (
        render_template(
            "outreach/new.html",
            **choice,
            ready=ready,
            window=window,
            offered=offered,
            chosen=chosen,
            chosen_header=templates.header_parameter(chosen) if chosen else None,
            chosen_buttons=templates.parameter_buttons(chosen) if chosen else [],
            header_kind_label=templates.header_kind_label,
            params=params,
            body=request.form.get("body", ""),
            errors=errors or {},
            form=FlaskForm(),
        ),
        status,
    )


@bp.route("/conversations/new", methods=["GET"])
@role_required(Role.agent)
def new():
    return _page(_choice())


@bp.route("/conversations/new", methods=["POST"])
@role_required(Role.agent)
def start():
    choice = _choice()
    if not FlaskForm().validate_on_submit():
        return _page(choice, {"message": _("The form expired: send it again.")}, 400)
    template_id = row_id(request.form.get("template_id"))
    template = db.session.get(MessageTemplate, template_id) if template_id is not None else None
    inbox_id = row_id(request.form.get("inbox_id"))
    try:
        contact = outreach.contact_for(
            contact_id=choice["contact"].id if choice["contact"] else None,
            phone=choice["phone"],
            name=choice["name"],
            by=current_user,
        )
        message = outreach.start(
            contact,
            db.session.get(Inbox, inbox_id) if inbox_id is not None else None,
            by=current_user,
            body=request.form.get("body"),
            template=template,
            params=templates.clean_parameters(
                request.form.getlist("params"),
                request.form.get("header_text", ""),
                request.form.get("header_link", ""),
                request.form.get("header_filename", ""),
                request.form.getlist("buttons"),
                template=template,
            )
            if template is not None
            else None,
        )
    except outreach.OutreachError as error:
        db.session.rollback()
        return _page(_choice(), error.errors, 422)
    db.session.commit()
    return redirect(url_for("inbox.thread", conversation_id=message.conversation_id))

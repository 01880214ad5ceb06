from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.contacts import bp
from portal.contacts.forms import ContactForm, EraseForm, ImportConfirmForm, ImportUploadForm, MergeForm
from portal.extensions import csrf, db
from portal.labels import CHANNEL_LABELS
from portal.models import Channel, Contact, Conversation, Role
from portal.services import (
    contact_admin,
    contact_csv,
    contact_import,
    contact_timeline,
    conversations,
    custom_fields,
    privacy,
)
from portal.web import page_arg, render_page

PER_PAGE = 25
MERGE_CANDIDATES = 10
# Spreadsheets are bigger than the 1 MiB the rest of the app accepts.
IMPORT_MAX_BYTES = 5 * 1024 * 1024


def _contact_or_404(contact_id: int) -> Contact:
    return db.session.get(Contact, contact_id) or abort(404)


CUSTOM_PARAM = "cf_"


def _filters() -> dict[str, str]:
    """The list's filters as query arguments: q, city and cf_<key> for custom fields."""
    filters = {"q": request.args.get("q", "").strip(), "city": request.args.get("city", "").strip()}
    for name, value in request.args.items():
        if name.startswith(CUSTOM_PARAM) and value.strip():
            filters[name] = value.strip()
    return filters


def _field_filters(filters: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix(CUSTOM_PARAM): v for k, v in filters.items() if k.startswith(CUSTOM_PARAM)}


def custom_form_values(form) -> dict[str, str]:
    """The cf_<key> inputs of a posted form, key -> raw value (portal/templates/_custom_fields.html)."""
    return {k.removeprefix(CUSTOM_PARAM): v for k, v in form.items() if k.startswith(CUSTOM_PARAM)}


@bp.app_template_global("custom_field_input_value")
def _custom_field_input_value(definition, value):
    return custom_fields.input_value(definition, value)


@bp.context_processor
def _helpers():
    def conversation_url(conversation: Conversation) -> str | None:
        """A link only where this agent may open the conversation."""
        if not conversations.can_see(current_user, conversation):
            return None
        return url_for("inbox.thread", conversation_id=conversation.id)

    # Error pages (a refused CSRF token, say) render for anonymous visitors too.
    is_supervisor = current_user.is_authenticated and current_user.has_role(Role.supervisor)
    is_admin = current_user.is_authenticated and current_user.has_role(Role.admin)
    return {"conversation_url": conversation_url, "is_supervisor": is_supervisor, "is_admin": is_admin}


@bp.route("")
@role_required(Role.agent)
def index():
    filters = _filters()
    page = db.paginate(
        contact_admin.filtered(filters["q"], filters["city"], _field_filters(filters)),
        page=page_arg(),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_page(
        "contacts/_results.html",
        "contacts/index.html",
        page=page,
        filters=filters,
        cities=contact_admin.cities(),
        field_filters=custom_fields.definitions(custom_fields.Entity.contact),
    )


@bp.route("/export.csv")
@role_required(Role.supervisor)
def export():
    filters = _filters()
    # Excel in pt-BR expects semicolons: the comma is its decimal mark.
    delimiter = ";" if str(get_locale() or "").startswith("pt") else ","
    chunks = contact_csv.export_filtered(
        filters["q"], filters["city"], by=current_user, delimiter=delimiter, fields=_field_filters(filters)
    )
    db.session.commit()  # the audit record, before the first byte
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=contacts.csv"
    return response


@bp.route("/<int:contact_id>")
@role_required(Role.agent)
def detail(contact_id: int):
    contact = _contact_or_404(contact_id)
    # Conversations of inboxes the agent does not work are not shown at all (not even unlinked).
    shown = [c for c in contact.conversations if conversations.refusal_status(current_user, c) != 404]
    history = sorted(shown, key=lambda c: (c.started_at or c.created_at, c.id), reverse=True)
    # One contact across channels: the ways this customer can be reached.
    reachable = [c for c, value in ((Channel.whatsapp, contact.phone), (Channel.email, contact.email)) if value]
    # The timeline's "Older" link asks for its next page as a fragment (HTMX), or the whole page.
    timeline = contact_timeline.page(contact, current_user, page_arg())
    return render_page(
        "contacts/_timeline.html",
        "contacts/detail.html",
        timeline=timeline,
        contact=contact,
        conversations=history,
        contact_channels=reachable,
        channel_labels=CHANNEL_LABELS,
        custom=custom_fields.shown(contact, custom_fields.Entity.contact),
    )


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
@role_required(Role.agent)
def edit(contact_id: int):
    contact = _contact_or_404(contact_id)
    form = ContactForm(obj=contact)
    phone_locked = not contact_admin.may_change_phone(current_user, contact)
    if phone_locked:
        form.phone.render_kw = {"readonly": True}
        form.phone.description = _(
            "Only a supervisor, or an agent who may see all of this contact's open conversations, may change the phone."
        )
    custom_errors: dict[str, str] = {}
    custom = custom_fields.shown(contact, custom_fields.Entity.contact)
    if form.validate_on_submit():
        posted = custom_form_values(request.form)
        try:
            changed = contact_admin.update(
                contact,
                by=current_user,
                name=form.name.data,
                phone=form.phone.data,
                email=form.email.data,
                city=form.city.data,
                custom=posted,
                custom_partial=False,
            )
        except contact_admin.ContactValidationError as error:
            db.session.rollback()
            for name, message in error.errors.items():
                if name.startswith(contact_admin.CUSTOM_PREFIX):
                    custom_errors[name] = message
                else:
                    getattr(form, name).errors.append(message)
            # What was typed stays in the inputs beside its error.
            custom = [custom_fields.Shown(s.definition, posted.get(s.definition.key), "") for s in custom]
        except contact_admin.PhoneChangeRefused:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            flash(_("Contact saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("contacts.detail", contact_id=contact.id))
    return render_template(
        "contacts/edit.html", form=form, contact=contact, custom=custom, custom_errors=custom_errors
    )


@bp.route("/<int:contact_id>/merge", methods=["GET", "POST"])
@role_required(Role.supervisor)
def merge(contact_id: int):
    contact = _contact_or_404(contact_id)
    form = MergeForm()
    if form.validate_on_submit():
        other = db.session.get(Contact, form.other_id.data)
        if other is None:
            form.other_id.errors.append(_("That contact no longer exists."))
        else:
            try:
                if form.confirmed.data != "yes":
                    plan = contact_admin.plan_merge(contact, other)
                    return render_template("contacts/merge_confirm.html", plan=plan, form=form)
                result = contact_admin.merge(contact, other, by=current_user)
            except contact_admin.ContactValidationError as error:
                db.session.rollback()
                form.other_id.errors.extend(error.errors.values())
            else:
                db.session.commit()
                flash(
                    ngettext(
                        "Merged: %(num)d conversation moved to %(name)s.",
                        "Merged: %(num)d conversations moved to %(name)s.",
                        len(result.moved_conversation_ids),
                        name=contact.name,
                    ),
                    "success",
                )
                return redirect(url_for("contacts.detail", contact_id=contact.id))
    query = request.args.get("q", "").strip()
    candidates = []
    if query:
        stmt = contact_admin.filtered(query).where(Contact.id != contact.id).limit(MERGE_CANDIDATES)
        candidates = list(db.session.scalars(stmt))
    return render_page(
        "contacts/_merge_candidates.html", "contacts/merge.html", contact=contact, form=form, query=query, candidates=candidates)


@bp.route("/import", methods=["GET", "POST"])
@role_required(Role.supervisor)
@csrf.exempt
def import_upload():
    # CSRFProtect would read the body under the app-wide 1 MiB limit before this view can raise
    # it; the form's own csrf_token field is still checked by validate_on_submit().
    request.max_content_length = IMPORT_MAX_BYTES
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        try:
            preview = contact_csv.parse(data)
        except contact_csv.CsvError as error:
            form.file.errors.append(str(error))
        else:
            token = contact_csv.stash(data, current_user)
            confirm = ImportConfirmForm(token=token)
            return render_template(
                "contacts/import_preview.html", preview=preview, confirm=confirm, filename=upload.filename or ""
            )
    return render_template("contacts/import.html", form=form)


@bp.route("/import/confirm", methods=["POST"])
@role_required(Role.supervisor)
def import_confirm():
    form = ImportConfirmForm()
    data = contact_csv.unstash(form.token.data, current_user) if form.validate_on_submit() else None
    if data is None:
        flash(_("That upload has expired. Upload the file again."), "error")
        return redirect(url_for("contacts.import_upload"))
    import_id = contact_import.start(data, by=current_user, filename=request.form.get("filename", ""))
    if import_id is None:
        flash(_("The import could not be queued right now; nothing was imported. Try again in a moment."), "error")
        return redirect(url_for("contacts.import_upload"))
    contact_csv.discard(form.token.data, current_user)
    return redirect(url_for("contacts.import_progress", import_id=import_id))


@bp.route("/import/<import_id>")
@role_required(Role.supervisor)
def import_progress(import_id: str):
    status = contact_import.progress(import_id, owner=current_user) or abort(404)
    return render_page(
        "contacts/_import_progress.html",
        "contacts/import_progress.html",
        status=status,
        state_labels=contact_import.STATE_LABELS,
    )


# -- LGPD (portal.services.privacy) ---------------------------------------------------------------------


@bp.route("/<int:contact_id>/privacy")
@role_required(Role.admin)
def privacy_page(contact_id: int):
    """What the export holds and what erasing does, asked before anything is done."""
    contact = _contact_or_404(contact_id)
    return render_template(
        "contacts/privacy.html", contact=contact, plan=privacy.erase_plan(contact), form=EraseForm()
    )


@bp.route("/<int:contact_id>/privacy/export.zip")
@role_required(Role.admin)
def privacy_export(contact_id: int):
    contact = _contact_or_404(contact_id)
    chunks = privacy.export_zip(contact, by=current_user)
    db.session.commit()  # the audit record, before the first byte
    response = Response(stream_with_context(chunks), mimetype="application/zip")
    response.headers["Content-Disposition"] = f"attachment; filename=contact-{contact.id}.zip"
    return response


@bp.route("/<int:contact_id>/privacy/erase", methods=["POST"])
@role_required(Role.admin)
def privacy_erase(contact_id: int):
    contact = _contact_or_404(contact_id)
    form = EraseForm()
    if form.validate_on_submit():
        try:
            plan = privacy.erase(contact, by=current_user, confirmation=form.confirmation.data)
        except privacy.PrivacyError as error:
            db.session.rollback()
            form.confirmation.errors.append(str(error))
        else:
            db.session.commit()
            flash(
                _(
                    "Contact erased: %(messages)d messages cleared and %(files)d files deleted.",
                    messages=plan.messages,
                    files=plan.files,
                ),
                "success",
            )
            return redirect(url_for("contacts.detail", contact_id=contact.id))
    return render_template(
        "contacts/privacy.html", contact=contact, plan=privacy.erase_plan(contact), form=form
    )

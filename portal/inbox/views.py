"""The inbox: the conversation list, the thread, and the small HTMX posts that change a conversation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TypeVar
from urllib.parse import parse_qsl, urlsplit

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.access import role_required
from portal.contacts.views import custom_form_values
from portal.extensions import db
from portal.inbox import bp, bubbles, times
from portal.inbox.forms import (
    ASSIGNEE_LABELS,
    CHANNEL_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    TAB_ORDER,
    AssignForm,
    FilterForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    TagsForm,
    TeamForm,
    TemplateForm,
)
from portal.models import Agent, Conversation, ConversationStatus, Message, MessageTemplate, Role, Team
from portal.services import (
    contact_admin,
    conversations,
    custom_fields,
    inbox_queries,
    inboxes,
    media_files,
    outbound,
    read_state,
    sla,
    teams,
    templates,
)
from portal.services.conversations import ConversationError
from portal.services.inbox_queries import InboxFilter, ThreadVersion
from portal.services.outbound import OutboundError
from portal.web import int_arg, row_id, wants_fragment

# A live refresh re-reads at most this many rows of the list (the loaded pages, within reason).
MAX_REFRESHED_ROWS = 500


@bp.context_processor
def _labels():
    return {
        "status_labels": STATUS_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "format_duration": sla.format_duration,
        "bubble": bubbles,
        "times": times,
        "template_header_text": templates.header_text,
        "template_header_label": templates.header_kind_label,
        "template_footer": templates.footer_text,
        "template_buttons": templates.buttons,
        # Rows and the thread name the conversation's inbox only when the agent sees several.
        "show_inbox_names": current_user.is_authenticated and len(inboxes.visible_inboxes(current_user)) > 1,
    }


@dataclass(frozen=True)
class Tab:
    value: str
    label: str
    count: int


def _tab_order() -> tuple[str, ...]:
    """Mine / Unassigned / All, and My teams for an agent in a team."""
    return TAB_ORDER + ((inbox_queries.TEAM,) if teams.team_ids_of(current_user) else ())


def _list_context(filters: InboxFilter, cursor: str | None = None, limit: int = inbox_queries.PAGE_SIZE) -> dict:
    version = inbox_queries.list_version()  # before the rows, as in _messages_context
    order = _tab_order()
    counts = inbox_queries.tab_counts(current_user, filters, order)
    return {
        "filters": filters,
        "page": inbox_queries.list_page(current_user, filters, cursor, limit=limit),
        "version": version,
        "tabs": [Tab(value, str(ASSIGNEE_LABELS[value]), counts[value]) for value in order],
    }


def _filter_form(filters: InboxFilter) -> FilterForm:
    form = FilterForm(formdata=None, data=asdict(filters))
    form.tag.choices = [("", _("Any"))] + [(name, name) for name in inbox_queries.tag_names()]
    form.inbox.choices = [("", _("Any"))] + [(str(i.id), i.name) for i in inboxes.visible_inboxes(current_user)]
    form.team.choices = [("", _("Any")), (inbox_queries.NO_TEAM, _("No team"))] + [
        (str(t.id), t.name) for t in teams.list_teams()
    ]
    for f in (form.status, form.priority, form.tag, form.channel, form.inbox, form.team):
        # The details pane beside the list has its own #status and #priority.
        f.id = f.label.field_id = f"filter-{f.name}"
    return form


@bp.route("/inbox")
@role_required(Role.agent)
def index():
    filters = InboxFilter.from_args(request.args)
    cursor = request.args.get("after")
    if wants_fragment():
        if cursor:
            page = inbox_queries.list_page(current_user, filters, cursor)
            return render_template("inbox/_rows.html", filters=filters, page=page)
        return render_template("inbox/_list_update.html", **_list_context(filters), tabs_oob=True)
    return render_template("inbox/index.html", filter_form=_filter_form(filters), **_list_context(filters))


@bp.route("/inbox/tabs")
@role_required(Role.agent)
def tabs():
    """Mine / Unassigned / All with their counts for the list's filters (refreshed by live updates)."""
    return render_template("inbox/_tabs.html", **_list_context(InboxFilter.from_args(request.args)))


@bp.route("/inbox/changes")
@role_required(Role.agent)
def changes():
    """Asked by the open list on a live event (or every few seconds while the stream is down): 204
    (HTMX swaps nothing) until something changed, then the list, as many rows as the tab had
    loaded (`loaded`), so a live update does not drop the older rows; the tab counts come along."""
    version = inbox_queries.list_version()
    if request.args.get("since") == version:
        return "", 204
    filters = InboxFilter.from_args(request.args)
    loaded = min(request.args.get("loaded", 0, type=int), MAX_REFRESHED_ROWS)
    context = _list_context(filters, limit=max(loaded, inbox_queries.PAGE_SIZE))
    return render_template("inbox/_list_update.html", **context, tabs_oob=True)


def _visible_conversation(conversation_id: int) -> Conversation:
    conversation = db.get_or_404(Conversation, conversation_id)
    refused = conversations.refusal_status(current_user, conversation)
    if refused:
        abort(refused)
    return conversation


def _media_url(message: Message) -> str | None:
    """Where the downloaded media of a message opens; None until the download job stored it."""
    if media_files.stored_path(message) is None:
        return None
    return url_for("media.file", message_id=message.id)


def _assign_form(conversation: Conversation) -> AssignForm:
    form = AssignForm(formdata=None, assignee=str(conversation.assigned_to or ""))
    agents = inbox_queries.assignable_agents(conversation)
    form.assignee.choices = [("", _("Unassigned"))] + [(str(a.id), a.name) for a in agents]
    return form


def _team_form(conversation: Conversation) -> TeamForm:
    form = TeamForm(formdata=None, team=str(conversation.team_id or ""))
    form.team.choices = [("", _("No team"))] + [(str(t.id), t.name) for t in teams.list_teams()]
    return form


def _details_context(
    conversation: Conversation,
    error: str | None = None,
    field_errors: dict[str, str] | None = None,
    posted: dict[str, str] | None = None,
) -> dict:
    contact_fields = custom_fields.shown(conversation.contact, custom_fields.Entity.contact)
    conversation_fields = custom_fields.shown(conversation, custom_fields.Entity.conversation)
    if posted is not None:
        # A refused save shows what was typed beside its error.
        contact_fields, conversation_fields = (
            [custom_fields.Shown(s.definition, posted.get(prefix + s.definition.key), "") for s in shown]
            for prefix, shown in ((CONTACT_FIELD, contact_fields), (CONVERSATION_FIELD, conversation_fields))
        )
    return {
        "contact_fields": contact_fields,
        "conversation_fields": conversation_fields,
        "field_errors": field_errors or {},
        "conversation": conversation,
        # formdata=None: the controls show what is saved, so a refused change reverts on screen.
        "status_form": StatusForm(formdata=None, status=conversation.status),
        "priority_form": PriorityForm(formdata=None, priority=conversation.priority),
        "assign_form": _assign_form(conversation),
        "team_form": _team_form(conversation),
        "tag_options": inbox_queries.tag_names(),
        "earlier_conversations": inbox_queries.earlier_conversations(current_user, conversation),
        "details_error": error,
    }


def _composer_context(
    conversation: Conversation,
    reply_form: ReplyForm | None = None,
    template_form: TemplateForm | None = None,
    error: str | None = None,
    split_offer: int | None = None,
) -> dict:
    all_templates = templates.sendable_templates(conversation.inbox)
    if template_form is None:
        template_form = TemplateForm(formdata=None)
        chosen_id = int_arg("template_id")
        template_form.template_id.data = chosen_id if chosen_id else None
    template_form.template_id.choices = [(t.id, t.template_key) for t in all_templates]
    chosen = next((t for t in all_templates if t.id == template_form.template_id.data), None)
    if chosen is not None:
        while len(template_form.params) < templates.placeholder_count(chosen.body):
            template_form.params.append_entry()
        for number, entry in enumerate(template_form.params, 1):
            entry.label.text = _("Value for {{%(number)d}}", number=number)
        with_values = templates.parameter_buttons(chosen)
        while len(template_form.buttons) < len(with_values):
            template_form.buttons.append_entry()
        for button, entry in zip(with_values, template_form.buttons, strict=False):
            entry.label.text = (
                _("Link ending for the button “%(text)s” (%(url)s)", text=button.text, url=button.url)
                if button.kind == "url"
                else _("Code copied by the button “%(text)s”", text=button.text)
            )
        header = templates.header_parameter(chosen)
        if header in templates.MEDIA_HEADERS:
            template_form.header_link.label.text = _(
                "Link of the header's %(kind)s (https)", kind=templates.header_kind_label(header)
            )
    return {
        "conversation": conversation,
        "window_refusal": outbound.window_refusal(conversation),
        "window_closes_at": outbound.window_closes_at(conversation),
        "reply_form": reply_form or ReplyForm(formdata=None),
        "template_form": template_form,
        "chosen_template": chosen,
        "chosen_header": templates.header_parameter(chosen) if chosen is not None else None,
        "composer_error": error,
        "split_offer": split_offer,
    }


def _page_context(conversation: Conversation, page: inbox_queries.ThreadPage, start: str) -> dict:
    return {
        "conversation": conversation,
        "messages": page.messages,
        "earlier_cursor": page.earlier_cursor,
        "start": start,
        "by_external_id": page.quoted,
        "media_url": _media_url,
        "shown_inline": media_files.shown_inline,
        "failure": outbound.failure,
        "attempts_shown": outbound.attempts_shown,
        "window_open": outbound.window_refusal(conversation) is None,
    }


def _messages_context(conversation: Conversation, start: str | None = None) -> dict:
    """The thread from the `start` cursor (as far back as the reader's "Show earlier messages"
    got), else its newest page."""
    # The version is read before the messages: a message committed between the two reads then
    # makes the next poll see a change, instead of a version that already counts a message the
    # page does not show (each SELECT sees the latest commit).
    version = inbox_queries.thread_version(conversation).encode()
    page = inbox_queries.thread_messages(conversation, start=start or None)
    return _page_context(conversation, page, start or "") | {"thread_version": version}


def _list_args_of_current_page() -> dict[str, str]:
    """The filters of the list the agent came from, for the back link that works without script."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path != url_for("inbox.index"):
        return {}
    return InboxFilter.from_args(dict(parse_qsl(current.query))).query_args()


@bp.route("/conversations/<int:conversation_id>")
@role_required(Role.agent)
def thread(conversation_id: int):
    """The conversation in the workspace: only its panes when the list swaps them in, else the
    whole page (a deep link) with the list beside it."""
    conversation = _visible_conversation(conversation_id)
    context = (
        _messages_context(conversation, request.args.get("from"))
        | _details_context(conversation)
        | _composer_context(conversation)
    )
    if wants_fragment() and request.headers.get("HX-Target") == "conversation-pane":
        return render_template("inbox/_conversation_pane.html", list_args=_list_args_of_current_page(), **context)
    filters = InboxFilter()
    return render_template(
        "inbox/index.html",
        filter_form=_filter_form(filters),
        list_args={},
        current_id=conversation.id,
        **_list_context(filters),
        **context,
    )


@bp.route("/conversations/<int:conversation_id>/history")
@role_required(Role.agent)
def history(conversation_id: int):
    """An earlier conversation of the contact, read in place in the details pane."""
    conversation = _visible_conversation(conversation_id)
    page = inbox_queries.thread_messages(conversation)
    return render_template("inbox/_history_messages.html", **_page_context(conversation, page, ""), read_only=True)


@bp.route("/conversations/<int:conversation_id>/earlier")
@role_required(Role.agent)
def earlier_messages(conversation_id: int):
    """The page of messages before the `before` cursor, put above the ones shown; without HTMX,
    the whole thread from there on."""
    conversation = _visible_conversation(conversation_id)
    page = inbox_queries.thread_messages(conversation, before=request.args.get("before"))
    if not page.messages:
        return ("", 200) if wants_fragment() else redirect(url_for("inbox.thread", conversation_id=conversation.id))
    start = inbox_queries.encode_message_cursor(page.messages[0])
    if not wants_fragment():
        return redirect(url_for("inbox.thread", conversation_id=conversation.id, **{"from": start}))
    return render_template("inbox/_earlier_messages.html", **_page_context(conversation, page, start))


@bp.route("/conversations/<int:conversation_id>/changes")
@role_required(Role.agent)
def thread_changes(conversation_id: int):
    """Polled by the open thread: 204 until something changed, then the messages, plus the
    details or the composer (out of band) only when those changed, so typing is not wiped."""
    conversation = db.get_or_404(Conversation, conversation_id)
    if wants_fragment() and conversations.refusal_status(current_user, conversation) == 403:
        return _back_to_the_list(conversation)
    conversation = _visible_conversation(conversation_id)
    seen = ThreadVersion.decode(request.args.get("since"))
    current = inbox_queries.thread_version(conversation)
    if seen == current:
        return "", 204
    context = _messages_context(conversation, request.args.get("from"))
    if seen is None or seen.conversation != current.conversation:
        context |= _details_context(conversation) | {"details_oob": True}
    if seen is None or seen.window_open != current.window_open:
        context |= _composer_context(conversation) | {"composer_oob": True}
    return render_template("inbox/_thread_update.html", **context)


@bp.route("/conversations/<int:conversation_id>/read", methods=["POST"])
@role_required(Role.agent)
def mark_read(conversation_id: int):
    """Posted by the open thread while its page is visible: read up to the newest message shown."""
    conversation = _visible_conversation(conversation_id)
    up_to = row_id(request.form.get("up_to"))
    if up_to is None:
        abort(400)
    read_state.mark_read(current_user, conversation, up_to)
    db.session.commit()
    return "", 204


@bp.route("/conversations/<int:conversation_id>/unread", methods=["POST"])
@role_required(Role.agent)
def mark_unread(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    read_state.mark_unread(current_user, conversation)
    db.session.commit()
    if not wants_fragment():
        return redirect(url_for("inbox.index"))
    return "", 204


@bp.route("/conversations/<int:conversation_id>/composer")
@role_required(Role.agent)
def composer(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    if not wants_fragment():
        return redirect(url_for("inbox.thread", conversation_id=conversation.id, template_id=int_arg("template_id")))
    return render_template("inbox/_composer.html", **_composer_context(conversation))


def _after_send(conversation: Conversation, **composer: object):
    if not wants_fragment():
        return redirect(url_for("inbox.thread", conversation_id=conversation.id))
    context = _composer_context(conversation, **composer) | _messages_context(conversation)
    return render_template("inbox/_composer_update.html", **context, messages_oob=True)


@bp.route("/conversations/<int:conversation_id>/reply", methods=["POST"])
@role_required(Role.agent)
def reply(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    form = ReplyForm()
    reply_to = None
    if (reply_to_id := row_id(form.reply_to.data)) is not None:
        reply_to = db.session.get(Message, reply_to_id)
        if reply_to is not None and reply_to.conversation_id != conversation.id:
            reply_to = None
    # A text over the channel's limit is refused with an offer to send it in parts; only the
    # agent's "split" answer to that offer sends it so (docs/architecture.md, "Data flows").
    queue = outbound.queue_reply_in_parts if request.form.get("split") == "1" else outbound.queue_reply
    try:
        queue(conversation, form.body.data or "", by=current_user, reply_to=reply_to)
    except OutboundError as error:
        db.session.rollback()
        return _after_send(conversation, reply_form=form, error=str(error), split_offer=getattr(error, "parts", None))
    db.session.commit()
    return _after_send(conversation)


@bp.route("/conversations/<int:conversation_id>/template", methods=["POST"])
@role_required(Role.agent)
def send_template(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    form = TemplateForm()
    template_id = row_id(request.form.get("template_id"))
    template = db.session.get(MessageTemplate, template_id) if template_id is not None else None
    if template is None:
        return _after_send(conversation, template_form=form, error=_("Choose a template."))
    params = templates.clean_parameters(
        list(form.params.data),
        form.header_text.data or "",
        form.header_link.data or "",
        form.header_filename.data or "",
        list(form.buttons.data),
        template=template,
    )
    try:
        # A paused or disabled template is refused there, with the reason (nothing is stored).
        outbound.queue_template(conversation, template, params, by=current_user)
    except OutboundError as error:
        db.session.rollback()
        return _after_send(conversation, template_form=form, error=str(error))
    db.session.commit()
    return _after_send(conversation)


def _apply(conversation: Conversation, change) -> object:
    """Run one inline change, commit, and answer the re-rendered details (or the thread page)."""
    error = None
    try:
        change()
    except ConversationError as exc:
        db.session.rollback()
        error = str(exc)
    else:
        db.session.commit()
    if not conversations.can_see(current_user, conversation):
        return _back_to_the_list(conversation)
    if not wants_fragment():
        return redirect(url_for("inbox.thread", conversation_id=conversation.id))
    return render_template("inbox/_details.html", **_details_context(conversation, error))


def _back_to_the_list(conversation: Conversation) -> object:
    """An agent's open conversation went to a colleague (handed over here, or by a supervisor
    while the thread was open): they may no longer see it, so the tab goes back to the list."""
    flash(_("The conversation with %(name)s is now assigned to %(agent)s.",
            name=conversation.contact.name, agent=conversation.assignee.name), "success")
    if not wants_fragment():
        return redirect(url_for("inbox.index"))
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url_for("inbox.index")
    return response


# The details panel's custom field inputs: cf_contact.<key> and cf_conversation.<key>.
CONTACT_FIELD = "contact."
CONVERSATION_FIELD = "conversation."


@bp.route("/conversations/<int:conversation_id>/fields", methods=["POST"])
@role_required(Role.agent)
def change_fields(conversation_id: int):
    """Save the contact's and the conversation's custom fields from the details panel: both or neither."""
    conversation = _visible_conversation(conversation_id)
    posted = custom_form_values(request.form)
    contact_raw = {k.removeprefix(CONTACT_FIELD): v for k, v in posted.items() if k.startswith(CONTACT_FIELD)}
    conversation_raw = {
        k.removeprefix(CONVERSATION_FIELD): v for k, v in posted.items() if k.startswith(CONVERSATION_FIELD)
    }
    errors: dict[str, str] = {}
    try:
        contact_admin.update(conversation.contact, by=current_user, custom=contact_raw)
    except contact_admin.ContactValidationError as exc:
        errors.update({CONTACT_FIELD + k.removeprefix(contact_admin.CUSTOM_PREFIX): v for k, v in exc.errors.items()})
    try:
        custom_fields.update_conversation(conversation, conversation_raw, by=current_user)
    except custom_fields.CustomFieldError as exc:
        errors.update({CONVERSATION_FIELD + k: v for k, v in exc.errors.items()})
    if errors:
        db.session.rollback()
    else:
        db.session.commit()
    if not wants_fragment():
        if errors:
            flash(" ".join(errors.values()), "error")
        return redirect(url_for("inbox.thread", conversation_id=conversation.id))
    context = _details_context(
        conversation,
        _("Not saved: check the fields marked.") if errors else None,
        field_errors={"custom_fields." + k: v for k, v in errors.items()},
        posted=posted if errors else None,
    )
    return render_template("inbox/_details.html", **context)


InlineFormT = TypeVar("InlineFormT", bound=FlaskForm)


def _validated(form: InlineFormT) -> InlineFormT:
    """The status and priority selects offer fixed choices: anything else is a forged request."""
    if not form.validate():
        abort(400)
    return form


@bp.route("/conversations/<int:conversation_id>/status", methods=["POST"])
@role_required(Role.agent)
def change_status(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    status = _validated(StatusForm()).status.data
    return _apply(conversation, lambda: conversations.change_status(conversation, status, by=current_user))


@bp.route("/conversations/<int:conversation_id>/reopen", methods=["POST"])
@role_required(Role.agent)
def reopen(conversation_id: int):
    """"Reopen and reply" from a closed conversation's composer: back to active, composer ready."""
    conversation = _visible_conversation(conversation_id)
    error = None
    try:
        conversations.change_status(conversation, ConversationStatus.active, by=current_user)
    except ConversationError as exc:
        db.session.rollback()
        error = str(exc)
    else:
        db.session.commit()
    if not wants_fragment():
        return redirect(url_for("inbox.thread", conversation_id=conversation.id))
    context = _composer_context(conversation, error=error) | _details_context(conversation)
    return render_template("inbox/_reopened.html", **context, details_oob=True)


@bp.route("/conversations/<int:conversation_id>/priority", methods=["POST"])
@role_required(Role.agent)
def change_priority(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    priority = _validated(PriorityForm()).priority.data
    return _apply(conversation, lambda: conversations.set_priority(conversation, priority, by=current_user))


@bp.route("/conversations/<int:conversation_id>/tags", methods=["POST"])
@role_required(Role.agent)
def change_tags(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    names = [tag.name for tag in conversation.tags]
    if request.form.get("add_tag"):
        names.append(request.form["add_tag"])
    elif request.form.get("remove_tag"):
        names = [name for name in names if name != request.form["remove_tag"]]
    else:
        names = (TagsForm().tags.data or "").split(",")
    return _apply(conversation, lambda: conversations.set_tags(conversation, names, by=current_user))


@bp.route("/conversations/<int:conversation_id>/assignee", methods=["POST"])
@role_required(Role.agent)
def change_assignee(conversation_id: int):
    conversation = _visible_conversation(conversation_id)
    raw = request.form.get("assignee", "")
    if raw == "me":
        agent = current_user._get_current_object()
    elif raw:
        agent_id = row_id(raw)
        agent = db.session.get(Agent, agent_id) if agent_id is not None else None
        if agent is None:
            abort(400)
    else:
        agent = None
    return _apply(conversation, lambda: conversations.assign(conversation, agent, by=current_user))


@bp.route("/conversations/<int:conversation_id>/team", methods=["POST"])
@role_required(Role.agent)
def change_team(conversation_id: int):
    """Route the conversation to a team (any agent who sees it may pass it to a sector)."""
    conversation = _visible_conversation(conversation_id)
    raw = request.form.get("team", "")
    team = None
    if raw:
        team_id = row_id(raw)
        team = db.session.get(Team, team_id) if team_id is not None else None
        if team is None:
            abort(400)
    return _apply(conversation, lambda: teams.set_team(conversation, team, by=current_user))


@bp.route("/conversations/<int:conversation_id>/messages/<int:message_id>/retry", methods=["POST"])
@role_required(Role.agent)
def retry_message(conversation_id: int, message_id: int):
    conversation = _visible_conversation(conversation_id)
    message = db.session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id:
        abort(404)
    error = None
    try:
        outbound.requeue(message, by=current_user)
    except OutboundError as exc:
        db.session.rollback()
        error = str(exc)
    else:
        db.session.commit()
    return _after_send(conversation, error=error)

"""The inbox's small forms: each inline control posts one of these with HTMX."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, HiddenField, SearchField, SelectField, StringField, TextAreaField, URLField

from portal.labels import CHANNEL_LABELS, PRIORITY_LABELS, STATUS_LABELS
from portal.services import inbox_queries

ASSIGNEE_LABELS = {
    inbox_queries.ALL: _l("All"),
    inbox_queries.MINE: _l("Mine"),
    inbox_queries.UNASSIGNED: _l("Unassigned"),
    inbox_queries.TEAM: _l("My teams"),
    inbox_queries.SNOOZED: _l("Snoozed"),
}
# The list's tabs, left to right.
TAB_ORDER = (inbox_queries.MINE, inbox_queries.UNASSIGNED, inbox_queries.ALL, inbox_queries.SNOOZED)


class InlineForm(FlaskForm):
    class Meta:
        # The app-wide CSRFProtect already checks every POST (header from <body hx-headers>, or
        # the hidden field); a per-form token would repeat the same id on every inline form.
        csrf = False


class ReplyForm(InlineForm):
    body = TextAreaField(
        _l("Reply"),
        # No maxlength: the browser would cut a long paste silently. The counter warns and the
        # server refuses a text over the channel's limit (portal/static/quick_replies.js).
        render_kw={"rows": 3, "data-submit-on-ctrl-enter": ""},
        description=_l("Ctrl+Enter sends."),
    )
    reply_to = HiddenField()


class TemplateForm(InlineForm):
    template_id = SelectField(_l("Template"), coerce=int)
    params = FieldList(StringField(_l("Parameter")))
    # A synced template's header and buttons (portal.services.templates.TemplateParameters).
    header_text = StringField(_l("Header value"))
    header_link = URLField(
        _l("Header file link"), description=_l("The https link WhatsApp fetches the header's file from.")
    )
    header_filename = StringField(_l("File name shown to the customer"))
    buttons = FieldList(StringField(_l("Button value")))


class StatusForm(InlineForm):
    status = SelectField(_l("Status"), choices=list(STATUS_LABELS.items()))


class PriorityForm(InlineForm):
    priority = SelectField(_l("Priority"), choices=list(PRIORITY_LABELS.items()))


class TagsForm(InlineForm):
    tags = StringField(_l("Tags"), description=_l("Separate with commas; new tags are created."))


class TeamForm(InlineForm):
    team = SelectField(_l("Team"))


class AssignForm(InlineForm):
    assignee = SelectField(_l("Assignee"))


class FilterForm(InlineForm):
    """The inbox filters, read from the query string (InboxFilter) and shown with these fields."""

    q = SearchField(_l("Search"))
    status = SelectField(
        _l("Status"), choices=[(inbox_queries.OPEN, _l("Open"))] + list(STATUS_LABELS.items()) + [(inbox_queries.ALL, _l("All"))]
    )
    priority = SelectField(_l("Priority"), choices=[("", _l("Any"))] + list(PRIORITY_LABELS.items()))
    tag = SelectField(_l("Tag"))
    channel = SelectField(_l("Channel"), choices=[("", _l("Any"))] + list(CHANNEL_LABELS.items()))
    inbox = SelectField(_l("Inbox"))
    team = SelectField(_l("Team"))

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.labels import ROLE_LABELS, WEBHOOK_STATUS_LABELS
from portal.models import Inbox, Role
from portal.services import csat
from portal.services.passwords import PasswordRule

ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class AgentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, coerce=Role)
    # Choices and defaults from portal.admin.inboxes.offer_inboxes.
    inboxes = SelectMultipleField(
        _l("Inboxes"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l("Agents see only the conversations of their inboxes; supervisors and admins see every inbox."),
    )


class TemporaryPasswordMixin:
    temporary_password = PasswordField(
        _l("Temporary password"),
        validators=[Optional(), PasswordRule()],
        description=_l("Leave empty to get a set-password link to send them instead."),
    )


class NewAgentForm(TemporaryPasswordMixin, AgentForm):
    pass


class ResetPasswordForm(TemporaryPasswordMixin, FlaskForm):
    pass

class TwoFactorPolicyForm(FlaskForm):
    required = BooleanField(_l("Require two-factor sign-in for admins and supervisors"))


class ResetTwoFactorForm(FlaskForm):
    confirm = BooleanField(
        _l("I have checked who is asking: they lost their phone and recovery codes"),
        validators=[DataRequired(message=_l("Tick the box to confirm the reset."))],
    )


class FilterForm(FlaskForm):
    """Filters travel in the query string, so a filtered list is a link one can share."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    page = IntegerField(validators=[Optional()], default=1)


class WebhookEventFilterForm(FilterForm):
    provider = SelectField(_l("Provider"), validators=[Optional()], choices=[], validate_choice=False)
    event_type = SelectField(_l("Event type"), validators=[Optional()], choices=[], validate_choice=False)
    status = SelectField(
        _l("Status"),
        validators=[Optional()],
        choices=[("", _l("Any"))] + [(s.value, label) for s, label in WEBHOOK_STATUS_LABELS.items()],
    )


class AuditFilterForm(FilterForm):
    actor = SelectField(_l("Who"), validators=[Optional()], choices=[], validate_choice=False)
    action = SelectField(_l("Action"), validators=[Optional()], choices=[], validate_choice=False)
    target_type = SelectField(_l("Target"), validators=[Optional()], choices=[], validate_choice=False)
    target_id = StringField(_l("Target id"), validators=[Optional(), Length(max=64)])


class RuntimeSettingsForm(FlaskForm):
    send_read_receipts = BooleanField(_l("Send read receipts when an agent opens a conversation"))


class TestMessageForm(FlaskForm):
    inbox = SelectField(_l("From the inbox"), coerce=int)  # choices: the enabled inboxes (admin views)
    phone = StringField(_l("Phone number"), validators=[DataRequired(), Length(max=40)])
    text = TextAreaField(
        _l("Text"), validators=[DataRequired(), Length(max=4096)], default=_l("Atende test message")
    )


class InboxForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    phone_number_id = StringField(
        _l("Phone number ID"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("WhatsApp Manager shows it under API setup; webhooks for this number land in this inbox."),
    )
    waba_id = StringField(
        _l("WhatsApp business account ID"),
        validators=[Optional(), Length(max=64)],
        description=_l("Templates belong to it: this inbox's conversations offer only its templates."),
    )
    display_phone = StringField(_l("Number shown to customers"), validators=[Optional(), Length(max=32)])
    # Write-only: a PasswordField never renders the stored value back.
    access_token = PasswordField(
        _l("Access token"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Stored encrypted and never shown again. When editing, leave empty to keep the stored one."),
    )
    members = SelectMultipleField(
        _l("Agents who work this inbox"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l("Agents see only the conversations of their inboxes; supervisors and admins see every inbox."),
    )


class InboxEnabledForm(FlaskForm):
    confirm = BooleanField(_l("Yes: refuse every reply, template and read receipt from this inbox until it is enabled again"))


class CsatForm(FlaskForm):
    """The inbox's satisfaction survey (portal.services.csat); `csat_form_for` fills it."""

    enabled = BooleanField(_l("Ask the customer for a rating when a conversation is closed"))
    scale = SelectField(
        _l("Scale"),
        choices=list(csat.SCALES.items()),
        description=_l(
            "WhatsApp shows at most three reply buttons: three faces are one tap; 1 to 5 opens a list first. "
            "E-mail asks with numbered lines."
        ),
    )
    template_id = SelectField(
        _l("Template outside the 24-hour window"),
        coerce=int,
        default=0,
        description=_l("Sent instead when the customer last wrote over 24 hours ago; none: no survey then."),
    )
    expiry_days = IntegerField(
        _l("Accept answers for (days)"),
        default=csat.DEFAULT_EXPIRY_DAYS,
        validators=[
            DataRequired(_l("From 1 to %(max)s days.", max=csat.MAX_EXPIRY_DAYS)),
            NumberRange(min=1, max=csat.MAX_EXPIRY_DAYS, message=_l("From 1 to %(max)s days.", max=csat.MAX_EXPIRY_DAYS)),
        ],
        description=_l("A rating that arrives later is kept as an ordinary message."),
    )


def csat_form_for(inbox: Inbox, formdata=None) -> CsatForm:
    form = CsatForm(formdata=formdata, prefix="csat")
    form.template_id.choices = [(0, "—")] + [
        (t.id, f"{t.template_key} ({t.language})") for t in csat.survey_templates(inbox)
    ]
    if formdata is None:
        config = csat.config_for(inbox)
        form.enabled.data = config.enabled
        form.scale.data = config.scale
        form.template_id.data = config.template_id or 0
        form.expiry_days.data = config.expiry_days
    return form


class CustomFieldForm(FlaskForm):
    """A custom field's definition; the service checks it (portal.services.custom_fields)."""

    entity = SelectField(_l("Field of"), choices=[])
    key = StringField(
        _l("Key"),
        validators=[DataRequired(), Length(max=40)],
        description=_l(
            "Lowercase letters, digits and _. Names the field in the API, the CSV and quick replies "
            "({{contact.key}}); it cannot change later."
        ),
    )
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=100)])
    field_type = SelectField(_l("Type"), choices=[])
    options = TextAreaField(
        _l("Options"), validators=[Optional()], description=_l("For a list of options: one option per line.")
    )
    required = BooleanField(_l("Required"), description=_l("People saving a record must fill it in."))


class ConfirmForm(FlaskForm):
    """A destructive action's confirmation: the CSRF token is all it carries."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.extensions import db
from portal.form_fields import IdField
from portal.labels import INCIDENT_STATUS_LABELS, KIND_LABELS, SEVERITY_LABELS
from portal.models import Conversation, IncidentKind, IncidentStatus, Severity
from portal.services.incidents import IncidentFilter

SEVERITY_CHOICES = [(s.value, label) for s, label in SEVERITY_LABELS.items()]
STATUS_CHOICES = [(s.value, label) for s, label in INCIDENT_STATUS_LABELS.items()]


class IncidentFilterForm(FlaskForm):
    """Filters read from the query string, so a filtered list is a URL to share."""

    class Meta:
        csrf = False

    severity = SelectField(
        _l("Severity"), choices=[("", _l("Any"))] + SEVERITY_CHOICES, validators=[Optional()]
    )
    kind = SelectField(
        _l("Kind"),
        choices=[("", _l("Any"))] + [(k.value, label) for k, label in KIND_LABELS.items()],
        validators=[Optional()],
    )
    status = SelectField(_l("State"), choices=[("", _l("Any"))] + STATUS_CHOICES, validators=[Optional()])
    # Choices are the possible owners, set by the view.
    owner = SelectField(_l("Owner"), choices=[("", _l("Anyone"))], validators=[Optional()])
    conversation_id = IdField(_l("Conversation"), validators=[Optional()])
    created_from = DateField(_l("From"), validators=[Optional()])
    created_to = DateField(_l("To"), validators=[Optional()])

    def validate_created_to(self, field):
        if field.data and self.created_from.data and field.data < self.created_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def to_filter(self) -> IncidentFilter:
        return IncidentFilter(
            severity=Severity(self.severity.data) if self.severity.data else None,
            kind=IncidentKind(self.kind.data) if self.kind.data else None,
            status=IncidentStatus(self.status.data) if self.status.data else None,
            owner_id=int(self.owner.data) if self.owner.data else None,
            conversation_id=self.conversation_id.data,
            created_from=self.created_from.data,
            created_to=self.created_to.data,
        )


class IncidentForm(FlaskForm):
    conversation_id = IdField(_l("Conversation number"), validators=[InputRequired()])
    severity = SelectField(_l("Severity"), choices=SEVERITY_CHOICES, default=Severity.medium.value)
    notes = TextAreaField(_l("Notes"), validators=[DataRequired(), Length(max=5000)])

    def validate_conversation_id(self, field):
        if field.data is not None and db.session.get(Conversation, field.data) is None:
            raise ValidationError(_l("There is no conversation with this number."))


class NotesForm(FlaskForm):
    notes = TextAreaField(_l("Notes"), validators=[DataRequired(), Length(max=5000)])


class HandlingForm(FlaskForm):
    """Who owns the incident and whether it is still open; the view sets the owner choices."""

    owner = SelectField(_l("Owner"), choices=[("", _l("Nobody"))])
    status = SelectField(_l("State"), choices=STATUS_CHOICES)

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.form_fields import IdField


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=40)],
        description=_l("Any format; Brazilian numbers may omit +55. May stay empty for a contact who only writes by e-mail."),
    )
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])


class MergeForm(FlaskForm):
    other_id = IdField(_l("Contact to merge"), validators=[DataRequired()])
    # Set by the confirmation page: without it a merge request only shows what would happen.
    confirmed = HiddenField()


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired()],
        description=_l("Columns: nome/name, telefone/phone, e-mail, cidade/city. Comma or semicolon."),
    )


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")])


class EraseForm(FlaskForm):
    confirmation = StringField(
        _l("Type the contact's name to confirm"), validators=[DataRequired(), Length(max=200)]
    )

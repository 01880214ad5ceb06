from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.services.passwords import PasswordRule

# Each language is named in itself, so anyone can find their own whatever the current UI language.
LANGUAGE_NAMES = {"pt_BR": "Português (Brasil)", "en": "English"}


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"))
    alert_sound = BooleanField(_l("Play a sound when a customer writes or a conversation opens"))
    alert_desktop = BooleanField(
        _l("Show a desktop notification when a customer writes or a conversation opens"),
        description=_l("The browser asks for your permission once."),
    )

    def __init__(self, *args, languages: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [(code, LANGUAGE_NAMES.get(code, code)) for code in languages]


class NewPasswordMixin:
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), PasswordRule()]
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])


class SetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class TwoFactorCodeForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(), Length(max=40)],
    )

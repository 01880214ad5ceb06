from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.services.outbound import MAX_TEXT_LENGTH


class QuickReplyForm(FlaskForm):
    shortcut = StringField(
        _l("Shortcut"),
        validators=[DataRequired(), Length(max=41)],
        description=_l("Typed after / in the reply box, e.g. /hello. Letters, digits, - and _."),
    )
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=MAX_TEXT_LENGTH)])
    # Checked by the composer's attachment rules (portal.services.attachments.store).
    file = FileField(
        _l("Attachment (optional)"),
        description=_l(
            "Sent with the reply: an image, audio, video or document. The text goes as its caption, or as a "
            "message of its own before the file when it is longer than a caption (1,024 characters) or the "
            "file is audio."
        ),
    )
    remove_file = BooleanField(_l("Remove the attachment"))


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired()],
        description=_l(
            "Columns: atalho/shortcut and texto/body. Comma or semicolon. An anexo/attachment column is not "
            "imported: attach files on each reply's edit page."
        ),
    )


class ImportConfirmForm(FlaskForm):
    # The previewed file travels back here and is checked again before anything is written.
    csv_text = HiddenField(validators=[DataRequired()])

"""An agent's own account: name, language, password; and the public set-password page."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("profile", __name__)

# Pages about one's own account that other areas provide, listed on the profile page as
# (endpoint, label). An entry whose endpoint is not registered is not shown; add one line per page.
ACCOUNT_LINKS: tuple[tuple[str, object], ...] = (
    ("tokens.index", _l("API tokens")),
    ("quick_replies.personal_index", _l("My quick replies")),
)

from portal.profile import two_factor, views  # noqa: E402,F401

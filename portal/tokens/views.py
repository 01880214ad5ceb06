from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.models import Role
from portal.services import api_tokens
from portal.tokens import bp
from portal.tokens.forms import TokenForm


def _page(form: TokenForm, created_plaintext: str | None = None):
    return render_template(
        "tokens/index.html",
        form=form,
        tokens=api_tokens.list_for(current_user),
        created_plaintext=created_plaintext,
    )


@bp.route("/profile/tokens", methods=["GET"])
@role_required(Role.agent)
def index():
    return _page(TokenForm())


@bp.route("/profile/tokens", methods=["POST"])
@role_required(Role.agent)
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form)
    try:
        _token, plaintext = api_tokens.create(current_user._get_current_object(), form.name.data)
    except api_tokens.TokenError as exc:
        form.name.errors.append(str(exc))
        return _page(form)
    db.session.commit()
    # Rendered, not redirected: the plaintext must not travel through the (signed, readable)
    # session cookie that a flash message would use. It is shown this once.
    return _page(TokenForm(formdata=None), created_plaintext=plaintext)


# Ids are bigints: a larger number is a 404 rather than a database error.
@bp.route("/profile/tokens/<int(max=9223372036854775807):token_id>/revoke", methods=["POST"])
@role_required(Role.agent)
def revoke(token_id: int):
    token = api_tokens.get_for(current_user, token_id)
    if token is None:
        abort(404)
    if api_tokens.revoke(token, by=current_user._get_current_object()):
        db.session.commit()
        flash(_("Token %(name)s revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("tokens.index"))

"""The agent's own two-factor sign-in, at /profile/two-factor: set it up (QR code, confirm with a
code, recovery codes shown once), replace the recovery codes, or turn it off. Codes typed here
are throttled like those of the sign-in step."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import role_required
from portal.extensions import db
from portal.models import Role
from portal.profile import bp
from portal.profile.forms import TwoFactorCodeForm
from portal.services import throttle
from portal.services import two_factor as two_factor_service
from portal.services.two_factor import TwoFactorError


def _agent():
    return current_user._get_current_object()


def _page(form: TwoFactorCodeForm | None = None, recovery_codes: list[str] | None = None):
    agent = _agent()
    secret = two_factor_service.pending_secret(agent)
    qr_code = two_factor_service.qr_code_svg(two_factor_service.provisioning_uri(agent, secret)) if secret else None
    return render_template(
        "profile/two_factor.html",
        form=form or TwoFactorCodeForm(),
        enabled=two_factor_service.is_enabled(agent),
        required=two_factor_service.is_required(agent),
        secret=secret,
        qr_code=qr_code,
        remaining=two_factor_service.remaining_recovery_codes(agent),
        recovery_codes=recovery_codes,
    )


def _with_code(change):
    """Run `change(agent, code)` for a valid form within the code throttle; the page, with the
    error beside the field or with the new recovery codes."""
    form = TwoFactorCodeForm()
    if not form.validate_on_submit():
        return None, _page(form)
    account = str(current_user.id)
    wait_seconds = throttle.reserve_attempt("two_factor", account, request.remote_addr)
    if wait_seconds is not None:
        throttle.record_refusal("two_factor", account, request.remote_addr, wait_seconds)
        db.session.commit()
        form.code.errors.append(throttle.wait_message(wait_seconds))
        return None, _page(form)
    try:
        result = change(_agent(), form.code.data)
    except TwoFactorError as exc:
        db.session.rollback()
        form.code.errors.append(str(exc))
        return None, _page(form)
    throttle.record_success("two_factor", account, request.remote_addr)
    db.session.commit()
    return result, None


@bp.route("/profile/two-factor", methods=["GET"])
@role_required(Role.agent)
def two_factor():
    return _page()


@bp.route("/profile/two-factor/start", methods=["POST"])
@role_required(Role.agent)
def two_factor_start():
    try:
        two_factor_service.start_enrolment(_agent())
    except TwoFactorError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
    return redirect(url_for("profile.two_factor"))


@bp.route("/profile/two-factor/confirm", methods=["POST"])
@role_required(Role.agent)
def two_factor_confirm():
    codes, error_page = _with_code(two_factor_service.confirm_enrolment)
    # Rendered, not redirected: the codes must not travel through the session cookie. Shown once.
    return error_page or _page(TwoFactorCodeForm(formdata=None), recovery_codes=codes)


@bp.route("/profile/two-factor/recovery-codes", methods=["POST"])
@role_required(Role.agent)
def two_factor_recovery_codes():
    codes, error_page = _with_code(two_factor_service.regenerate_recovery_codes)
    return error_page or _page(TwoFactorCodeForm(formdata=None), recovery_codes=codes)


@bp.route("/profile/two-factor/off", methods=["POST"])
@role_required(Role.agent)
def two_factor_off():
    _result, error_page = _with_code(two_factor_service.turn_off)
    if error_page:
        return error_page
    flash(_("Two-factor sign-in is off."), "success")
    return redirect(url_for("profile.two_factor"))

from urllib.parse import urlsplit

from flask import flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from portal.access import public, role_required
from portal.auth import bp
from portal.auth.forms import LoginForm
from portal.extensions import db
from portal.models import Role
from portal.services import agents, throttle

# Where Flask-WTF keeps the CSRF secret, in the session and in `g` for the current request.
CSRF_FIELD = "csrf_token"


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login page cannot be used as an open redirect."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        account = agents.normalize_email(form.email.data)
        wait_seconds = throttle.reserve_attempt("login", account, request.remote_addr)
        if wait_seconds is not None:
            return _too_many_attempts("login", account, wait_seconds)
        agent = agents.authenticate(form.email.data, form.password.data)
        if agent is None:
            agents.record_failed_login(form.email.data)
            db.session.commit()
            form.password.errors.append(_("Wrong e-mail or password, or the account is inactive."))
            return render_template("auth/login.html", form=form)
        _start_session(agent, remember=form.remember.data)
        throttle.record_success("login", account, request.remote_addr)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    # Form errors re-render with 200: HTMX swaps only 2xx answers, and the errors sit beside the fields.
    return render_template("auth/login.html", form=form)


def _start_session(agent, *, remember: bool) -> None:
    # A fresh CSRF secret for the signed-in session: one read before sign-in (on a shared
    # computer, say) does not carry over.
    session.pop(CSRF_FIELD, None)
    g.pop(CSRF_FIELD, None)
    login_user(agent, remember=remember)
    agents.record_login(agent)


def _too_many_attempts(kind: str, account: str, wait_seconds: int):
    throttle.record_refusal(kind, account, request.remote_addr, wait_seconds)
    db.session.commit()
    minutes = max(1, -(-wait_seconds // 60))
    message = ngettext(
        "Too many failed sign-in attempts. Try again in %(num)d minute.",
        "Too many failed sign-in attempts. Try again in %(num)d minutes.",
        minutes,
    )
    response = make_response(render_template("errors/error.html", code=429, message=message), 429)
    response.headers["Retry-After"] = str(wait_seconds)
    return response


@bp.route("/logout", methods=["POST"])
@role_required(Role.agent)
def logout():
    # Ends this agent's sessions on the server too, so a copied session or remember-me cookie
    # stops working (signing out on one device signs out the others).
    agents.record_logout(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))

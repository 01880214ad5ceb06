from urllib.parse import urlsplit

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from portal.access import public, role_required
from portal.auth import bp
from portal.auth.forms import LoginForm
from portal.extensions import db
from portal.models import Role
from portal.services import agents, audit, throttle


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
        wait_seconds = throttle.retry_after(form.email.data, request.remote_addr)
        if wait_seconds is not None:
            return _too_many_attempts(form.email.data, wait_seconds)
        agent = agents.authenticate(form.email.data, form.password.data)
        if agent is None:
            agents.record_failed_login(form.email.data)
            throttle.record_failure(form.email.data, request.remote_addr)
            db.session.commit()
            form.password.errors.append(_("Wrong e-mail or password, or the account is inactive."))
            return render_template("auth/login.html", form=form)
        login_user(agent, remember=form.remember.data)
        agents.record_login(agent)
        throttle.record_success(form.email.data)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    # Form errors re-render with 200: HTMX swaps only 2xx answers, and the errors sit beside the fields.
    return render_template("auth/login.html", form=form)


def _too_many_attempts(email: str, wait_seconds: int):
    throttle.record_refusal(email, wait_seconds)
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
    audit.record("auth.logout", actor=current_user, target=current_user)
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))

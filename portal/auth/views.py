import time
from urllib.parse import urlsplit

from flask import flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.access import is_webhook, public, role_required
from portal.auth import bp
from portal.auth.forms import CodeForm, LoginForm
from portal.extensions import db
from portal.models import Agent, Role
from portal.services import agents, audit, throttle
from portal.services import two_factor as two_factor_service

# Where Flask-WTF keeps the CSRF secret, in the session and in `g` for the current request.
CSRF_FIELD = "csrf_token"
# Between a right password and the code: who, for how long.
PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 5 * 60
# What an agent who must enrol in two-factor sign-in may still open.
ENROLMENT_ENDPOINTS = frozenset(
    {"static", "auth.logout", "profile.two_factor", "profile.two_factor_start", "profile.two_factor_confirm"}
)


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
        throttle.record_success("login", account, request.remote_addr)
        next_url = _safe_next(request.args.get("next"))
        if two_factor_service.is_enabled(agent):
            # The password was right; the session holds only who is half-way signed in, and
            # until when, and the code step finishes it.
            session[PENDING_KEY] = {
                "agent": agent.id,
                "version": agent.session_version,
                "remember": bool(form.remember.data),
                "next": next_url,
                "until": int(time.time()) + PENDING_SECONDS,
            }
            return redirect(url_for("auth.two_factor"))
        _start_session(agent, remember=form.remember.data)
        db.session.commit()
        return redirect(next_url)
    # Form errors re-render with 200: HTMX swaps only 2xx answers, and the errors sit beside the fields.
    return render_template("auth/login.html", form=form)


def _pending_agent() -> Agent | None:
    """The agent whose password was right a moment ago in this browser, if still valid."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    agent = db.session.get(Agent, pending.get("agent"))
    if agent is None or not agent.active or agent.session_version != pending.get("version"):
        return None
    return agent


@bp.route("/login/code", methods=["GET", "POST"])
@public
def two_factor():
    agent = _pending_agent()
    if agent is None:
        session.pop(PENDING_KEY, None)
        flash(_("Sign in again: the code step has expired."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        account = str(agent.id)
        wait_seconds = throttle.reserve_attempt("two_factor", account, request.remote_addr)
        if wait_seconds is not None:
            return _too_many_attempts("two_factor", account, wait_seconds)
        if two_factor_service.verify(agent, form.code.data):
            pending = session.pop(PENDING_KEY)
            throttle.record_success("two_factor", account, request.remote_addr)
            _start_session(agent, remember=pending["remember"])
            db.session.commit()
            return redirect(_safe_next(pending["next"]))
        audit.record("auth.two_factor_failed", target=agent)
        db.session.commit()
        form.code.errors.append(_("That code is not right. Check the time on your phone and try the next one."))
    return render_template("auth/two_factor.html", form=form)


@bp.before_app_request
def _send_to_enrolment():
    """An admin or supervisor who must use two-factor sign-in and has not set it up goes to the
    set-up page first; the API (tokens) and the pages needed to enrol or leave are exempt.
    Webhooks have no session, so no agent: they skip even loading the anonymous one (the ingest
    path, docs/benchmarks.md 1a)."""
    if (
        is_webhook(request.path)
        or not current_user.is_authenticated
        or request.blueprint == "api"
        or request.endpoint in ENROLMENT_ENDPOINTS
        or not two_factor_service.needs_enrolment(current_user)
    ):
        return None
    target = url_for("profile.two_factor")
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


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
    message = throttle.wait_message(wait_seconds)
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

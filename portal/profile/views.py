from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from portal.access import public, role_required
from portal.extensions import db
from portal.models import Role
from portal.profile import ACCOUNT_LINKS, bp
from portal.profile.forms import ChangePasswordForm, ProfileForm, SetPasswordForm
from portal.services import agent_admin
from portal.services.agents import AgentError


def _render(profile_form: ProfileForm, password_form: ChangePasswordForm):
    return render_template(
        "profile/page.html",
        profile_form=profile_form,
        password_form=password_form,
        account_links=ACCOUNT_LINKS,
    )


def _profile_form(**kwargs) -> ProfileForm:
    return ProfileForm(languages=current_app.config["LANGUAGES"], **kwargs)


@bp.route("/profile", methods=["GET", "POST"])
@role_required(Role.agent)
def index():
    form = _profile_form(obj=current_user, prefix="profile")
    if form.validate_on_submit():
        agent_admin.update_profile(
            current_user,
            name=form.name.data,
            locale=form.locale.data,
            alert_sound=form.alert_sound.data,
            alert_desktop=form.alert_desktop.data,
        )
        db.session.commit()
        flash(_("Your profile was saved."), "success")
        return redirect(url_for("profile.index"))
    return _render(form, ChangePasswordForm(prefix="password"))


@bp.route("/profile/password", methods=["POST"])
@role_required(Role.agent)
def change_password():
    form = ChangePasswordForm(prefix="password")
    if form.validate_on_submit():
        try:
            agent_admin.change_own_password(
                current_user, current_password=form.current_password.data, new_password=form.new_password.data
            )
        except AgentError as exc:
            form.current_password.errors.append(str(exc))
        else:
            agent = current_user._get_current_object()
            db.session.commit()
            # Other sessions end with the new session version; this one continues under it.
            login_user(agent)
            flash(_("Your password was changed. Other sessions were signed out and your API tokens revoked."), "success")
            return redirect(url_for("profile.index"))
    return _render(_profile_form(obj=current_user, prefix="profile"), form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    try:
        agent = agent_admin.agent_for_token(token)
    except AgentError as exc:
        return render_template("profile/set_password.html", form=None, invalid_reason=str(exc)), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        agent_admin.set_password_from_link(token, form.new_password.data)
        db.session.commit()
        flash(_("Your password was set. Sign in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("profile/set_password.html", form=form, agent=agent, invalid_reason=None)

"""Login, second factor, logout, and the user's own account page."""
import base64
import io
import time
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from registry.auth import schemas, services
from registry.auth.login import login_rate_limit
from registry.core.db import keep_changes_on_error
from registry.core.errors import Unauthorized, ValidationFailed
from registry.core.schema import parse_form
from registry.extensions import limiter

auth_bp = Blueprint("auth", __name__)
account_bp = Blueprint("account", __name__, url_prefix="/account")

PENDING_SECONDS = 300


def safe_next(target):
    """Only same-site relative paths survive; anything that could leave the site is dropped."""
    if not target or not isinstance(target, str):
        return None
    if any(c in target for c in ("\\", "\r", "\n", "\t")) or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def qr_data_uri(data):
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    image.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def _finish_login(user, next_url):
    session.pop("mfa_pending", None)
    session.permanent = True
    services.start_session(user, ip=request.remote_addr)
    login_user(user, remember=False)
    if user.must_change_password:
        flash("请先修改初始密码", "warning")
        return redirect(url_for("account.change_password"))
    return redirect(safe_next(next_url) or url_for("main.dashboard"))


def _pending_user():
    pending = session.get("mfa_pending")
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        session.pop("mfa_pending", None)
        return None, None
    user = services.get_user(pending["uid"])
    if not user.is_active:
        return None, None
    return user, pending


@auth_bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or url_for("main.dashboard"))
        return render_template("auth/login.html", next=next_url, errors={}, form={})
    try:
        data = parse_form(schemas.LoginIn(), drop_empty=False)
        user = services.authenticate(data["username"], data["password"])
    except ValidationFailed as exc:
        return render_template("auth/login.html", next=next_url, errors=exc.errors,
                               form=request.form), 422
    except Unauthorized as exc:
        keep_changes_on_error()  # keep the failure counter and the audit row
        return render_template("auth/login.html", next=next_url, errors={},
                               form={"username": request.form.get("username", "")},
                               login_error=exc.message), 401
    mfa_required = current_app.config["MFA_ENFORCED"] and user.needs_mfa
    if user.mfa_enrolled or mfa_required:
        session["mfa_pending"] = {"uid": user.id, "at": time.time(), "next": next_url}
        return redirect(url_for("auth.login_mfa" if user.mfa_enrolled else "auth.login_enrol"))
    return _finish_login(user, next_url)


@auth_bp.route("/login/mfa", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login_mfa():
    user, pending = _pending_user()
    if user is None or not user.mfa_enrolled:
        flash("登录已超时，请重新输入用户名和密码", "warning")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/mfa.html", errors={})
    try:
        data = parse_form(schemas.CodeIn(), drop_empty=False)
        services.verify_totp(user, data["code"])
    except ValidationFailed as exc:
        keep_changes_on_error()
        return render_template("auth/mfa.html", errors=exc.errors), 422
    return _finish_login(user, pending.get("next"))


@auth_bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login_enrol():
    """Enrolment forced at login when the second factor is enforced and the user has none yet."""
    user, pending = _pending_user()
    if user is None or user.mfa_enrolled:
        return redirect(url_for("auth.login"))
    secret = session.get("mfa_enrol_secret") or services.new_totp_secret()
    session["mfa_enrol_secret"] = secret
    errors = {}
    if request.method == "POST":
        try:
            data = parse_form(schemas.CodeIn(), drop_empty=False)
            services.enrol_totp(user, secret=secret, code=data["code"])
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            session.pop("mfa_enrol_secret", None)
            flash("动态验证码已绑定", "success")
            return _finish_login(user, pending.get("next"))
    uri = services.provisioning_uri(user, secret)
    return render_template("auth/enrol.html", qr=qr_data_uri(uri), secret=secret, errors=errors,
                           action=url_for("auth.login_enrol")), (422 if errors else 200)


@auth_bp.post("/logout")
def logout():
    services.end_session(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("您已安全退出", "success")
    return redirect(url_for("auth.login"))


# ---------------------------------------------------------------- own account

@account_bp.get("/")
def index():
    return render_template("auth/account.html")


@account_bp.route("/password", methods=["GET", "POST"])
def change_password():
    errors = {}
    if request.method == "POST":
        try:
            data = parse_form(schemas.ChangePasswordIn(), drop_empty=False)
            if data["new_password"] != data["confirm_password"]:
                raise ValidationFailed({"confirm_password": ["两次输入的新密码不一致"]})
            user = current_user._get_current_object()
            services.change_password(user, current_password=data["current_password"], new_password=data["new_password"])
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            # Every session died with the old password; this browser gets a fresh one.
            services.start_session(user, ip=request.remote_addr)
            login_user(user, remember=False)
            flash("密码已修改，其他设备上的登录已全部失效", "success")
            return redirect(url_for("account.index"))
    return render_template("auth/change_password.html", errors=errors), (422 if errors else 200)


@account_bp.route("/totp", methods=["GET", "POST"])
def totp():
    user = current_user._get_current_object()
    if user.mfa_enrolled:
        return render_template("auth/account.html", mfa_done=True)
    secret = session.get("mfa_enrol_secret") or services.new_totp_secret()
    session["mfa_enrol_secret"] = secret
    errors = {}
    if request.method == "POST":
        try:
            data = parse_form(schemas.CodeIn(), drop_empty=False)
            services.enrol_totp(user, secret=secret, code=data["code"])
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            session.pop("mfa_enrol_secret", None)
            flash("动态验证码已绑定，下次登录时需要输入", "success")
            return redirect(url_for("account.index"))
    uri = services.provisioning_uri(user, secret)
    return render_template("auth/enrol.html", qr=qr_data_uri(uri), secret=secret, errors=errors,
                           action=url_for("account.totp")), (422 if errors else 200)


@account_bp.get("/tokens")
def tokens():
    return render_template("auth/tokens.html", tokens=services.list_tokens(current_user), errors={}, created=None)


@account_bp.post("/tokens")
def create_token():
    user = current_user._get_current_object()
    try:
        data = parse_form(schemas.TokenCreateIn())
        _row, plaintext = services.create_token(user, name=data["name"], days=data["days"])
    except ValidationFailed as exc:
        return render_template("auth/tokens.html", tokens=services.list_tokens(user), errors=exc.errors,
                               created=None), 422
    return render_template("auth/tokens.html", tokens=services.list_tokens(user), errors={}, created=plaintext)


@account_bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id):
    services.revoke_token(current_user, token_id)
    flash("令牌已吊销", "success")
    return redirect(url_for("account.tokens"))

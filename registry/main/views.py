from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from registry.auth.roles import Role
from registry.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


@bp.get("/dashboard")
def dashboard():
    if current_user.role == Role.provider_admin:
        return redirect(url_for("providers.dashboard"))
    return render_template("main/dashboard.html")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify({"status": "ok", "database": "ok"})
    except Exception:  # noqa: BLE001 - report, never raise, from a health check
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable"}), 503

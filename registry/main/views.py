from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user

from registry.auth.roles import Role
from registry.main import health
from registry.quality import queries as quality_queries  # issue 16: the school's evaluation reminder

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
    reminder = (quality_queries.evaluation_reminder(current_user.school_id)
                if current_user.role == Role.school_admin and current_user.school_id else [])
    return render_template("main/dashboard.html", quality_reminder=reminder)


@bp.get("/healthz")
def healthz():
    """200 with the state of each dependency, or 503 naming those that failed (registry.main.health)."""
    checks, figures = health.run_checks()
    failed = [name for name, state in checks.items() if not health.is_ok(state)]
    body = {"status": "error" if failed else "ok", **checks, **figures}
    if failed:
        body.update(code="unhealthy", failed=failed,
                    message="依赖不可用：" + "、".join(health.LABELS[f] for f in failed))
        return jsonify(body), 503
    return jsonify(body)

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user

from registry.auth.roles import REVIEWER_ROLES, Role
from registry.core import clock
from registry.core import dashboard as panels
from registry.main import health, queries
from registry.providers.views import dashboard_panel

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


# issue 19: every role's home page is its to-do list. Positions of the panels (registry.core.dashboard):
# 10 this list; later domains take 20 and up (docs/architecture.md "To-do dashboards").
@panels.panel([Role.school_admin, *REVIEWER_ROLES, Role.sys_admin, Role.auditor], "main/_todo.html", 10)
def _role_todos(user, day):
    if user.role == Role.school_admin:
        return {"todos": queries.school_todos(user, day), "title": "待办事项"}
    if user.role in REVIEWER_ROLES:
        return {"todos": queries.reviewer_todos(user, day), "title": "审核待办"}
    if user.role == Role.sys_admin:
        return {"todos": queries.admin_todos(day), "title": "待办事项"}
    return {"todos": queries.auditor_todos(day), "title": "今日需关注"}


@dashboard_panel("main/_todo.html", position=1)
def _provider_todos(provider):
    """The provider's to-do counts, first on its dashboard; complaints add their own panel (position 5)."""
    return {"todos": queries.provider_todos(provider, clock.today()), "title": "待办事项"}


@bp.get("/dashboard")
def dashboard():
    if current_user.role == Role.provider_admin:
        return redirect(url_for("providers.dashboard"))
    user = current_user._get_current_object()
    return render_template("main/dashboard.html", panels=panels.render(user, clock.today()))


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

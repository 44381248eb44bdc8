"""Applications (申报): the provider's page and frozen snapshots, and the reviewers' read views."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.applications import queries, schemas
from registry.applications import services as applications
from registry.core.errors import DomainError, ValidationFailed
from registry.core.schema import parse_form
from registry.people.models import CHECK_RESULT_LABELS
from registry.providers.models import VERIFICATION_LABELS
from registry.providers.views import dashboard_panel

bp = Blueprint("applications", __name__)


@dashboard_panel("applications/_dashboard_summary.html", position=10)
def _provider_dashboard_panel(provider):
    """Next steps, project states and people not cleared today, on the provider's dashboard."""
    return {"summary": queries.dashboard_summary_once(provider)}

SNAPSHOT_LABELS = {
    "result": {k.value: v for k, v in CHECK_RESULT_LABELS.items()},
    "verification": {k.value: v for k, v in VERIFICATION_LABELS.items()},
}


def _actor():
    return current_user._get_current_object()


# ---------------------------------------------------------------- provider

def _render_index(errors=None, message=None, status=200):
    provider = current_user.provider
    app = applications.open_application(provider.id)
    rows = queries.project_rows(provider)
    groups, missing_count = [], 0
    if app is not None and app.status.value == "draft":
        missing = applications.checklist(app)
        missing_count = len(missing)
        groups = queries.grouped_checklist(missing)
    past = [a for a in applications.list_for_provider(provider.id) if app is None or a.id != app.id]
    chosen = {str(link.project_id) for link in app.projects} if app is not None else set()
    if errors and "project_ids" in errors:
        chosen = set(request.form.getlist("project_ids"))
    return render_template(
        "applications/index.html", app=app, rows=rows, pending_provider=provider.pending_message, groups=groups,
        missing_count=missing_count, past=past,
        chosen=chosen, errors=errors or {}, message=message, **_kind_and_comments(provider, app),
        history=queries.history_rows(app.id) if app is not None else [],
        can_withdraw=app is not None and "withdraw" in applications.LIFECYCLE.allowed_actions(app.status.value),
    ), status


def _kind_and_comments(provider, app):
    """The kinds the provider may start (when nothing is open), and the comments of the last return."""
    if app is not None:
        return {"kinds": [], "chosen_kind": None, "return_comments": queries.provider_comments(app)}
    kinds = applications.kind_options(provider)
    allowed = [o.kind.value for o in kinds if o.problem is None]
    wanted = request.form.get("kind") if request.method == "POST" else None
    return {"kinds": kinds, "chosen_kind": wanted or (allowed[0] if allowed else None), "return_comments": []}


@bp.get("/provider/application")
def index():
    return _render_index()


def _act(action, success):
    """Run one service call for a form post; on refusal show the application page again with the reason."""
    try:
        result = action()
    except ValidationFailed as exc:
        return _render_index(exc.errors, exc.message, exc.status)
    except DomainError as exc:
        return _render_index({exc.field or "_schema": [exc.message]}, exc.message, exc.status)
    flash(success, "success")
    return redirect(result or url_for("applications.index"))


@bp.post("/provider/applications")
def create():
    def action():
        data = parse_form(schemas.CreateApplicationIn(), multi=("project_ids",))
        applications.create_application(current_user.provider, actor=_actor(), project_ids=data["project_ids"],
                                        kind=data["kind"])
    return _act(action, "已创建申报草稿，请对照下方清单补齐材料后提交")


@bp.post("/provider/applications/<int:application_id>/projects")
def set_projects(application_id):
    app = queries.own_application(current_user, application_id)

    def action():
        data = parse_form(schemas.ProjectIdsIn(), multi=("project_ids",))
        applications.set_projects(app, actor=_actor(), project_ids=data["project_ids"])
    return _act(action, "申报项目已更新")


@bp.post("/provider/applications/<int:application_id>/submit")
def submit(application_id):
    app = queries.own_application(current_user, application_id)

    def action():
        parse_form(schemas.SubmitIn())
        applications.submit(app, actor=_actor())
        return url_for("applications.detail", application_id=app.id)
    return _act(action, "申报已提交，提交内容已冻结，请等待审核")


@bp.post("/provider/applications/<int:application_id>/withdraw")
def withdraw(application_id):
    app = queries.own_application(current_user, application_id)

    def action():
        data = parse_form(schemas.WithdrawIn())
        applications.withdraw(app, actor=_actor(), reason=data["reason"])
    return _act(action, "申报已撤回")


@bp.get("/provider/applications/<int:application_id>")
def detail(application_id):
    app = queries.own_application(current_user, application_id)
    snapshot = _chosen_snapshot(app)
    views = queries.comment_views(app, snapshot.number) if snapshot else []
    return render_template("applications/detail.html", app=app, snapshot=snapshot, labels=SNAPSHOT_LABELS,
                           history=queries.history_rows(app.id),
                           review_comments=queries.place_comments(views, snapshot.data, snapshot.data) if views else {})


def _chosen_snapshot(app):
    """The snapshot named by ?n= (an earlier submission), else the latest one."""
    wanted = request.args.get("n", type=int)
    for snapshot in app.snapshots:
        if snapshot.number == wanted:
            return snapshot
    return app.latest_snapshot

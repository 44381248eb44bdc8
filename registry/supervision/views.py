"""Supervision pages.

- The county reviewer assigns schools to the county's inspectors (/supervision/assignments).
- The inspector sees their schools and this month's visits, records a visit on a phone (checklist of eight
  items, each 符合 / 不符合 / 不适用 with a note and photos), and turns a 不符合 item into a rectification task
  for the school or a provider (or, once complaints lands, a complaint case).
- The school or provider answers a task with evidence; the inspector closes or reopens it.
- Dashboards (province → city → county → school) show every indicator of registry.supervision.indicators
  with its trend chart (ECharts, static/vendor/echarts), a table view and an XLSX export; the monthly report
  is a PDF and an XLSX for a county or city (and the province).

Anything outside the user's region answers 404, as if it did not exist."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE

from registry.auth.roles import Role
from registry.core import clock
from registry.core.errors import DomainError, ValidationFailed
from registry.core.pagination import paginate
from registry.core.schema import form_data, load
from registry.extensions import db
from registry.files import services as files
from registry.passes import queries as pass_queries
from registry.supervision import exports, indicators, pdf, queries, schemas
from registry.supervision import services as supervision
from registry.supervision.models import (
    CHECK_ITEM_LABELS,
    ITEM_RESULT_LABELS,
    TASK_STATUS_LABELS,
    TASK_TARGET_LABELS,
    CheckItem,
    ItemResult,
    TaskStatus,
)

bp = Blueprint("supervision", __name__, url_prefix="/supervision")


def _actor():
    return current_user._get_current_object()


def _errors_of(exc):
    if isinstance(exc, ValidationFailed):
        return exc.errors
    if exc.status in (403, 409):
        return {exc.field or "_schema": [exc.message]}
    raise exc


def _as_of():
    args = load(schemas.AsOfIn(unknown=EXCLUDE), request.args.to_dict())
    today = clock.today()
    return min(args["as_of"] or today, today)


# ---------------------------------------------------------------- entry

@bp.get("/")
def index():
    user = _actor()
    if user.role == Role.inspector:
        return redirect(url_for("supervision.visits"))
    if user.role in (Role.school_admin, Role.provider_admin):
        return redirect(url_for("supervision.tasks"))
    return redirect(url_for("supervision.dashboard", region_id=queries.home_region(user).id))


# ---------------------------------------------------------------- dashboards

@bp.get("/regions/<int:region_id>")
def dashboard(region_id):
    region = queries.region_in_scope(_actor(), region_id)
    as_of = _as_of()
    dash = indicators.dashboard(region, as_of)
    month, overdue = queries.overdue_visits(as_of, region)
    return render_template("supervision/dashboard.html", dash=dash, data=exports.dashboard_dict(dash),
                           overdue_month=month, overdue=overdue, parents=_parents(region),
                           report_month=supervision.previous_month(as_of).strftime("%Y-%m"), today=clock.today())


def _parents(region):
    """The breadcrumb from the user's own region down to `region`."""
    home, chain, node = queries.home_region(_actor()), [], region
    while node is not None:
        chain.append(node)
        if node.id == home.id:
            break
        node = node.parent
    return list(reversed(chain))


@bp.get("/regions/<int:region_id>/export.xlsx")
def export_dashboard(region_id):
    region = queries.region_in_scope(_actor(), region_id)
    as_of = _as_of()
    dash = indicators.dashboard(region, as_of)
    return exports.xlsx_response(exports.dashboard_xlsx(dash), f"督导指标-{region.name}-{as_of.isoformat()}.xlsx")


@bp.get("/regions/<int:region_id>/report/<month>.pdf")
def report_pdf(region_id, month):
    region = queries.region_in_scope(_actor(), region_id)
    first = supervision.parse_month(month)
    report = pdf.monthly_report(region, first)
    return pdf.report_response(report, pdf.render_report(report), region, first)


@bp.get("/regions/<int:region_id>/report/<month>.xlsx")
def report_xlsx(region_id, month):
    region = queries.region_in_scope(_actor(), region_id)
    first = supervision.parse_month(month)
    report = pdf.monthly_report(region, first)
    return exports.xlsx_response(exports.report_xlsx(report), pdf.report_filename(region, first, "xlsx"))


@bp.get("/schools/<int:school_id>")
def school(school_id):
    user = _actor()
    school = queries.school_in_scope(user, school_id)
    as_of = _as_of()
    figures = indicators.school_figures(school, as_of)
    visits = db.session.scalars(queries.visits_stmt(user, school_id=school.id).limit(12)).all()
    tasks = db.session.scalars(queries.tasks_stmt(user, school_id=school.id)).all()
    return render_template("supervision/school.html", school=school, as_of=as_of, figures=figures,
                           indicator_list=indicators.INDICATORS, visits=visits, tasks=tasks,
                           assignment=supervision.current_assignment(school.id), parents=_parents(school.county))


# ---------------------------------------------------------------- assignments (county reviewer)

def _assignments_page(status=200, errors=None, form=None):
    user = _actor()
    q = (request.args.get("q") or "").strip()[:50]
    page = paginate(queries.county_schools_stmt(user.region_id, q), request.args.get("page", 1, type=int), 50,
                    scalars=False)
    return render_template("supervision/assignments.html", page=page, q=q, errors=errors or {}, form=form or {},
                           inspectors=queries.county_inspectors(user.region_id), today=clock.today()), status


@bp.get("/assignments")
def assignments():
    return _assignments_page()


@bp.post("/assignments")
def assign():
    typed = form_data()
    try:
        data = load(schemas.AssignIn(), {k: v for k, v in typed.items() if v not in ("", None)})
        school = queries.county_school(_actor(), data["school_id"])
        supervision.assign(school, inspector_id=data["inspector_id"], actor=_actor(), started_on=data["started_on"])
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        return _assignments_page(exc.status, _errors_of(exc), typed)
    flash(f"已将{school.name}挂牌给责任督学", "success")
    return redirect(url_for("supervision.assignments"))


@bp.post("/assignments/<int:assignment_id>/end")
def end_assignment(assignment_id):
    row = queries.assignment_in_county(_actor(), assignment_id)
    supervision.end_assignment(row, actor=_actor())
    flash("已结束该校的挂牌督导", "success")
    return redirect(url_for("supervision.assignments"))


# ---------------------------------------------------------------- visits (inspector)

@bp.get("/visits")
def visits():
    user = _actor()
    today = clock.today()
    args = load(schemas.PageIn(unknown=EXCLUDE), request.args.to_dict())
    page = paginate(queries.visits_stmt(user), args["page"], args["per_page"])
    mine = queries.inspector_schools(user, today) if user.role == Role.inspector else []
    month, overdue = queries.overdue_visits(today, queries.home_region(user))
    if user.role == Role.inspector:
        overdue = [r for r in overdue if r.inspector_id == user.id]
    return render_template("supervision/visits.html", page=page, mine=mine, today=today,
                           overdue=overdue, overdue_month=month)


def _visit_form(school, status=200, errors=None, form=None):
    now = clock.to_cst(clock.utcnow())
    today = now.date()
    return render_template("supervision/visit_form.html", school=school, items=list(CheckItem),
                           results=list(ItemResult), errors=errors or {}, form=form or {},
                           default_at=now.strftime("%Y-%m-%dT%H:%M"),
                           gate_scans=[(clock.to_cst(scan.scanned_at).strftime("%H:%M"), scan)
                                       for scan in pass_queries.scans(school.id, today)],
                           gate_no_shows=pass_queries.no_shows(school_id=school.id, start=today, end=today)), status


@bp.get("/visits/new/<int:school_id>")
def new_visit(school_id):
    return _visit_form(queries.assigned_school(_actor(), school_id))


def visit_from_form(school_id):
    """The visit form as VisitIn's JSON shape: item_<key> / note_<key> fields become items."""
    typed = form_data()
    items = {}
    for key in CHECK_ITEM_LABELS:
        if typed.get(f"item_{key}"):
            items[key] = {"result": typed[f"item_{key}"], "note": typed.get(f"note_{key}", "")}
    return typed, {"school_id": school_id, "visited_at": typed.get("visited_at") or None,
                   "summary": typed.get("summary", ""), "items": items}


def _photos_from_request(keys):
    photos = []
    for key in keys:
        for storage in request.files.getlist(f"photo_{key}" if key else "photo"):
            if storage and storage.filename:
                name, data = files.read_upload(storage, field=f"photo_{key}" if key else "photo")
                photos.append((key, name, data))
    return photos


@bp.post("/visits/new/<int:school_id>")
def record_visit(school_id):
    school = queries.assigned_school(_actor(), school_id)
    typed, raw = visit_from_form(school_id)
    try:
        data = load(schemas.VisitIn(), {k: v for k, v in raw.items() if v is not None})
        photos = _photos_from_request([None, *CHECK_ITEM_LABELS])
        visit = supervision.record_visit(school, actor=_actor(), visited_at=data["visited_at"],
                                         items=data["items"], summary=data["summary"], photos=photos)
    except DomainError as exc:
        db.session.rollback()
        errors = _errors_of(exc)
        errors = {k.replace("items.", "item_"): v for k, v in errors.items()}
        return _visit_form(school, exc.status, errors, typed)
    fails = sum(1 for i in visit.items if i.result == ItemResult.fails)
    flash("督导记录已保存" + (f"；{fails} 项不符合，可在下方提出整改" if fails else ""), "success")
    return redirect(url_for("supervision.visit", visit_id=visit.id))


def _visit_page(visit_id, status=200, errors=None, forms=None):
    visit = queries.visit_for(_actor(), visit_id)
    tasks = db.session.scalars(queries.tasks_stmt(_actor(), visit_id=visit.id)).all()
    return render_template("supervision/visit.html", visit=visit, tasks=tasks,
                           providers=queries.serving_providers(visit.school_id), errors=errors or {},
                           forms=forms or {}, targets=TASK_TARGET_LABELS, today=clock.today(),
                           can_act=_actor().role == Role.inspector and _actor().region_id == visit.county_id), status


@bp.get("/visits/<int:visit_id>")
def visit(visit_id):
    return _visit_page(visit_id)


@bp.post("/visits/<int:visit_id>/tasks")
def open_task(visit_id):
    visit = queries.visit_for(_actor(), visit_id)
    typed = form_data()
    try:
        data = load(schemas.TaskIn(), {k: v for k, v in typed.items() if v not in ("", None)})
        task = supervision.open_task(visit, data["item"], actor=_actor(), target=data["target"],
                                     requirement=data["requirement"], deadline=data["deadline"],
                                     provider_id=data["provider_id"])
    except DomainError as exc:
        db.session.rollback()
        return _visit_page(visit_id, exc.status, {typed.get("item", ""): _errors_of(exc)},
                           {typed.get("item", ""): typed})
    flash(f"已向{task.target_label}下发整改任务，期限 {task.deadline.isoformat()}", "success")
    return redirect(url_for("supervision.visit", visit_id=visit.id) + "#tasks")


@bp.post("/visits/<int:visit_id>/complaint")
def refer_complaint(visit_id):
    visit = queries.visit_for(_actor(), visit_id)
    typed = form_data()
    try:
        data = load(schemas.ComplaintIn(), typed)
        supervision.refer_to_complaint(visit, data["item"], actor=_actor())
    except DomainError as exc:
        db.session.rollback()
        return _visit_page(visit_id, exc.status, {typed.get("item", ""): _errors_of(exc)})
    flash("已转为投诉案件", "success")
    return redirect(url_for("supervision.visit", visit_id=visit.id))


@bp.post("/visits/<int:visit_id>/photos")
def add_photos(visit_id):
    visit = queries.visit_for(_actor(), visit_id)
    try:
        photos = _photos_from_request([None])
        if not photos:
            raise ValidationFailed({"photo": ["请选择要上传的照片"]})
        for item, name, data in photos:
            supervision.add_photo(visit, actor=_actor(), item=item, filename=name, data=data)
    except DomainError as exc:
        db.session.rollback()
        return _visit_page(visit_id, exc.status, {"photos": _errors_of(exc)})
    flash("照片已上传", "success")
    return redirect(url_for("supervision.visit", visit_id=visit.id))


@bp.get("/files/<int:file_id>")
def file(file_id):
    stored = queries.file_for(_actor(), file_id)
    return files.download_response(stored)


# ---------------------------------------------------------------- tasks

@bp.get("/tasks")
def tasks():
    user = _actor()
    args = load(schemas.TaskQueryIn(unknown=EXCLUDE), {k: v for k, v in request.args.items() if v})
    today = clock.today()
    page = paginate(queries.tasks_stmt(user, args["status"], args["overdue"], today), args["page"], args["per_page"])
    return render_template("supervision/tasks.html", page=page, args=args, today=today,
                           statuses=list(TASK_STATUS_LABELS.items()))


def _task_page(task_id, status=200, errors=None, form=None):
    user = _actor()
    task = queries.task_for(user, task_id)
    return render_template(
        "supervision/task.html", task=task, today=clock.today(), errors=errors or {}, form=form or {},
        can_respond=task.status in (TaskStatus.open, TaskStatus.reopened) and (
            (user.role == Role.school_admin and task.target.value == "school")
            or (user.role == Role.provider_admin and task.target.value == "provider")),
        can_review=task.status == TaskStatus.responded and supervision.may_review(task, user),
        history=queries.task_history(task)), status


@bp.get("/tasks/<int:task_id>")
def task(task_id):
    return _task_page(task_id)


def _task_action(task_id, schema, call, message):
    task = queries.task_for(_actor(), task_id)
    typed = form_data()
    try:
        call(task, load(schema, typed))
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            raise
        return _task_page(task_id, exc.status, _errors_of(exc), typed)
    flash(message, "success")
    return redirect(url_for("supervision.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/respond")
def respond(task_id):
    def call(task, data):
        evidence = [files.read_upload(s, field="evidence") for s in request.files.getlist("evidence")
                    if s and s.filename]
        supervision.respond(task, actor=_actor(), response=data["response"], evidence=evidence)
    return _task_action(task_id, schemas.RespondIn(), call, "整改情况已提交，等待责任督学复核")


@bp.post("/tasks/<int:task_id>/close")
def close_task(task_id):
    return _task_action(task_id, schemas.CloseIn(),
                        lambda task, data: supervision.close(task, actor=_actor(), note=data["note"]), "整改任务已销号")


@bp.post("/tasks/<int:task_id>/reopen")
def reopen_task(task_id):
    return _task_action(task_id, schemas.ReopenIn(),
                        lambda task, data: supervision.reopen(task, actor=_actor(), note=data["note"]),
                        "已退回继续整改")


def labels():
    return {"item_labels": CHECK_ITEM_LABELS, "result_labels": ITEM_RESULT_LABELS}


bp.context_processor(labels)

"""Release batches (批次), publicity (公示) and objections (异议).

The city reviewer's pages (/review/batches...), the public publicity pages with the objection form
(/publicity...), and the sys_admin's working-day calendar (/admin/calendar) that the publicity count
depends on. Every write goes through registry.whitelist.services or registry.calendar.services; the
read helpers here are shared with the JSON API (batch_api.py).
"""
from datetime import date
from decimal import Decimal
from functools import wraps

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from limits import parse as parse_limit
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry.applications.models import Application
from registry.auth.roles import Role
from registry.calendar import services as workdays
from registry.calendar.models import CalendarDay, CalendarYear
from registry.core import clock
from registry.core.errors import DomainError, NotFound, ValidationFailed
from registry.core.http import error_response
from registry.core.schema import parse_form
from registry.extensions import db, limiter
from registry.policy import services as policy
from registry.projects.models import Category, Level, Project, stages_to_mask
from registry.reviews import services as reviews
from registry.whitelist import services
from registry.whitelist.batch_schemas import (
    BatchCreateIn, BatchItemIn, CalendarDayIn, CalendarDayRefIn, CalendarYearIn, EmptyIn, ObjectionIn, ResolveIn,
)
from registry.whitelist.models import BatchItem, BatchStatus, Objection, ObjectionStatus, ReleaseBatch

bp = Blueprint("batches", __name__)


def _actor():
    return current_user._get_current_object()


# ---------------------------------------------------------------- reads shared with the JSON API

def own_batch(user, batch_id):
    """A batch of the reviewer's own city; any other batch does not exist for them (404, not 403)."""
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None or user.role != Role.city_reviewer or batch.city_id != user.region_id:
        raise NotFound("批次不存在")
    return batch


def own_objection(user, objection_id):
    objection = db.session.get(Objection, objection_id)
    if objection is None or user.role != Role.city_reviewer or objection.batch.city_id != user.region_id:
        raise NotFound("异议不存在")
    return objection


def city_application(batch, application_id):
    """An application of the batch's city (others are reported as not found, never as someone else's)."""
    app = db.session.get(Application, application_id) if application_id is not None else None
    if app is None or app.city_id != batch.city_id:
        raise NotFound("申报不存在")
    return app


def city_batches(city_id):
    return db.session.scalars(select(ReleaseBatch).where(ReleaseBatch.city_id == city_id)
                              .options(selectinload(ReleaseBatch.city))
                              .order_by(ReleaseBatch.year.desc(), ReleaseBatch.seq.desc())).all()


def open_objection_count(batch):
    return db.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.batch_id == batch.id, Objection.status == ObjectionStatus.open))


def batch_rows(city_id):
    """[(batch, live item count, open objection count)] for the city's batches, newest first."""
    batches = city_batches(city_id)
    ids = [b.id for b in batches]
    items = dict(db.session.execute(
        select(BatchItem.batch_id, func.count()).where(BatchItem.batch_id.in_(ids), BatchItem.removed_at.is_(None))
        .group_by(BatchItem.batch_id)).all()) if ids else {}
    objections = dict(db.session.execute(
        select(Objection.batch_id, func.count()).where(Objection.batch_id.in_(ids),
                                                       Objection.status == ObjectionStatus.open)
        .group_by(Objection.batch_id)).all()) if ids else {}
    return [(b, items.get(b.id, 0), objections.get(b.id, 0)) for b in batches]


def ready_applications(user):
    """Applications at city review in the reviewer's city that no unpublished batch holds yet,
    with the reason (four-eyes) why this reviewer may not take one, if any."""
    taken = set(db.session.scalars(
        select(BatchItem.application_id).join(BatchItem.batch)
        .where(BatchItem.removed_at.is_(None), ReleaseBatch.status != BatchStatus.published,
               ReleaseBatch.city_id == user.region_id)))
    return [(row, reviews.decision_problem(user, row.application))
            for row in reviews.queue(user, status="city_review") if row.application.id not in taken]


def create_with(user, application_ids):
    """A new draft batch, filled with the given applications (all or nothing: the request rolls back on error)."""
    batch = services.create_batch(actor=user)
    for application_id in application_ids:
        services.add_to_batch(batch, city_application(batch, application_id), actor=user)
    return batch


def batch_objections(batch):
    return db.session.scalars(select(Objection).where(Objection.batch_id == batch.id)
                              .options(selectinload(Objection.application).selectinload(Application.provider))
                              .order_by(Objection.id)).all()


def live_items(batch):
    return [item for item in batch.items if item.removed_at is None]


def publicity_preview(batch):
    """What starting the publicity today would give: the end date and any calendar warning."""
    if batch.status != BatchStatus.draft:
        return None
    days = policy.for_city(batch.city).publicity_working_days
    today = clock.today()
    count = workdays.add_working_days(today, days)
    return {"start": today, "end": count.end, "days": days, "warning": count.warning}


def public_batch_or_404(batch_id):
    """A batch the public may see: under publicity or published. Drafts do not exist for the public."""
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None or batch.status == BatchStatus.draft:
        raise NotFound("该公示不存在")
    return batch


def publicity_batches():
    return db.session.scalars(select(ReleaseBatch).where(ReleaseBatch.status == BatchStatus.publicity)
                              .options(selectinload(ReleaseBatch.city))
                              .order_by(ReleaseBatch.publicity_start.desc(), ReleaseBatch.id.desc())).all()


def _publicised_project(item):
    """A project as its application's snapshot publicises it (a 变更 application's proposed values): a transient
    copy for the public schema, never added to the session."""
    return Project(id=item["id"], title=item["title"], category=Category(item["category"]),
                   stages_mask=stages_to_mask(item["stages"]), level=Level(item["level"]), price=Decimal(item["price"]))


def public_view(batch):
    """The public content of a batch: issuer, dates, and per provider only name, USCC, type and county,
    with its projects' category, stage, level and price (docs/domain.md "What the public sees"), as the reviewed
    snapshot has them: what is publicised is what will be published (for a 变更 application, the new values)."""
    providers = []
    for item in live_items(batch):
        app = item.application
        provider = app.provider
        data = app.latest_snapshot.data
        org = data["organisation"]
        providers.append({
            "application_id": app.id, "name": org["name"], "uscc": provider.uscc,
            "org_type": org["org_type"], "org_type_label": org["org_type_label"],
            "county": provider.county.name, "projects": [_publicised_project(p) for p in data["projects"]],
        })
    return {"id": batch.id, "name": batch.name, "city": batch.city.name, "issuer": batch.issuer,
            "status": batch.status, "publicity_start": batch.publicity_start, "publicity_end": batch.publicity_end,
            "open_for_objections": services.publicity_open(batch), "providers": providers}


# ---------------------------------------------------------------- objection rate limit

def objection_rate_limit():
    return current_app.config["OBJECTION_RATE_LIMIT"]


def objection_limit_message():
    units = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天", "month": "月", "year": "年"}
    try:
        item = parse_limit(objection_rate_limit())
        per = units.get(item.GRANULARITY.name, item.GRANULARITY.name)
        window = f"{item.multiples} {per}" if item.multiples > 1 else per
        rule = f"同一网络地址每{window}最多提交 {item.amount} 条异议"
    except ValueError:
        rule = "异议提交次数已达上限"
    return f"提交过于频繁：{rule}，请稍后再试"


def objection_limited(on_limit):
    """Rate-limit objection POSTs per client address, shared by the HTML form and the API. A refusal is a
    429 that `on_limit` renders (the form keeps what was typed; the API answers {code, message, field})."""
    def decorate(view):
        limited = limiter.shared_limit(objection_rate_limit, scope="objection", methods=["POST"])(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return limited(*args, **kwargs)
            except RateLimitExceeded:
                return on_limit(*args, **kwargs)
        return wrapper
    return decorate


# ---------------------------------------------------------------- HTML helpers

def _act(action, success, back):
    """Run one service call for a button post. A refusal (an illegal transition, a rule) is flashed and the
    page shown again; what the service flushed is rolled back first, so nothing half-done is committed."""
    try:
        result = action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back() if callable(back) else back)
    flash(success(result) if callable(success) else success, "success")
    return redirect(back() if callable(back) else back)


def _detail_url(batch_id):
    return url_for("batches.detail", batch_id=batch_id)


# ---------------------------------------------------------------- city reviewer: batches

@bp.get("/review/batches")
def index():
    user = current_user
    rows = batch_rows(user.region_id)
    drafts = [b for b, _items, _open in rows if b.status == BatchStatus.draft]
    return render_template("batches/index.html", rows=rows, drafts=drafts, ready=ready_applications(user),
                           publicity_days=policy.for_city(user.region).publicity_working_days)


@bp.post("/review/batches")
def create():
    def action():
        data = parse_form(BatchCreateIn(), multi=("application_ids",))
        return create_with(_actor(), data["application_ids"])
    try:
        batch = action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("batches.index"))
    flash(f"已新建{batch.name}" + (f"，加入 {len(batch.items)} 份申报" if batch.items else ""), "success")
    return redirect(_detail_url(batch.id))


@bp.get("/review/batches/<int:batch_id>")
def detail(batch_id):
    return _render_detail(own_batch(current_user, batch_id))


def _render_detail(batch, resolve_errors=None, resolve_form=None, status=200):
    user = current_user
    objections = batch_objections(batch)
    return render_template(
        "batches/detail.html", batch=batch, items=batch.items, live=live_items(batch), objections=objections,
        open_count=sum(1 for o in objections if o.status == ObjectionStatus.open),
        preview=publicity_preview(batch), publish_problem=services.publish_problem(batch),
        ready=ready_applications(user) if batch.status == BatchStatus.draft else [],
        in_window=services.publicity_open(batch), resolve_errors=resolve_errors or {},
        resolve_form=resolve_form or {},
    ), status


@bp.post("/review/batches/<int:batch_id>/items")
def add_item(batch_id):
    batch = own_batch(current_user, batch_id)

    def action():
        data = parse_form(BatchItemIn())
        app = city_application(batch, data["application_id"])
        services.add_to_batch(batch, app, actor=_actor())
        return app
    return _act(action, lambda app: f"已将“{app.provider.name}”加入{batch.name}", _detail_url(batch.id))


@bp.post("/review/batches/<int:batch_id>/items/<int:application_id>/remove")
def remove_item(batch_id, application_id):
    batch = own_batch(current_user, batch_id)

    def action():
        parse_form(EmptyIn())
        services.remove_from_batch(batch, application_id, actor=_actor())
    return _act(action, "已从批次中移出该申报", _detail_url(batch.id))


@bp.post("/review/batches/<int:batch_id>/publicity")
def start_publicity(batch_id):
    batch = own_batch(current_user, batch_id)

    def action():
        parse_form(EmptyIn())
        services.start_publicity(batch, actor=_actor())

    def success(_result):
        return (f"{batch.name}已开始公示：{batch.publicity_start.isoformat()} 至 "
                f"{batch.publicity_end.isoformat()}。公示页面已对公众开放")
    return _act(action, success, _detail_url(batch.id))


@bp.post("/review/batches/<int:batch_id>/publish")
def publish(batch_id):
    batch = own_batch(current_user, batch_id)

    def action():
        parse_form(EmptyIn())
        services.publish(batch, actor=_actor())
        return len(live_items(batch))
    return _act(action, lambda n: f"{batch.name}已发布，{n} 家机构及其服务项目已列入白名单", _detail_url(batch.id))


@bp.post("/review/objections/<int:objection_id>/resolve")
def resolve_objection(objection_id):
    objection = own_objection(current_user, objection_id)
    batch_id = objection.batch_id
    try:
        data = parse_form(ResolveIn())
        services.resolve_objection(objection, actor=_actor(), **data)
    except ValidationFailed as exc:
        db.session.rollback()  # nothing half-resolved may show on the page
        return _render_detail(own_batch(current_user, batch_id), resolve_errors={objection_id: exc.errors},
                              resolve_form={objection_id: request.form}, status=exc.status)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_detail_url(batch_id))
    if objection.status == ObjectionStatus.upheld:
        outcome = "退回修改" if data["outcome"] == "return" else "不予通过"
        flash(f"异议 #{objection.id} 成立：“{objection.application.provider.name}”已移出批次，申报{outcome}", "success")
    else:
        flash(f"异议 #{objection.id} 已处理：异议不成立", "success")
    return redirect(_detail_url(batch_id))


# ---------------------------------------------------------------- public: publicity and objections

@bp.get("/publicity")
def publicity_index():
    batches = publicity_batches()
    return render_template("publicity/index.html", batches=batches, today=clock.today(),
                           counts={b.id: len(live_items(b)) for b in batches})


@bp.get("/publicity/<int:batch_id>")
def publicity_detail(batch_id):
    return _render_publicity(public_batch_or_404(batch_id))


def _render_publicity(batch, errors=None, form=None, message=None, status=200):
    view = public_view(batch)
    options = [(p["application_id"], p["name"]) for p in view["providers"]]
    return render_template("publicity/detail.html", view=view, options=options, errors=errors or {},
                           form=form or {}, message=message), status


def _objection_limited_page(batch_id):
    return _render_publicity(public_batch_or_404(batch_id), form=request.form, message=objection_limit_message(),
                             status=429)


@bp.post("/publicity/<int:batch_id>/objections")
@objection_limited(_objection_limited_page)
def file_objection(batch_id):
    batch = public_batch_or_404(batch_id)
    try:
        data = parse_form(ObjectionIn())
        objection = services.file_objection(batch, **data)
    except DomainError as exc:
        db.session.rollback()
        return _render_publicity(batch, errors=getattr(exc, "errors", None) or {}, form=request.form,
                                 message=exc.message, status=exc.status)
    flash(f"您的异议已提交（编号 #{objection.id}）。{batch.issuer}将核实处理，必要时通过您留下的联系方式与您联系。",
          "success")
    return redirect(url_for("batches.publicity_detail", batch_id=batch.id))


def objection_limited_json(batch_id):
    return error_response(429, "rate_limited", objection_limit_message())


# ---------------------------------------------------------------- sys_admin: working-day calendar

def _calendar_years(selected):
    today = clock.today()
    entered = db.session.scalars(select(CalendarDay.day)).all()
    marked = {row.year: row for row in db.session.scalars(select(CalendarYear))}
    counts = {}
    for day in entered:
        counts[day.year] = counts.get(day.year, 0) + 1
    years = sorted(set(range(today.year - 1, today.year + 3)) | set(counts) | set(marked) | {selected})
    rows = []
    for year in years:
        covered = workdays.package_covers(year)
        if year in marked:
            method, badge = "管理员录入的节假日安排", "ok"
        elif covered:
            method, badge = "chinese-calendar 法定节假日数据", "ok"
        else:
            method, badge = "仅按周一至周五计算（缺少节假日数据）", "err"
        rows.append({"year": year, "covered": covered, "entered": counts.get(year, 0), "marked": marked.get(year),
                     "method": method, "badge": badge})
    return rows


def _render_calendar(year=None, errors=None, form=None, status=200):
    today = clock.today()
    if year is None:
        year = request.args.get("year", type=int) or today.year
    if not 2000 <= year <= 2100:
        year = today.year
    rows = _calendar_years(year)
    selected = next(r for r in rows if r["year"] == year)
    return render_template("batches/calendar.html", rows=rows, year=year, selected=selected,
                           days=workdays.days_of_year(year), errors=errors or {}, form=form or {},
                           weekdays="一二三四五六日"), status


def _form_year(fallback):
    try:
        return date.fromisoformat(request.form.get("day", "")).year
    except ValueError:
        return request.form.get("year", type=int) or fallback


def _calendar_act(schema, apply, success):
    try:
        data = parse_form(schema)
        year = apply(data)
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_calendar(year=_form_year(None), errors=exc.errors, form=request.form, status=exc.status)
    flash(success(data), "success")
    return redirect(url_for("batches.calendar", year=year))


@bp.get("/admin/calendar")
def calendar():
    return _render_calendar()


@bp.post("/admin/calendar/days")
def calendar_set_day():
    def apply(data):
        workdays.set_day(data["day"], is_workday=data["is_workday"], note=data["note"], actor=_actor())
        return data["day"].year
    return _calendar_act(CalendarDayIn(), apply, lambda d: f"已录入 {d['day'].isoformat()}:"
                         f"{'调休上班' if d['is_workday'] else '放假'}({d['note'].strip()})")


@bp.post("/admin/calendar/days/delete")
def calendar_delete_day():
    def apply(data):
        workdays.delete_day(data["day"], actor=_actor())
        return data["day"].year
    return _calendar_act(CalendarDayRefIn(), apply, lambda d: f"已删除 {d['day'].isoformat()} 的录入")


@bp.post("/admin/calendar/years")
def calendar_mark_year():
    def apply(data):
        workdays.mark_year_complete(data["year"], source=data["source"], actor=_actor())
        return data["year"]
    return _calendar_act(CalendarYearIn(), apply,
                         lambda d: f"已标记 {d['year']} 年节假日安排录入完整，该年工作日按录入的安排计算")

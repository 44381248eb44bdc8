"""The school's side of ordering (school_admin): the catalog, a project page, the order form, my orders
(list, detail, cancel) and the service confirmation PDF (also for the order's provider).

Every order page is limited to the caller's school: another school's order answers 404. Refusals
from orders.services come back on the form with every Chinese reason, and nothing typed is lost.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE

from registry.core import clock
from registry.core import confirm as confirm_step
from registry.core import pdf as core_pdf
from registry.core.api import INT_MAX
from registry.core.errors import DomainError, ValidationFailed
from registry.core.pagination import paginate
from registry.core.schema import form_data, load
from registry.extensions import db, limiter
from registry.orders import catalog as catalog_queries
from registry.orders import exports, pdf, queries, schemas
from registry.orders import services as orders
from registry.orders.models import ORDER_STATUS_LABELS, WEEKDAY_LABELS
from registry.projects.models import CATEGORY_LABELS, LEVEL_LABELS, STAGE_LABELS
from registry.schools import queries as school_queries
from registry.schools import services as schools
from registry.schools.views import errors_of

bp = Blueprint("school_orders", __name__)

PDF_RATE_LIMIT = "30 per minute"
SCHOOL_GRADES = {"primary": range(1, 7), "junior": range(7, 10), "nine_year": range(1, 10)}
STAGE_GRADES = {"lower_primary": {1, 2, 3}, "upper_primary": {4, 5, 6}, "junior": {7, 8, 9}}
STATUS_BADGES = {"requested": "badge-warn", "accepted": "badge-ok", "active": "badge-ok", "completed": "",
                 "declined": "badge-err", "suspended": "badge-err", "cancelled": ""}
MULTI = ("grades", "weekdays")
FIELD_LABELS = {"term_id": "学期", "grades": "年级", "classes": "班级", "weekdays": "服务日", "time_slot": "时间段",
                "sessions": "服务次数", "expected_students": "预计人数", "venue": "上课地点", "price": "价格"}


def _actor():
    return current_user._get_current_object()


def _school():
    return current_user.school


def _render(template, status=200, **context):
    return render_template(template, status_labels=ORDER_STATUS_LABELS, badges=STATUS_BADGES,
                           weekday_labels=WEEKDAY_LABELS, grade_labels=schemas.GRADE_LABELS,
                           suspension_notice=queries.suspension_notice, **context), status


# ---------------------------------------------------------------- catalog and project page

def catalog_args(args):
    return load(schemas.CatalogQueryIn(unknown=EXCLUDE), args)


@bp.get("/school/catalog")
def catalog():
    args = catalog_args(request.args.to_dict())
    school = _school()
    result = catalog_queries.catalog(school, args, page=args["page"], per_page=args["per_page"])
    terms = school_queries.open_terms(result.day)
    term = school_queries.default_term(result.day, terms)
    return _render("school_orders/catalog.html", school=school, result=result, page=result.page, args=args,
                   categories=list(CATEGORY_LABELS.items()), stages=list(STAGE_LABELS.items()),
                   levels=list(LEVEL_LABELS.items()), sorts=catalog_queries.SORT_CHOICES,
                   share=schools.share_view(school, term) if term else None)


@bp.get("/school/catalog/<int:entry_id>")
def project(entry_id):
    row = catalog_queries.catalog_entry(_school(), entry_id)
    return _render("school_orders/project.html", row=row, entry=row.entry, today=clock.today())


# ---------------------------------------------------------------- the order form

def _total(project, form):
    try:
        students, sessions = int(form.get("expected_students") or 0), int(form.get("sessions") or 0)
    except (TypeError, ValueError):
        return None
    if students <= 0 or sessions <= 0:
        return None
    return project.price * students * orders.class_hours(project, _school(), _grades_ticked(), sessions)


def _grades_ticked():
    return [int(g) for g in request.form.getlist("grades") if str(g).isdigit()]


def _capacity_warning(term, form, day):
    """A warning when the sessions asked for cannot fit the chosen weekdays left in the term (from today or
    the term's start); None when they fit or the form does not say enough yet."""
    try:
        sessions = int(form.get("sessions") or 0)
        weekdays = {int(d) for d in form.get("weekdays") or []}
    except (TypeError, ValueError):
        return None
    if term is None or sessions <= 0 or not weekdays:
        return None
    slots = orders.weekday_slots(max(day, term.starts_on), term.ends_on, weekdays)
    if sessions <= slots:
        return None
    names = "、".join(WEEKDAY_LABELS[d] for d in sorted(weekdays) if d in range(len(WEEKDAY_LABELS)))
    return (f"注意：本学期余下（至 {term.ends_on.isoformat()}）只有 {slots} 个{names}，排不下 {sessions} 次服务。"
            f"请增加服务日或减少服务次数。")


def _order_form(row, form, status=200, errors=None, preview=False):
    school = _school()
    day = clock.today()
    terms = school_queries.open_terms(day)
    term = None
    raw = str(form.get("term_id") or "")
    if raw.isdigit():
        term = next((t for t in terms if t.id == int(raw)), None)
    term = term or school_queries.default_term(day, terms)
    project = row.entry.project
    fitting = set().union(*(STAGE_GRADES[s.value] for s in project.stages))
    grades = [(g, schemas.GRADE_LABELS[g], g in fitting) for g in SCHOOL_GRADES[school.school_type.value]]
    errors = errors or {}
    total = None if {"expected_students", "sessions"} & set(errors) else _total(project, form)
    return _render("school_orders/form.html", status, row=row, entry=row.entry, project=project, school=school,
                   terms=terms, term=term, share=schools.share_view(school, term) if term else None,
                   grades=grades, form=form, errors=errors, total=total, preview=preview, field_labels=FIELD_LABELS,
                   capacity=_capacity_warning(term, form, day),
                   hours_per_session=orders.class_hours(project, school, _grades_ticked(), 1))


def _entry_row(entry_id):
    try:
        number = int(entry_id)
        if not 0 < number <= INT_MAX:  # beyond an id column: no such entry, and no database error
            raise ValueError(entry_id)
        return catalog_queries.catalog_entry(_school(), number)
    except (TypeError, ValueError):
        raise ValidationFailed({"entry_id": ["请先在白名单点单页选择项目"]}) from None


@bp.get("/school/orders/new")
def new():
    row = _entry_row(request.args.get("entry_id"))
    project = row.entry.project
    form = {"entry_id": row.entry.id, "sessions": project.sessions_per_term, "grades": [], "weekdays": []}
    return _order_form(row, form)


def _submitted():
    """The form as typed (multi-valued fields as lists), to load and to show again."""
    data = form_data(multi=MULTI)
    for name in MULTI:
        data.setdefault(name, [])
    return data


@bp.post("/school/orders")
def create():
    typed = _submitted()
    preview = typed.pop("preview", None) is not None
    entry_id = typed.get("entry_id")
    row = _entry_row(entry_id)
    data = {k: v for k, v in typed.items() if v not in ("", None, [])}
    try:
        loaded = load(schemas.OrderIn(), data)
        if preview:
            orders.check_order(_school(), actor=_actor(), **loaded)
            return _order_form(row, typed, preview=True)
        order = orders.create_order(_school(), actor=_actor(), **loaded)
    except DomainError as exc:
        db.session.rollback()
        return _order_form(_entry_row(entry_id), typed, status=exc.status if exc.status != 400 else 422,
                           errors=errors_of(exc))
    flash(f"已提交点单（订单号 {order.id}），等待机构确认", "success")
    return redirect(url_for("school_orders.detail", order_id=order.id))


# ---------------------------------------------------------------- my orders

def own_order(order_id):
    """The order if it belongs to the caller's school; 404 otherwise."""
    return queries.school_order(current_user.school_id, order_id)


@bp.get("/school/orders")
def index():
    args = load(schemas.OrderQueryIn(unknown=EXCLUDE), request.args.to_dict())
    day = clock.today()
    page = paginate(queries.school_orders_stmt(current_user.school_id, args, day), args["page"], args["per_page"])
    return _render("school_orders/index.html", page=page, args=args, today=day, terms=school_queries.list_terms(),
                   statuses=schemas.STATUS_CHOICES)


@bp.get("/school/orders/export.<fmt>")
def export(fmt):
    """我的订单 with the page's filters, as CSV or XLSX."""
    args = load(schemas.OrderQueryIn(unknown=EXCLUDE), request.args.to_dict())
    day = clock.today()
    found = db.session.scalars(queries.school_orders_stmt(current_user.school_id, args, day)
                               .limit(exports.MAX_ROWS)).unique()
    return exports.response(found, fmt, day, "本校")


def _detail(order, status=200, errors=None, form=None):
    day = clock.today()
    waiting = orders.waits_for_fee_notice(order)  # issue 15
    return _render("school_orders/detail.html", status, order=order, today=day, fee_notice_missing=waiting,
                   fee_notice_message=orders.FEE_NOTICE_MISSING,
                   effective=order.status if waiting else order.effective_status(day), errors=errors or {},
                   form=form or {}, notice=queries.suspension_notice(order, day),
                   can_cancel=orders.LIFECYCLE.find("cancel", order.status.value) is not None,
                   confirmable=order.effective_status(day) in pdf.CONFIRMABLE)


@bp.get("/school/orders/<int:order_id>")
def detail(order_id):
    return _detail(own_order(order_id))


@bp.post("/school/orders/<int:order_id>/cancel")
def cancel(order_id):
    order = own_order(order_id)
    try:
        data = load(schemas.CancelIn(), form_data())
        if not confirm_step.confirmed():
            return confirm_step.page(confirm_step.Confirmation(
                title="确认取消订单", subject=f"订单 {order.id}：{order.provider.name}“{order.project.title}”",
                button="确认取消订单", back_url=url_for("school_orders.detail", order_id=order.id),
                details=[("取消原因", data["reason"])], consequences=[
                    "订单取消后不能恢复；如仍需该项目，须重新点单。", "机构会收到消息，看到取消原因。"]))
        orders.cancel_order(order, actor=_actor(), reason=data["reason"])
    except DomainError as exc:
        db.session.rollback()
        return _detail(own_order(order_id), status=exc.status, errors=errors_of(exc), form=request.form)
    flash("订单已取消", "success")
    return redirect(url_for("school_orders.detail", order_id=order_id))


# ---------------------------------------------------------------- the service confirmation (school and provider)

@bp.get("/orders/<int:order_id>/confirmation.pdf")
@limiter.limit(PDF_RATE_LIMIT)
def confirmation(order_id):
    order = pdf.order_for_confirmation(_actor(), order_id)
    return core_pdf.pdf_response(pdf.render_confirmation(order), pdf.filename(order))


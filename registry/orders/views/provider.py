"""The provider's side of orders (provider_admin): incoming orders by status, an order's page, accepting
with staff cleared today for the project, and declining with a reason.

Only the provider's own orders: another provider's order answers 404, as if it did not exist. A refused
acceptance comes back on the page with every Chinese reason (which person, which check) and the boxes the
user ticked; a successful one shows the warnings about anyone whose clearance lapses before the term ends.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE

from registry.core import clock
from registry.core import confirm as confirmation
from registry.core.errors import DomainError, ValidationFailed
from registry.core.pagination import paginate
from registry.core.schema import form_data, load
from registry.extensions import db
from registry.orders import exports, queries, schemas
from registry.orders import services as orders
from registry.orders.models import ORDER_STATUS_LABELS, WEEKDAY_LABELS, OrderStatus
from registry.people.models import QUALIFICATION_LABELS

bp = Blueprint("provider_orders", __name__)

STATUS_BADGES = {"requested": "badge badge-warn", "accepted": "badge badge-ok", "active": "badge badge-ok",
                 "completed": "badge", "declined": "badge badge-err", "suspended": "badge badge-err",
                 "cancelled": "badge"}
# Tabs in the order a provider works through them.
TABS = ("requested", "accepted", "active", "suspended", "completed", "declined", "cancelled")
MOVE_LABELS = {"accept": "接单", "decline": "拒绝", "activate": "开始服务", "suspend": "暂停", "resume": "恢复",
               "cancel": "取消", "complete": "完成"}
CONFIRMABLE = (OrderStatus.accepted, OrderStatus.active, OrderStatus.completed)
REPLACEABLE = (OrderStatus.accepted, OrderStatus.active)  # issue 14: staff can be replaced


def _actor():
    return current_user._get_current_object()


def own_order(order_id):
    """The order if it belongs to the caller's provider; 404 otherwise."""
    return queries.provider_order(current_user.provider_id, order_id)


def history(order):
    return [{"change": c, "label": MOVE_LABELS.get(c.action, c.action), "actor": actor}
            for c, actor in queries.history(order)]


# ---------------------------------------------------------------- pages

def errors_of(exc):
    """Form errors of a refused action: field errors, or a conflict (e.g. already accepted) for the whole form.
    Anything else (403, 404) is not a form error and goes to the error page."""
    if isinstance(exc, ValidationFailed):
        return exc.errors
    if exc.status == 409:
        return {exc.field or "_schema": [exc.message]}
    raise exc


def _render(template, status=200, **context):
    return render_template(template, status_labels=ORDER_STATUS_LABELS, badges=STATUS_BADGES,
                           weekday_labels=WEEKDAY_LABELS, suspension_notice=queries.suspension_notice,
                           **context), status


@bp.get("/provider/orders")
def index():
    args = load(schemas.ProviderOrderQueryIn(unknown=EXCLUDE), request.args.to_dict())
    day = clock.today()
    provider_id = current_user.provider_id
    page = paginate(queries.provider_orders_stmt(provider_id, args.get("status"), day), args["page"], args["per_page"])
    counts = queries.provider_status_counts(provider_id, day)
    return _render("provider_orders/index.html", page=page, args=args, today=day, counts=counts,
                   total=sum(counts.values()), tabs=TABS)


@bp.get("/provider/orders/export.<fmt>")
def export(fmt):
    """订单管理 (the chosen tab) as CSV or XLSX."""
    args = load(schemas.ProviderOrderQueryIn(unknown=EXCLUDE), request.args.to_dict())
    day = clock.today()
    found = db.session.scalars(queries.provider_orders_stmt(current_user.provider_id, args.get("status"), day)
                               .limit(exports.MAX_ROWS)).unique()
    return exports.response(found, fmt, day, "本机构")


def _detail(order, status=200, errors=None, form=None):
    day = clock.today()
    waiting = orders.waits_for_fee_notice(order)  # issue 15
    effective = order.status if waiting else order.effective_status(day)
    requested = order.status == OrderStatus.requested
    return _render("provider_orders/detail.html", status, order=order, today=day, effective=effective,
                   fee_notice_missing=waiting, fee_notice_message=orders.FEE_NOTICE_MISSING,
                   errors=errors or {}, form=form or {}, history=history(order),
                   notice=queries.suspension_notice(order, day, "provider"),
                   candidates=queries.candidates(order, day) if requested or effective in REPLACEABLE else [],
                   replaceable=effective in REPLACEABLE,
                   blocking=queries.blocking_reasons(order, day) if requested else [],
                   staff_clearance=queries.staff_clearance(order, day) if not requested else {},
                   confirmable=effective in CONFIRMABLE,
                   qualification_label=QUALIFICATION_LABELS[order.project.required_qualification])


@bp.get("/provider/orders/<int:order_id>")
def detail(order_id):
    return _detail(own_order(order_id))


@bp.post("/provider/orders/<int:order_id>/accept")
def accept(order_id):
    order = own_order(order_id)
    typed = form_data(multi=("person_ids",))
    try:
        data = load(schemas.AcceptIn(), {k: v for k, v in typed.items() if v not in ("", None, [])})
        result = orders.accept_order(order, actor=_actor(), person_ids=data["person_ids"])
    except DomainError as exc:
        db.session.rollback()
        return _detail(own_order(order_id), status=exc.status, errors={"accept": errors_of(exc)}, form=typed)
    flash(f"已接单（订单号 {order.id}），学校已收到通知", "success")
    for warning in result.warnings:
        flash(f"提醒：{warning}。请及时更新查询记录或证书，否则该人员届时不能继续授课。", "warning")
    return redirect(url_for("provider_orders.detail", order_id=order.id))


@bp.post("/provider/orders/<int:order_id>/replace-staff")
def replace_staff(order_id):
    """Replace a person on an accepted or active order (issue 14)."""
    order = own_order(order_id)
    typed = form_data()
    try:
        data = load(schemas.ReplaceStaffIn(), {k: v for k, v in typed.items() if v not in ("", None)})
        orders.replace_staff(order, actor=_actor(), **data)
    except DomainError as exc:
        db.session.rollback()
        return _detail(own_order(order_id), status=exc.status, errors={"replace": errors_of(exc)}, form=typed)
    flash("已更换授课人员，学校已收到通知，原人员的入校通行证已失效", "success")
    return redirect(url_for("provider_orders.detail", order_id=order.id))


@bp.post("/provider/orders/<int:order_id>/decline")
def decline(order_id):
    order = own_order(order_id)
    typed = form_data()
    try:
        data = load(schemas.DeclineIn(), {k: v for k, v in typed.items() if v not in ("", None)})
        if not confirmation.confirmed():
            return confirmation.page(confirmation.Confirmation(
                title="确认拒绝订单", subject=f"订单 #{order.id}：{order.school.name}“{order.project.title}”",
                button="确认拒绝", back_url=url_for("provider_orders.detail", order_id=order.id),
                details=[("拒绝原因", data["reason"])], consequences=[
                    "拒绝后不能再接这张订单；学校会收到消息，看到拒绝原因，可另选项目。"]))
        orders.decline_order(order, actor=_actor(), reason=data["reason"])
    except DomainError as exc:
        db.session.rollback()
        return _detail(own_order(order_id), status=exc.status, errors={"decline": errors_of(exc)}, form=typed)
    flash("已拒绝该订单，学校已收到拒绝原因", "success")
    return redirect(url_for("provider_orders.detail", order_id=order.id))

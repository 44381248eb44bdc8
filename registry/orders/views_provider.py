"""The provider's side of orders (provider_admin): incoming orders by status, an order's page, accepting
with staff cleared today for the project, and declining with a reason.

Only the provider's own orders: another provider's order answers 404, as if it did not exist. A refused
acceptance comes back on the page with every Chinese reason (which person, which check) and the boxes the
user ticked; a successful one shows the warnings about anyone whose clearance lapses before the term ends.
"""
from collections import defaultdict
from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from registry.batches.models import ReleaseBatch
from registry.orders import queries
from registry.auth.models import User
from registry.core import clock, lifecycle
from registry.core.errors import DomainError, NotFound, ValidationFailed
from registry.core.pagination import paginate
from registry.core.schema import form_data, load
from registry.extensions import db
from registry.orders import schemas_provider as schemas
from registry.orders import services as orders
from registry.orders.models import ORDER_STATUS_LABELS, WEEKDAY_LABELS, Order, OrderStaff, OrderStatus
from registry.people import services as people
from registry.people.models import QUALIFICATION_LABELS
from registry.policy import services as policy
from registry.projects.models import ProjectStaff
from registry.providers.models import Provider
from registry.schools.models import School, Term
from registry.whitelist import eligibility
from registry.whitelist.models import WhitelistEntry

bp = Blueprint("provider_orders", __name__)

STATUS_BADGES = {"requested": "badge badge-warn", "accepted": "badge badge-ok", "active": "badge badge-ok",
                 "completed": "badge", "declined": "badge badge-err", "suspended": "badge badge-err",
                 "cancelled": "badge"}
# Tabs in the order a provider works through them.
TABS = ("requested", "accepted", "active", "suspended", "completed", "declined", "cancelled")
MOVE_LABELS = {"accept": "接单", "decline": "拒绝", "activate": "开始服务", "suspend": "暂停", "resume": "恢复",
               "cancel": "取消", "complete": "完成"}
CONFIRMABLE = (OrderStatus.accepted, OrderStatus.active, OrderStatus.completed)


def _actor():
    return current_user._get_current_object()


# ---------------------------------------------------------------- queries

def _options():
    return (joinedload(Order.school).joinedload(School.county), joinedload(Order.project), joinedload(Order.term),
            joinedload(Order.provider).options(joinedload(Provider.city), joinedload(Provider.county)),
            joinedload(Order.entry).joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city),
            selectinload(Order.staff).joinedload(OrderStaff.person))


def orders_stmt(provider_id, status=None, day=None):
    """The provider's orders, newest first; `status` is the effective status (accepted + term begun = active)."""
    stmt = (select(Order).join(Term, Term.id == Order.term_id).where(Order.provider_id == provider_id)
            .options(*_options()).order_by(Order.id.desc()))
    return queries.where_effective_status(stmt, status, day)


def status_counts(provider_id, day=None):
    """{effective status: count} in one grouped query."""
    day = day or clock.today()
    counts = defaultdict(int)
    for status, starts_on, n in db.session.execute(
            select(Order.status, Term.starts_on, func.count()).join(Term, Term.id == Order.term_id)
            .where(Order.provider_id == provider_id).group_by(Order.status, Term.starts_on)):
        key = "active" if status == OrderStatus.accepted and starts_on <= day else status.value
        counts[key] += n
    return counts


def own_order(order_id):
    """The order if it belongs to the caller's provider; 404 otherwise (never reveal that it exists)."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).options(*_options()))
    if order is None or order.provider_id != current_user.provider_id:
        raise NotFound("订单不存在")
    return order


@dataclass
class Candidate:
    person: object
    on_project: bool
    today: people.Clearance
    term_end: people.Clearance


def candidates(order, day=None):
    """The provider's people with their clearance today for the project's qualification, and at the end of
    the term (what accept_order will warn about). Project staff first, then the cleared."""
    day = day or clock.today()
    persons = people.list_people(order.provider_id)
    bans = people.bans_by_index(p.id_bidx for p in persons)
    on_project = set(db.session.scalars(select(ProjectStaff.person_id).where(
        ProjectStaff.project_id == order.project_id)))
    rules = policy.for_city(order.provider.city)
    qualification = order.project.required_qualification
    end = max(order.term.ends_on, day)
    result = []
    for person in persons:
        mine = bans[person.id_bidx]
        result.append(Candidate(
            person, person.id in on_project,
            people.clearance(person, day, qualification, bans=[b for b in mine if b.is_active_on(day)], rules=rules),
            people.clearance(person, end, qualification, bans=[b for b in mine if b.is_active_on(end)], rules=rules)))
    result.sort(key=lambda c: (not c.on_project, not c.today.cleared, c.person.id))
    return result


def blocking_reasons(order, day=None):
    """Why the order's entry cannot be accepted today (region and stage were checked when it was ordered)."""
    result = eligibility.evaluate_one(order.entry, day or clock.today(), order.school)
    return [] if result.ok else [r for r in result.reasons if "学段" not in r and "服务区域" not in r]


def history(order):
    changes = lifecycle.history("order", order.id)
    actor_ids = {c.actor_id for c in changes if c.actor_id}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids))).all()) \
        if actor_ids else {}
    return [{"change": c, "label": MOVE_LABELS.get(c.action, c.action), "actor": names.get(c.actor_id)}
            for c in changes]


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
                           weekday_labels=WEEKDAY_LABELS, **context), status


@bp.get("/provider/orders")
def index():
    args = load(schemas.ProviderOrderQueryIn(unknown=EXCLUDE), request.args.to_dict())
    day = clock.today()
    provider_id = current_user.provider_id
    page = paginate(orders_stmt(provider_id, args.get("status"), day), args["page"], args["per_page"])
    counts = status_counts(provider_id, day)
    return _render("provider_orders/index.html", page=page, args=args, today=day, counts=counts,
                   total=sum(counts.values()), tabs=TABS)


def _detail(order, status=200, errors=None, form=None):
    day = clock.today()
    effective = order.effective_status(day)
    requested = order.status == OrderStatus.requested
    return _render("provider_orders/detail.html", status, order=order, today=day, effective=effective,
                   errors=errors or {}, form=form or {}, history=history(order),
                   candidates=candidates(order, day) if requested else [],
                   blocking=blocking_reasons(order, day) if requested else [],
                   staff_clearance=_staff_clearance(order, day) if not requested else {},
                   confirmable=effective in CONFIRMABLE,
                   qualification_label=QUALIFICATION_LABELS[order.project.required_qualification])


def _staff_clearance(order, day):
    """Today's clearance of each assigned person still on the order (the provider must replace the uncleared)."""
    rules = policy.for_city(order.provider.city)
    return {s.person_id: people.clearance(s.person, day, order.project.required_qualification, rules=rules)
            for s in order.staff if s.removed_at is None}


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


@bp.post("/provider/orders/<int:order_id>/decline")
def decline(order_id):
    order = own_order(order_id)
    typed = form_data()
    try:
        data = load(schemas.DeclineIn(), {k: v for k, v in typed.items() if v not in ("", None)})
        orders.decline_order(order, actor=_actor(), reason=data["reason"])
    except DomainError as exc:
        db.session.rollback()
        return _detail(own_order(order_id), status=exc.status, errors={"decline": errors_of(exc)}, form=typed)
    flash("已拒绝该点单，学校已收到拒绝原因", "success")
    return redirect(url_for("provider_orders.detail", order_id=order.id))

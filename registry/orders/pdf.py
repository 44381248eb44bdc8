"""The service confirmation (服务确认单) of an order, as a PDF for both parties.

Only the ordering school's admins and the provider's accounts may get it; anyone else gets 404, as
if the order did not exist. It exists once the provider has accepted (accepted, active, completed):
before that nothing has been agreed, and a suspended or cancelled order is not in force. Staff are
listed with masked ID numbers only.
"""
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from registry.auth.roles import Role
from registry.batches.models import ReleaseBatch
from registry.core import clock, pdf
from registry.core.errors import Conflict, NotFound
from registry.extensions import db
from registry.orders.models import ORDER_STATUS_LABELS, WEEKDAY_LABELS, Order, OrderStaff, OrderStatus
from registry.orders.schemas import GRADE_LABELS
from registry.providers.models import Provider
from registry.schools.models import School
from registry.whitelist.models import WhitelistEntry

CONFIRMABLE = (OrderStatus.accepted, OrderStatus.active, OrderStatus.completed)


def _load(order_id):
    return db.session.scalar(
        select(Order).where(Order.id == order_id).options(
            joinedload(Order.school).joinedload(School.county),
            joinedload(Order.provider).joinedload(Provider.county),
            joinedload(Order.project), joinedload(Order.term),
            joinedload(Order.entry).joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city),
            selectinload(Order.staff).joinedload(OrderStaff.person)))


def can_see(user, order):
    if user.role == Role.school_admin:
        return order.school_id == user.school_id
    if user.role == Role.provider_admin:
        return order.provider_id == user.provider_id
    return False


def order_for_confirmation(user, order_id, day=None):
    """The order if `user` is one of its parties and it has been accepted; NotFound / Conflict otherwise."""
    order = _load(order_id)
    if order is None or not can_see(user, order):
        raise NotFound("订单不存在")
    status = order.effective_status(day or clock.today())
    if status not in CONFIRMABLE:
        raise Conflict(f"订单当前状态为“{ORDER_STATUS_LABELS[status.value]}”，机构接单后才有服务确认单",
                       code="not_confirmed")
    return order


def confirmation_number(order):
    return f"FW-{order.school.code}-{order.id:06d}"


def render_confirmation(order, day=None):
    day = day or clock.today()
    staff = [s for s in order.staff if s.removed_at is None]
    return pdf.render_pdf(
        "service_confirmation.html", order=order, staff=staff, number=confirmation_number(order),
        weekdays="、".join(WEEKDAY_LABELS[d] for d in order.weekdays),
        grades="、".join(GRADE_LABELS[g] for g in order.grades), status_label=ORDER_STATUS_LABELS[
            order.effective_status(day).value], issued_on=day)


def filename(order):
    return f"服务确认单-{order.school.name}-{order.project.title}-{order.id}.pdf"

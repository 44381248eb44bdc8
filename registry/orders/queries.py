"""Reads shared by the school's and the provider's order pages."""
from sqlalchemy import and_, or_

from registry.core import clock
from registry.orders.models import Order, OrderStatus
from registry.schools.models import Term


def where_effective_status(stmt, status, day=None):
    """Filter a select of Order joined with Term on the effective status (accepted + term begun = active)."""
    day = day or clock.today()
    if status == "active":
        return stmt.where(or_(Order.status == OrderStatus.active,
                              and_(Order.status == OrderStatus.accepted, Term.starts_on <= day)))
    if status == "accepted":
        return stmt.where(Order.status == OrderStatus.accepted, Term.starts_on > day)
    if status:
        return stmt.where(Order.status == OrderStatus(status))
    return stmt

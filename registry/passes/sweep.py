"""The passes' step of the nightly sweep (issue 14): record what the live rules already say, idempotently.

- every current person on an accepted or active order has a pass (orders accepted before passes existed);
- a pass whose person left the order is marked revoked (the gate already refuses it live);
- a pass photo is deleted `pass_photo_retention_months` after the person's last pass expired."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.core import clock
from registry.extensions import db
from registry.orders.models import Order, OrderStatus
from registry.passes import services


def run(day=None, actor=None):
    day = day or clock.today()
    orders = db.session.scalars(select(Order).where(Order.status.in_([OrderStatus.accepted, OrderStatus.active]))
                                .options(selectinload(Order.staff))).all()
    issued = sum(len(services.order_staff_changed(order, actor=actor)) for order in orders)
    revoked = services.revoke_removed()
    photos = services.delete_photos(services.photos_past_retention(day), actor=actor)
    return {"passes_issued": issued, "passes_revoked": revoked, "photos_deleted": photos}

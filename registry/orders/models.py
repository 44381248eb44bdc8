from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.people.models import Person
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.schools.models import School, Term
from registry.whitelist.models import WhitelistEntry


class OrderStatus(LabelledEnum):
    requested = "requested", "待机构确认"
    accepted = "accepted", "已接单"
    active = "active", "服务中"
    completed = "completed", "已完成"
    declined = "declined", "机构已拒绝"
    suspended = "suspended", "已暂停"
    cancelled = "cancelled", "已取消"


ORDER_STATUS_LABELS = OrderStatus.value_labels()
WEEKDAY_LABELS = ["周一", "周二", "周三", "周四", "周五"]


class Order(TimestampMixin, db.Model):
    """A school's order (点单) of a whitelisted project. The price is copied from the entry and can never be higher."""

    __tablename__ = "service_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True, nullable=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("whitelist_entry.id"), index=True, nullable=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), nullable=False)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True, nullable=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("release_batch.id"), nullable=False)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), nullable=False)
    status: Mapped[OrderStatus] = mapped_column(Enum(OrderStatus, native_enum=False, length=16), nullable=False,
                                                default=OrderStatus.requested)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    grades: Mapped[list] = mapped_column(JSON, nullable=False)
    classes: Mapped[str] = mapped_column(String(255), nullable=False)
    weekdays: Mapped[list] = mapped_column(JSON, nullable=False)
    time_slot: Mapped[str] = mapped_column(String(32), nullable=False)
    sessions: Mapped[int] = mapped_column(Integer, nullable=False)
    expected_students: Mapped[int] = mapped_column(Integer, nullable=False)
    venue: Mapped[str] = mapped_column(String(128), nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    class_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    status_reason: Mapped[str | None] = mapped_column(Text)
    staff_flagged_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    school: Mapped[School] = relationship()
    entry: Mapped[WhitelistEntry] = relationship()
    project: Mapped[Project] = relationship()
    provider: Mapped[Provider] = relationship()
    term: Mapped[Term] = relationship()
    staff: Mapped[list["OrderStaff"]] = relationship(back_populates="order", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("price >= 0 AND total >= 0", name="money_not_negative"),
        CheckConstraint("sessions > 0 AND expected_students > 0", name="positive_counts"),
        Index("ix_service_order_status", "status"),
        Index("ix_service_order_school_term", "school_id", "term_id"),
    )

    @property
    def status_label(self):
        return self.status.label

    def effective_status(self, day):
        """Accepted orders become active when their term has begun (computed, not swept)."""
        if self.status == OrderStatus.accepted and self.term.starts_on <= day:
            return OrderStatus.active
        return self.status

    def __repr__(self):
        return f"<Order {self.id} {self.status.value}>"


class OrderStaff(db.Model):
    __tablename__ = "order_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id", ondelete="CASCADE"), nullable=False)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True, nullable=False)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_reason: Mapped[str | None] = mapped_column(String(255))

    order: Mapped[Order] = relationship(back_populates="staff")
    person: Mapped[Person] = relationship()

    __table_args__ = (UniqueConstraint("order_id", "person_id"),)

    def __repr__(self):
        return f"<OrderStaff order={self.order_id} person={self.person_id}>"

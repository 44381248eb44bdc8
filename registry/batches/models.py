"""Release batches (批次), their items, and objections (异议) filed during publicity (公示)."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.applications.models import Application
from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.regions.models import Region


class BatchStatus(LabelledEnum):
    draft = "draft", "待公示"
    publicity = "publicity", "公示中"
    published = "published", "已发布"


BATCH_STATUS_LABELS = BatchStatus.value_labels()


class ReleaseBatch(TimestampMixin, db.Model):
    """A release batch (批次), e.g. 南昌市 2026年第1批： publicity (公示), then publication."""

    __tablename__ = "release_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[BatchStatus] = mapped_column(Enum(BatchStatus, native_enum=False, length=16), nullable=False,
                                                default=BatchStatus.draft)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    issuer: Mapped[str] = mapped_column(String(64), nullable=False)
    publicity_start: Mapped[date | None] = mapped_column(Date)
    publicity_end: Mapped[date | None] = mapped_column(Date)
    calendar_warning: Mapped[str | None] = mapped_column(String(255))
    published_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    city: Mapped[Region] = relationship()
    items: Mapped[list["BatchItem"]] = relationship(back_populates="batch", order_by="BatchItem.id")

    __table_args__ = (
        UniqueConstraint("city_id", "year", "seq"),
        CheckConstraint("status = 'draft' OR (publicity_start IS NOT NULL AND publicity_end IS NOT NULL)",
                        name="publicity_has_dates"),
        CheckConstraint("(status = 'published') = (published_on IS NOT NULL)", name="published_has_date"),
    )

    @property
    def name(self):
        return f"{self.year}年第{self.seq}批"

    @property
    def status_label(self):
        return self.status.label

    def __repr__(self):
        return f"<ReleaseBatch {self.id} {self.year}-{self.seq} {self.status.value}>"


class BatchItem(TimestampMixin, db.Model):
    """An application included in a batch. An upheld objection removes it (`removed_at`)."""

    __tablename__ = "batch_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("release_batch.id"), nullable=False)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True, nullable=False)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_reason: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[ReleaseBatch] = relationship(back_populates="items")
    application: Mapped[Application] = relationship()

    __table_args__ = (UniqueConstraint("batch_id", "application_id"),)

    def __repr__(self):
        return f"<BatchItem batch={self.batch_id} app={self.application_id}>"


class ObjectionStatus(LabelledEnum):
    open = "open", "待处理"
    upheld = "upheld", "异议成立"
    dismissed = "dismissed", "异议不成立"


OBJECTION_STATUS_LABELS = ObjectionStatus.value_labels()


class Objection(TimestampMixin, db.Model):
    """An objection (异议) filed during publicity, under a real name with contact details."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("release_batch.id"), index=True, nullable=False)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), nullable=False)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    contact: Mapped[str] = mapped_column(String(128), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[ObjectionStatus] = mapped_column(Enum(ObjectionStatus, native_enum=False, length=16),
                                                    nullable=False, default=ObjectionStatus.open)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    batch: Mapped[ReleaseBatch] = relationship()
    application: Mapped[Application] = relationship()

    @property
    def status_label(self):
        return self.status.label

    def __repr__(self):
        return f"<Objection {self.id} {self.status.value}>"

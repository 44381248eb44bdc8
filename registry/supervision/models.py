"""Supervision tables: inspectors' schools (挂牌督导), monthly visits with their checklist and photos,
rectification tasks (整改) with their evidence, and the months the sweep found a school unvisited."""
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.auth.models import User
from registry.core import clock
from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.files.models import StoredFile
from registry.providers.models import Provider
from registry.schools.models import School

ASSIGNMENT_CURRENT = text("ended_on IS NULL")


class Assignment(TimestampMixin, db.Model):
    """A school assigned to its responsible inspector (挂牌督导) from `started_on`, until `ended_on`
    (the last day; NULL while current). At most one current inspector per school."""

    __tablename__ = "supervision_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True, nullable=False)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date | None] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    inspector: Mapped[User] = relationship(foreign_keys=[inspector_id])
    school: Mapped[School] = relationship()

    __table_args__ = (
        Index("uq_supervision_assignment_current", "school_id", unique=True,
              postgresql_where=ASSIGNMENT_CURRENT, sqlite_where=ASSIGNMENT_CURRENT),
        Index("ix_supervision_assignment_county", "county_id", "started_on"),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="assignment_range"),
    )

    def current_on(self, day):
        return self.started_on <= day and (self.ended_on is None or self.ended_on >= day)

    def __repr__(self):
        return f"<Assignment school={self.school_id} inspector={self.inspector_id}>"


class CheckItem(LabelledEnum):
    """The visit's checklist, drawn from the notice (section 四(三))."""
    schedule_published = "schedule_published", "课表已公示并备案"
    activities_match = "activities_match", "当日活动与课表一致"
    one_plus_n = "one_plus_n", "落实“1+N”"
    passes_valid = "passes_valid", "校外人员持有效入校凭证（附当日入校记录）"
    fees_disclosed = "fees_disclosed", "收费已公示"
    voluntary = "voluntary", "学生自愿参加"
    no_new_lessons = "no_new_lessons", "未讲授新课、未组织补课"
    safety = "safety", "安全措施落实"


CHECK_ITEM_LABELS = CheckItem.value_labels()


class ItemResult(LabelledEnum):
    conforms = "conforms", "符合"
    fails = "fails", "不符合"
    not_applicable = "not_applicable", "不适用"


ITEM_RESULT_LABELS = ItemResult.value_labels()


class Visit(TimestampMixin, db.Model):
    """A responsible inspector's visit to an assigned school. `visited_on` is the Beijing-time day of
    `visited_at` (UTC), kept for the month counts."""

    __tablename__ = "supervision_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True, nullable=False)
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    visited_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    visited_on: Mapped[date] = mapped_column(Date, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")

    school: Mapped[School] = relationship()
    inspector: Mapped[User] = relationship()
    items: Mapped[list["VisitItem"]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                    order_by="VisitItem.position")
    photos: Mapped[list["VisitPhoto"]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                      order_by="VisitPhoto.id")

    __table_args__ = (
        Index("ix_supervision_visit_school_day", "school_id", "visited_on"),
        Index("ix_supervision_visit_county_day", "county_id", "visited_on"),
        Index("ix_supervision_visit_city_day", "city_id", "visited_on"),
    )

    def item(self, key):
        return next((i for i in self.items if i.item.value == key), None)

    def __repr__(self):
        return f"<Visit {self.id} school={self.school_id} {self.visited_on}>"


class VisitItem(db.Model):
    __tablename__ = "supervision_visit_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("supervision_visit.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    item: Mapped[CheckItem] = mapped_column(Enum(CheckItem, native_enum=False, length=32), nullable=False)
    result: Mapped[ItemResult] = mapped_column(Enum(ItemResult, native_enum=False, length=16), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))  # referred to complaints

    visit: Mapped[Visit] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("visit_id", "item"),)

    @property
    def label(self):
        return self.item.label

    @property
    def result_label(self):
        return self.result.label


class VisitPhoto(db.Model):
    """A photo taken on a visit (stored with the usual upload checks; downloaded only by the region's staff)."""

    __tablename__ = "supervision_visit_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("supervision_visit.id", ondelete="CASCADE"), index=True,
                                          nullable=False)
    item: Mapped[CheckItem | None] = mapped_column(Enum(CheckItem, native_enum=False, length=32))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), unique=True, nullable=False)

    visit: Mapped[Visit] = relationship(back_populates="photos")
    file: Mapped[StoredFile] = relationship()


class TaskTarget(LabelledEnum):
    school = "school", "学校"
    provider = "provider", "机构"


TASK_TARGET_LABELS = TaskTarget.value_labels()


class TaskStatus(LabelledEnum):
    open = "open", "待整改"
    responded = "responded", "已反馈待复核"
    closed = "closed", "已销号"
    reopened = "reopened", "复核未通过"


TASK_STATUS_LABELS = TaskStatus.value_labels()
# Statuses in which the school or provider owes a response; past the deadline they are overdue (computed).
AWAITING_RESPONSE = (TaskStatus.open, TaskStatus.reopened)


class Task(TimestampMixin, db.Model):
    """A rectification task (整改) raised from a 不符合 item of a visit, for the school or a provider."""

    __tablename__ = "supervision_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("supervision_visit.id"), index=True, nullable=False)
    item: Mapped[CheckItem] = mapped_column(Enum(CheckItem, native_enum=False, length=32), nullable=False)
    target: Mapped[TaskTarget] = mapped_column(Enum(TaskTarget, native_enum=False, length=16), nullable=False)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True, nullable=False)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    requirement: Mapped[str] = mapped_column(Text, nullable=False)
    deadline: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[TaskStatus] = mapped_column(Enum(TaskStatus, native_enum=False, length=16), nullable=False,
                                               default=TaskStatus.open)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), nullable=False)

    visit: Mapped[Visit] = relationship()
    school: Mapped[School] = relationship()
    provider: Mapped[Provider | None] = relationship()
    evidence: Mapped[list["TaskEvidence"]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                          order_by="TaskEvidence.id")

    __table_args__ = (
        CheckConstraint("(target = 'provider') = (provider_id IS NOT NULL)", name="provider_target"),
        CheckConstraint("status <> 'closed' OR response IS NOT NULL", name="closed_has_response"),
        Index("ix_supervision_task_county_status", "county_id", "status"),
        Index("ix_supervision_task_city_status", "city_id", "status"),
    )

    def is_overdue(self, day=None):
        """Computed from the deadline and the day: a task still owing a response after its deadline."""
        day = day or clock.today()
        return self.status in AWAITING_RESPONSE and self.deadline < day

    @property
    def status_label(self):
        return self.status.label

    @property
    def item_label(self):
        return self.item.label

    @property
    def target_label(self):
        return self.target.label

    def __repr__(self):
        return f"<Task {self.id} {self.status.value}>"


class TaskEvidence(db.Model):
    __tablename__ = "supervision_task_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("supervision_task.id", ondelete="CASCADE"), index=True,
                                         nullable=False)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), unique=True, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)

    task: Mapped[Task] = relationship(back_populates="evidence")
    file: Mapped[StoredFile] = relationship()


class MissedVisit(TimestampMixin, db.Model):
    """Recorded by the sweep: an assigned school had fewer visits than required in a teaching month.
    What it records is computed at request time too (queries.unvisited_schools)."""

    __tablename__ = "supervision_missed_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False)  # the month's first day

    school: Mapped[School] = relationship()

    __table_args__ = (UniqueConstraint("school_id", "month"),)

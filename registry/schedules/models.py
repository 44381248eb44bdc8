"""After-school schedules (课后服务安排表, issue 15): a school's term schedule by grade group, its filing (备案)
with the county, the school's own non-teaching days and its fee notice (收费公示).

A schedule is one revision of the school's timetable for a term. Once accepted it is never edited: a change
is a new revision (draft) that needs filing again; the accepted one stays public until the new one is
accepted, then it is superseded. Times are minutes after midnight.
"""
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
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
from registry.orders.models import Order
from registry.people.models import Person
from registry.projects.models import Category
from registry.schedules.validation import group_label, hhmm
from registry.schools.models import School, SchoolProject, Term


class ScheduleStatus(LabelledEnum):
    draft = "draft", "草稿"
    submitted = "submitted", "已报备待审核"
    accepted = "accepted", "已备案"
    returned = "returned", "已退回修改"
    superseded = "superseded", "已被新版本替代"


SCHEDULE_STATUS_LABELS = ScheduleStatus.value_labels()
FILED = (ScheduleStatus.submitted, ScheduleStatus.accepted, ScheduleStatus.returned, ScheduleStatus.superseded)


class RowKind(LabelledEnum):
    one = "one", "1（作业辅导）"
    n = "n", "N（拓展活动）"


class RowSource(LabelledEnum):
    own = "own", "本校项目"
    order = "order", "第三方点单项目"
    person = "person", "校聘人员活动"


class NonTeachingDay(db.Model):
    """A day of the term the school does not teach (运动会、期中考试…), on top of the public holidays."""

    __tablename__ = "school_non_teaching_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    __table_args__ = (UniqueConstraint("school_id", "day"),)


class Schedule(TimestampMixin, db.Model):
    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[ScheduleStatus] = mapped_column(Enum(ScheduleStatus, native_enum=False, length=16),
                                                   nullable=False, default=ScheduleStatus.draft)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    school: Mapped[School] = relationship()
    term: Mapped[Term] = relationship()
    rows: Mapped[list["ScheduleRow"]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan",
        order_by="(ScheduleRow.grade_from, ScheduleRow.class_name, ScheduleRow.weekday, ScheduleRow.starts_at, "
                 "ScheduleRow.id)")

    __table_args__ = (
        UniqueConstraint("school_id", "term_id", "revision"),
        Index("ix_schedule_term_status", "term_id", "status"),
    )

    @property
    def status_label(self):
        return ScheduleStatus(self.status).label

    @property
    def editable(self):
        return self.status in (ScheduleStatus.draft, ScheduleStatus.returned)

    def __repr__(self):
        return f"<Schedule school={self.school_id} term={self.term_id} r{self.revision} {self.status.value}>"


class ScheduleRow(db.Model):
    """One session of a grade group (optionally one class) on a weekday."""

    __tablename__ = "schedule_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedule.id", ondelete="CASCADE"), index=True,
                                             nullable=False)
    grade_from: Mapped[int] = mapped_column(Integer, nullable=False)
    grade_to: Mapped[int] = mapped_column(Integer, nullable=False)
    class_name: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_at: Mapped[int] = mapped_column(Integer, nullable=False)
    ends_at: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[RowKind] = mapped_column(Enum(RowKind, native_enum=False, length=8), nullable=False)
    category: Mapped[Category | None] = mapped_column(Enum(Category, native_enum=False, length=32))
    source: Mapped[RowSource] = mapped_column(Enum(RowSource, native_enum=False, length=8), nullable=False)
    content: Mapped[str] = mapped_column(String(128), nullable=False)
    school_project_id: Mapped[int | None] = mapped_column(ForeignKey("school_project.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("service_order.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    teacher_name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    venue: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    class_size: Mapped[int] = mapped_column(Integer, nullable=False)

    schedule: Mapped[Schedule] = relationship(back_populates="rows")
    school_project: Mapped[SchoolProject | None] = relationship()
    order: Mapped[Order | None] = relationship()
    person: Mapped[Person | None] = relationship()

    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 4", name="schedule_weekday"),
        CheckConstraint("ends_at > starts_at", name="schedule_row_range"),
        CheckConstraint("grade_from >= 1 AND grade_to <= 9 AND grade_from <= grade_to", name="schedule_grades"),
        CheckConstraint("class_size > 0", name="schedule_class_size"),
    )

    @property
    def group(self):
        return group_label(self.grade_from, self.grade_to, self.class_name)

    @property
    def time_label(self):
        return f"{hhmm(self.starts_at)}–{hhmm(self.ends_at)}"


class FeeStatus(LabelledEnum):
    draft = "draft", "未公示"
    published = "published", "已公示"


FEE_STATUS_LABELS = FeeStatus.value_labels()


class FeeNotice(TimestampMixin, db.Model):
    """收费公示: what the school charges for after-school service in a term, published before any charge."""

    __tablename__ = "fee_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), nullable=False)
    status: Mapped[FeeStatus] = mapped_column(Enum(FeeStatus, native_enum=False, length=16), nullable=False,
                                              default=FeeStatus.draft)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    fee_standard: Mapped[str] = mapped_column(String(255), nullable=False)
    amount: Mapped[float | None] = mapped_column(Numeric(8, 2))
    service_time: Mapped[str] = mapped_column(String(255), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    class_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    subsidy: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    published_on: Mapped[date | None] = mapped_column(Date)

    school: Mapped[School] = relationship()
    term: Mapped[Term] = relationship()

    __table_args__ = (UniqueConstraint("school_id", "term_id"),
                      CheckConstraint("class_minutes > 0", name="fee_class_minutes"))

    @property
    def status_label(self):
        return FeeStatus(self.status).label

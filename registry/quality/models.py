"""Quality (质量评估, issue 16): the school's evaluation of an order in its term, the parents' survey (single-use
codes, one answer each, no names) and each project's standing per term, computed at the term's end."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
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

from registry.core import clock
from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.orders.models import Order
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.schools.models import Term


class Satisfaction(LabelledEnum):
    satisfied = "satisfied", "满意"
    basic = "basic", "基本满意"
    dissatisfied = "dissatisfied", "不满意"


class Grade(LabelledEnum):
    """How the school rates one aspect of the service."""
    good = "good", "好"
    fair = "fair", "一般"
    poor = "poor", "差"


class Interest(LabelledEnum):
    high = "high", "很感兴趣"
    some = "some", "一般"
    none = "none", "不感兴趣"


class SafetyFeeling(LabelledEnum):
    safe = "safe", "放心"
    concerned = "concerned", "有些担心"
    unsafe = "unsafe", "不放心"


SATISFIED = (Satisfaction.satisfied, Satisfaction.basic)


class SchoolEvaluation(TimestampMixin, db.Model):
    """The school's evaluation of one order in its term (one per order), open in the term's last four weeks."""

    __tablename__ = "school_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), unique=True, nullable=False)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), nullable=False)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True, nullable=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), nullable=False)
    content: Mapped[Grade] = mapped_column(Enum(Grade, native_enum=False, length=16), nullable=False)
    punctuality: Mapped[Grade] = mapped_column(Enum(Grade, native_enum=False, length=16), nullable=False)
    safety: Mapped[Grade] = mapped_column(Enum(Grade, native_enum=False, length=16), nullable=False)
    engagement: Mapped[Grade] = mapped_column(Enum(Grade, native_enum=False, length=16), nullable=False)
    overall: Mapped[Satisfaction] = mapped_column(Enum(Satisfaction, native_enum=False, length=16), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    no_show_count: Mapped[int | None] = mapped_column(Integer)   # 未到岗 from gate scans, where there are any
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow,
                                                 onupdate=clock.utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    order: Mapped[Order] = relationship()
    project: Mapped[Project] = relationship()

    __table_args__ = (Index("ix_school_evaluation_term_project", "term_id", "project_id"),)

    def __repr__(self):
        return f"<SchoolEvaluation order={self.order_id} {self.overall.value}>"


class SurveyCode(db.Model):
    """A single-use parent survey code of an order. Only the SHA-256 of the code is stored; the code itself
    exists once, on the sheet the school printed. It expires at the end of the order's term."""

    __tablename__ = "survey_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), index=True, nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)   # a reprinted sheet voids the unused codes

    order: Mapped[Order] = relationship()

    def __repr__(self):
        return f"<SurveyCode order={self.order_id} used={self.used_at is not None}>"


class SurveyResponse(db.Model):
    """One parent's answer, through one code (the unique code_id makes it one answer per code). No names,
    no address, no device: only the answers and the order they are about."""

    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("survey_code.id"), unique=True, nullable=False)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), index=True, nullable=False)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), nullable=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), nullable=False)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), nullable=False)
    satisfaction: Mapped[Satisfaction] = mapped_column(Enum(Satisfaction, native_enum=False, length=16),
                                                       nullable=False)
    interest: Mapped[Interest] = mapped_column(Enum(Interest, native_enum=False, length=16), nullable=False)
    safety: Mapped[SafetyFeeling] = mapped_column(Enum(SafetyFeeling, native_enum=False, length=16), nullable=False)
    extra_fee: Mapped[bool] = mapped_column(Boolean, nullable=False)
    voluntary: Mapped[bool] = mapped_column(Boolean, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)

    __table_args__ = (Index("ix_survey_response_term_project", "term_id", "project_id"),)

    def __repr__(self):
        return f"<SurveyResponse order={self.order_id} {self.satisfaction.value}>"


class SurveyAlert(TimestampMixin, db.Model):
    """An order whose parents answered "extra fee asked" or "not voluntary": counted, and the first such
    answer opened a case for the county (complaints). One row per order and kind."""

    __tablename__ = "survey_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_order.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)      # extra_fee | not_voluntary
    case_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))   # the case opened for the county

    __table_args__ = (UniqueConstraint("order_id", "kind"),
                      CheckConstraint("kind IN ('extra_fee', 'not_voluntary')", name="kind"))


class StandingLevel(LabelledEnum):
    ok = "ok", "达标"
    few = "few", "样本不足"
    below = "below", "低于满意度标准"


class ProjectStanding(db.Model):
    """A project's standing in a term, recorded by the term-end sweep: parents' and schools' satisfaction kept
    apart and combined by the city's weight, the 未到岗 rate where gate scans exist, and what followed."""

    __tablename__ = "project_standing"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), nullable=False)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True, nullable=False)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    parent_responses: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    parent_satisfied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    school_responses: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    school_satisfied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    parent_weight: Mapped[Decimal] = mapped_column(Numeric(4, 3), nullable=False)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))          # combined; None without responses
    no_show_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))  # None until gate scans exist
    extra_fee_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    not_voluntary_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    level: Mapped[StandingLevel] = mapped_column(Enum(StandingLevel, native_enum=False, length=16), nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(16))              # warning | delisting
    computed_on: Mapped[date] = mapped_column(Date, nullable=False)

    project: Mapped[Project] = relationship()
    provider: Mapped[Provider] = relationship()
    term: Mapped[Term] = relationship()

    __table_args__ = (UniqueConstraint("project_id", "term_id"),
                      Index("ix_project_standing_term_city", "term_id", "city_id"))

    @property
    def responses(self):
        return self.parent_responses + self.school_responses

    @property
    def parent_rate(self):
        return _ratio(self.parent_satisfied, self.parent_responses)

    @property
    def school_rate(self):
        return _ratio(self.school_satisfied, self.school_responses)

    @property
    def level_label(self):
        return self.level.label

    def __repr__(self):
        return f"<ProjectStanding project={self.project_id} term={self.term_id} {self.level.value}>"


def _ratio(part, whole):
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


class StandingRun(db.Model):
    """A term whose standings the sweep has recorded (once: a second run finds this row and does nothing)."""

    __tablename__ = "standing_run"

    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), primary_key=True, autoincrement=False)
    computed_on: Mapped[date] = mapped_column(Date, nullable=False)
    summary: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

"""Complaints about providers, projects, people or schools, and providers' appeals against decisions.

The complainant's name and phone are stored encrypted (core/crypto, like ID numbers) and are shown only to
the handling bureau; no provider or public page carries them."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.providers.models import Provider
from registry.regions.models import Region
from registry.schools.models import School


class ComplaintCategory(LabelledEnum):
    # The five prohibitions (五个严禁) first, then the other kinds.
    forced_participation = "forced_participation", "强制学生参加或不参加"
    new_lessons = "new_lessons", "讲授新课或集体补课"
    illegal_fees = "illegal_fees", "违规收费（乱收费、搭车收费、超标准或扩大范围收费）"
    teacher_subsidy = "teacher_subsidy", "违规发放教师补助"
    fund_diversion = "fund_diversion", "挪用课后服务经费"
    safety_incident = "safety_incident", "安全事故"
    staff_conduct = "staff_conduct", "人员言行"
    service_quality = "service_quality", "服务质量"
    selling = "selling", "推销或宣传"
    other = "other", "其他"


CATEGORY_LABELS = ComplaintCategory.value_labels()
FIVE_PROHIBITIONS = (ComplaintCategory.forced_participation, ComplaintCategory.new_lessons,
                     ComplaintCategory.illegal_fees, ComplaintCategory.teacher_subsidy,
                     ComplaintCategory.fund_diversion)


class ComplaintSource(LabelledEnum):
    public = "public", "家长或公众"
    school = "school", "学校"
    inspector = "inspector", "责任督学"
    survey = "survey", "家长问卷"
    visit = "visit", "督导检查"


SOURCE_LABELS = ComplaintSource.value_labels()


class SubjectKind(LabelledEnum):
    provider = "provider", "机构"
    project = "project", "服务项目"
    person = "person", "从业人员"
    school = "school", "学校"


SUBJECT_LABELS = SubjectKind.value_labels()


class ComplaintStatus(LabelledEnum):
    received = "received", "已受理"
    acknowledged = "acknowledged", "已确认，办理中"
    awaiting_response = "awaiting_response", "待被投诉方陈述"
    decided = "decided", "已办结"
    closed = "closed", "已回访关闭"


COMPLAINT_STATUS_LABELS = ComplaintStatus.value_labels()
OPEN_STATUSES = (ComplaintStatus.received, ComplaintStatus.acknowledged, ComplaintStatus.awaiting_response)


class Outcome(LabelledEnum):
    upheld = "upheld", "投诉成立"
    dismissed = "dismissed", "投诉不成立"


OUTCOME_LABELS = Outcome.value_labels()


class SanctionStatus(LabelledEnum):
    proposed = "proposed", "待市级确认"
    confirmed = "confirmed", "已确认并执行"
    rejected = "rejected", "未予确认"


SANCTION_STATUS_LABELS = SanctionStatus.value_labels()


class Complaint(TimestampMixin, db.Model):
    """A complaint (投诉) routed to the county of its school, or to the city when its subject is a provider
    with no school. Deadlines are working days (registry/calendar), set from the city's policy."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    source: Mapped[ComplaintSource] = mapped_column(Enum(ComplaintSource, native_enum=False, length=16),
                                                    nullable=False)
    category: Mapped[ComplaintCategory] = mapped_column(Enum(ComplaintCategory, native_enum=False, length=32),
                                                        nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    subject_kind: Mapped[SubjectKind] = mapped_column(Enum(SubjectKind, native_enum=False, length=16),
                                                      nullable=False)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("service_order.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    pass_code: Mapped[str | None] = mapped_column(String(64))  # the code of the entry pass that named the person
    # Routing: the handling region (a county, or the city) and the city whose policy sets the deadlines.
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    # Complainant: an account (school, inspector) or, for the public, an encrypted real name and phone.
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    complainant_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    complainant_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    evidence: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # stored_file ids
    status: Mapped[ComplaintStatus] = mapped_column(Enum(ComplaintStatus, native_enum=False, length=20),
                                                    nullable=False, default=ComplaintStatus.received)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    ack_due: Mapped[date] = mapped_column(Date, nullable=False)
    resolve_due: Mapped[date] = mapped_column(Date, nullable=False)
    calendar_warning: Mapped[str | None] = mapped_column(String(255))
    extension_reason: Mapped[str | None] = mapped_column(Text)  # one extension only
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # 陈述: the provider's or school's response, with its own deadline.
    response_request: Mapped[str | None] = mapped_column(Text)
    response_due: Mapped[date | None] = mapped_column(Date)
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Decision.
    outcome: Mapped[Outcome | None] = mapped_column(Enum(Outcome, native_enum=False, length=16))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The sanction an upheld complaint against a provider proposes; a city reviewer confirms it.
    sanction_kind: Mapped[str | None] = mapped_column(String(16))  # adjustments ActionKind value
    sanction_status: Mapped[SanctionStatus | None] = mapped_column(Enum(SanctionStatus, native_enum=False,
                                                                        length=16))
    sanction_action_id: Mapped[int | None] = mapped_column(ForeignKey("provider_action.id"))
    sanction_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # 回访.
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Sweep bookkeeping (idempotent): which reminders were sent, when it was escalated to the city.
    reminders: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    escalated_on: Mapped[date | None] = mapped_column(Date)

    region: Mapped[Region] = relationship(foreign_keys=[region_id])
    city: Mapped[Region] = relationship(foreign_keys=[city_id])
    provider: Mapped[Provider | None] = relationship()
    school: Mapped[School | None] = relationship()

    __table_args__ = (Index("ix_complaint_queue", "region_id", "status"),)

    @property
    def status_label(self):
        return self.status.label

    @property
    def category_label(self):
        return self.category.label

    @property
    def source_label(self):
        return self.source.label

    @property
    def subject_label(self):
        return self.subject_kind.label

    @property
    def outcome_label(self):
        return self.outcome.label if self.outcome else None

    @property
    def subject_name(self):
        """The subject in words: the provider's name, or the school's for a complaint against a school."""
        if self.subject_kind == SubjectKind.school:
            return self.school.name if self.school else ""
        return self.provider.name if self.provider else ""

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def due_on(self):
        """The next deadline that binds the handler: acknowledgement while received, then resolution."""
        if self.status == ComplaintStatus.received:
            return self.ack_due
        if self.status in OPEN_STATUSES:
            return self.resolve_due
        return None

    def overdue(self, day):
        due = self.due_on()
        return due is not None and day > due

    def __repr__(self):
        return f"<Complaint {self.tracking_code} {self.status.value}>"


class AppealSubject(LabelledEnum):
    rejection = "rejection", "申请不予通过"
    delisting = "delisting", "移出白名单"
    ban = "ban", "禁入"
    complaint = "complaint", "投诉成立"


APPEAL_SUBJECT_LABELS = AppealSubject.value_labels()


class AppealStatus(LabelledEnum):
    pending = "pending", "复核中"
    confirmed = "confirmed", "维持原决定"
    changed = "changed", "撤销或变更原决定"


APPEAL_STATUS_LABELS = AppealStatus.value_labels()


class Appeal(TimestampMixin, db.Model):
    """A provider's appeal (申诉/复核) against a rejection, a delisting, a ban or an upheld complaint. The
    decision stands while it is pending; a reviewer other than the original decider takes it."""

    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True, nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    subject: Mapped[AppealSubject] = mapped_column(Enum(AppealSubject, native_enum=False, length=16),
                                                   nullable=False)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("provider_action.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    original_decider_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_on_original: Mapped[date] = mapped_column(Date, nullable=False)
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # stored_file ids
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    filed_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[AppealStatus] = mapped_column(Enum(AppealStatus, native_enum=False, length=16), nullable=False,
                                                 default=AppealStatus.pending)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_on: Mapped[date | None] = mapped_column(Date)

    provider: Mapped[Provider] = relationship()

    @property
    def status_label(self):
        return self.status.label

    @property
    def subject_label(self):
        return self.subject.label

    def __repr__(self):
        return f"<Appeal {self.id} {self.subject.value} {self.status.value}>"

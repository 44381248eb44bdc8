from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.files.models import StoredFile
from registry.providers.models import Provider, VerificationStatus


class StaffRole(LabelledEnum):
    teacher = "teacher", "授课教师"
    assistant = "assistant", "助教"
    manager = "manager", "管理人员"


STAFF_ROLE_LABELS = StaffRole.labels()


class Gender(LabelledEnum):
    male = "male", "男"
    female = "female", "女"


GENDER_LABELS = Gender.labels()


class CheckType(LabelledEnum):
    criminal = "criminal", "违法犯罪记录查询"
    sexual_offence = "sexual_offence", "性侵违法犯罪信息查询"
    health = "health", "健康证明"
    moral = "moral", "品德考察"


CHECK_TYPE_LABELS = CheckType.labels()


class CheckResult(LabelledEnum):
    clear = "clear", "无异常"
    adverse = "adverse", "有不良记录"
    pending = "pending", "待出结果"


CHECK_RESULT_LABELS = CheckResult.labels()


class QualificationType(LabelledEnum):
    teacher = "teacher", "教师资格证"
    coach = "coach", "教练员/社会体育指导员证书"
    heritage = "heritage", "非遗传承人证书"
    skill = "skill", "职业技能等级证书"
    arts = "arts", "艺术类专业证书"
    psychology = "psychology", "心理咨询/心理健康教育证书"
    other = "other", "其他专业证书"


QUALIFICATION_LABELS = QualificationType.labels()


class EngagementKind(LabelledEnum):
    """How a person engaged by the school itself comes in (二(一)); issue 14."""
    retired_teacher = "retired_teacher", "退休教师"
    parent = "parent", "家长"
    volunteer = "volunteer", "志愿者"
    heritage = "heritage", "非遗传承人"
    coach = "coach", "教练"
    other = "other", "其他"


ENGAGEMENT_LABELS = EngagementKind.labels()


class Person(TimestampMixin, db.Model):
    """A person the provider brings into schools (从业人员), or one the school engages itself (issue 14: exactly one
    of provider_id and school_id; `engagement` says how a school's person comes in). The ID number is encrypted;
    `id_bidx` is a keyed blind index for exact matching (and registry-wide bans)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    engagement: Mapped[EngagementKind | None] = mapped_column(Enum(EngagementKind, native_enum=False, length=16))
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    id_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    id_key_id: Mapped[str] = mapped_column(String(32), nullable=False)
    id_bidx: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    id_masked: Mapped[str] = mapped_column(String(18), nullable=False)
    gender: Mapped[Gender] = mapped_column(Enum(Gender, native_enum=False, length=8), nullable=False)
    phone: Mapped[str] = mapped_column(String(32), nullable=False)
    staff_role: Mapped[StaffRole] = mapped_column(Enum(StaffRole, native_enum=False, length=16), nullable=False)
    specialties: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)

    provider: Mapped[Provider | None] = relationship()
    # The school's table is a higher domain's: named by string, never imported (docs/architecture.md "Domain order").
    school = relationship("School")
    checks: Mapped[list["PersonCheck"]] = relationship(
        back_populates="person", order_by="(PersonCheck.check_date.desc(), PersonCheck.id.desc())")
    qualifications: Mapped[list["Qualification"]] = relationship(back_populates="person", order_by="Qualification.id")
    consents: Mapped[list["Consent"]] = relationship(back_populates="person", order_by="Consent.consent_date.desc()")

    __table_args__ = (
        UniqueConstraint("provider_id", "id_bidx", name="one_person_per_provider"),
        UniqueConstraint("school_id", "id_bidx", name="one_person_per_school"),
        CheckConstraint("(provider_id IS NULL) <> (school_id IS NULL)", name="one_owner"),
    )

    @property
    def owner(self):
        """The provider or the school the person belongs to (both have county and city)."""
        return self.provider if self.provider_id is not None else self.school

    @property
    def engagement_label(self):
        return EngagementKind(self.engagement).label if self.engagement else ""

    @property
    def staff_role_label(self):
        return StaffRole(self.staff_role).label

    @property
    def gender_label(self):
        return Gender(self.gender).label

    def __repr__(self):
        return f"<Person {self.id} provider={self.provider_id} school={self.school_id}>"


class PersonCheck(TimestampMixin, db.Model):
    """One background or health check. The latest check of each type counts."""

    __tablename__ = "person_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), nullable=False)
    check_type: Mapped[CheckType] = mapped_column(Enum(CheckType, native_enum=False, length=16), nullable=False)
    result: Mapped[CheckResult] = mapped_column(Enum(CheckResult, native_enum=False, length=16), nullable=False)
    check_date: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(128), nullable=False)
    reference_no: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    verification_status: Mapped[VerificationStatus] = mapped_column(
        Enum(VerificationStatus, native_enum=False, length=16), nullable=False, default=VerificationStatus.pending)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    verification_note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    person: Mapped[Person] = relationship(back_populates="checks")
    file: Mapped[StoredFile | None] = relationship()

    __table_args__ = (
        Index("ix_person_check_person_type", "person_id", "check_type", "check_date"),
        CheckConstraint("valid_until IS NULL OR valid_until >= check_date", name="valid_after_check"),
    )

    @property
    def check_type_label(self):
        return CheckType(self.check_type).label

    @property
    def result_label(self):
        return CheckResult(self.result).label

    def __repr__(self):
        return f"<PersonCheck {self.id} {self.check_type.value} {self.result.value}>"


class Qualification(TimestampMixin, db.Model):
    """A qualification certificate (教师资格证 or a professional certificate)."""

    __tablename__ = "qualification"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True, nullable=False)
    qual_type: Mapped[QualificationType] = mapped_column(Enum(QualificationType, native_enum=False, length=16),
                                                         nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    issuer: Mapped[str] = mapped_column(String(128), nullable=False)
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))

    person: Mapped[Person] = relationship(back_populates="qualifications")
    file: Mapped[StoredFile | None] = relationship()

    @property
    def qual_type_label(self):
        return QualificationType(self.qual_type).label

    def is_valid_on(self, day):
        return self.issue_date <= day and (self.expiry_date is None or self.expiry_date >= day)

    def __repr__(self):
        return f"<Qualification {self.id} {self.qual_type.value}>"


class Consent(TimestampMixin, db.Model):
    """The person's signed consent to the checks and to processing their data (PIPL Art. 13, 29)."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True, nullable=False)
    consent_date: Mapped[date] = mapped_column(Date, nullable=False)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    person: Mapped[Person] = relationship(back_populates="consents")
    file: Mapped[StoredFile] = relationship()

    def __repr__(self):
        return f"<Consent {self.id} person={self.person_id}>"


class PersonBan(TimestampMixin, db.Model):
    """A registry-wide ban on a person, matched by the blind index whichever provider they move to.
    `ends_on` None means permanent (a sexual-offence hit)."""

    __tablename__ = "person_ban"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_bidx: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    reason: Mapped[str] = mapped_column(String(255), nullable=False)
    source_check_id: Mapped[int | None] = mapped_column(ForeignKey("person_check.id"))
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def is_active_on(self, day):
        return self.lifted_at is None and self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)

    def __repr__(self):
        return f"<PersonBan {self.id} until={self.ends_on}>"

"""Entry passes (入校通行证), their photos and the gate's scans (issue 14).

A pass is a record that a person may come to a school on some weekdays in a time window, between two dates;
whether it lets them in TODAY is never stored: services.judge computes it from the live rules (clearance,
ban, order and entry status, school, weekday, time window, revocation)."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.files.models import StoredFile
from registry.orders.models import Order
from registry.people.models import Person
from registry.schools.models import School


class PassKind(LabelledEnum):
    order = "order", "机构授课人员"
    school = "school", "学校自聘人员"


class ScanResult(LabelledEnum):
    allowed = "allowed", "允许进入"
    denied = "denied", "禁止进入"


class ScanDirection(LabelledEnum):
    entry = "entry", "进校"
    leave = "leave", "离校"


class EntryPass(TimestampMixin, db.Model):
    __tablename__ = "entry_pass"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PassKind] = mapped_column(Enum(PassKind, native_enum=False, length=8), nullable=False)
    code: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)  # short typed code
    link_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)  # the person's phone page
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True, nullable=False)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True, nullable=False)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("service_order.id"), index=True)
    weekdays: Mapped[list] = mapped_column(JSON, nullable=False)  # 0 = Monday
    time_slot: Mapped[str] = mapped_column(String(32), nullable=False)  # "HH:MM-HH:MM"
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(255))
    token: Mapped[str] = mapped_column(String(600), nullable=False, default="")  # signed QR token
    key_id: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    person: Mapped[Person] = relationship()
    school: Mapped[School] = relationship()
    order: Mapped[Order | None] = relationship()

    __table_args__ = (UniqueConstraint("order_id", "person_id", name="one_pass_per_order_person"),)

    @property
    def kind_label(self):
        return PassKind(self.kind).label

    def __repr__(self):
        return f"<EntryPass {self.id} {self.code}>"


class PassPhoto(TimestampMixin, db.Model):
    """The optional photo on a person's passes, uploaded with its own consent. Shown only to the school's gate
    staff and the provider; deleted by the sweep `pass_photo_retention_months` after the last pass expires."""

    __tablename__ = "pass_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True, nullable=False)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), nullable=False)
    consent_on: Mapped[date] = mapped_column(Date, nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    file: Mapped[StoredFile] = relationship()


class GateScan(db.Model):
    """One scan at a school gate: who, which pass, when, the answer and every reason (also offline ones)."""

    __tablename__ = "gate_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    pass_id: Mapped[int | None] = mapped_column(ForeignKey("entry_pass.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    scanned_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    scan_day: Mapped[date] = mapped_column(Date, nullable=False)  # China date of scanned_at
    result: Mapped[ScanResult] = mapped_column(Enum(ScanResult, native_enum=False, length=8), nullable=False)
    direction: Mapped[ScanDirection] = mapped_column(Enum(ScanDirection, native_enum=False, length=8),
                                                     nullable=False)
    reasons: Mapped[list] = mapped_column(JSON, nullable=False)
    offline: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    offline_result: Mapped[ScanResult | None] = mapped_column(Enum(ScanResult, native_enum=False, length=8))
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # an offline scan synced once
    received_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    entry_pass: Mapped[EntryPass | None] = relationship()

    __table_args__ = (
        Index("ix_gate_scan_pass_day", "pass_id", "scan_day"),
        Index("ix_gate_scan_school_day", "school_id", "scan_day"),
    )

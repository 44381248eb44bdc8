from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.projects.models import Project
from registry.providers.models import Provider


class ApplicationKind(LabelledEnum):
    admission = "admission", "准入"
    annual = "annual", "年审"
    change = "change", "变更"
    reinstatement = "reinstatement", "恢复"


KIND_LABELS = ApplicationKind.labels()


class ApplicationStatus(LabelledEnum):
    draft = "draft", "草稿"
    submitted = "submitted", "已提交"
    county_review = "county_review", "县级初审中"
    city_review = "city_review", "市级复审中"
    publicity = "publicity", "公示中"
    approved = "approved", "已通过"
    rejected = "rejected", "未通过"
    withdrawn = "withdrawn", "已撤回"


STATUS_LABELS = ApplicationStatus.value_labels()
# A returned application is a draft again (the lifecycle's "return" move), but its provider and reviewers read
# 已退回 until it is submitted again (Application.returned).
RETURNED_LABEL = "已退回"
OPEN_STATUSES = {ApplicationStatus.draft, ApplicationStatus.submitted, ApplicationStatus.county_review,
                 ApplicationStatus.city_review, ApplicationStatus.publicity}
# The partial unique index's predicate: at most one open application per provider (the Enum column holds the
# member names). The migration that created the index spells the same list.
OPEN_PREDICATE = text("status IN ({})".format(
    ", ".join(f"'{s.name}'" for s in ApplicationStatus if s in OPEN_STATUSES)))


class Application(TimestampMixin, db.Model):
    """An application (申报). What reviewers see is the frozen snapshot of each submission."""

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True, nullable=False)
    kind: Mapped[ApplicationKind] = mapped_column(Enum(ApplicationKind, native_enum=False, length=16), nullable=False)
    status: Mapped[ApplicationStatus] = mapped_column(
        Enum(ApplicationStatus, native_enum=False, length=16), nullable=False, default=ApplicationStatus.draft)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    provider: Mapped[Provider] = relationship()
    projects: Mapped[list["ApplicationProject"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationProject.project_id")
    snapshots: Mapped[list["ApplicationSnapshot"]] = relationship(
        back_populates="application", order_by="ApplicationSnapshot.number")

    __table_args__ = (
        Index("uq_application_one_open", "provider_id", unique=True,
              postgresql_where=OPEN_PREDICATE, sqlite_where=OPEN_PREDICATE),
        Index("ix_application_status", "status"),
    )

    @property
    def returned(self):
        """A draft that was submitted before: reviewers returned it for changes (issue 19: it reads 已退回)."""
        return self.status == ApplicationStatus.draft and self.submitted_at is not None

    @property
    def status_label(self):
        return RETURNED_LABEL if self.returned else self.status.label

    @property
    def kind_label(self):
        return ApplicationKind(self.kind).label

    @property
    def open_marker(self):
        """1 while the application is open, else None (what the former open_marker column held)."""
        return 1 if self.status in OPEN_STATUSES else None

    @property
    def latest_snapshot(self):
        return self.snapshots[-1] if self.snapshots else None

    def __repr__(self):
        return f"<Application {self.id} {self.kind.value} {self.status.value}>"


class ApplicationProject(db.Model):
    __tablename__ = "application_project"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), nullable=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True, nullable=False)

    application: Mapped[Application] = relationship(back_populates="projects")
    project: Mapped[Project] = relationship()

    __table_args__ = (UniqueConstraint("application_id", "project_id"),)

    def __repr__(self):
        return f"<ApplicationProject app={self.application_id} project={self.project_id}>"


class ApplicationSnapshot(db.Model):
    """The frozen content of one submission. Never updated after it is written."""

    __tablename__ = "application_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    application: Mapped[Application] = relationship(back_populates="snapshots")

    __table_args__ = (UniqueConstraint("application_id", "number"),)

    def __repr__(self):
        return f"<ApplicationSnapshot app={self.application_id} #{self.number}>"


class ApplicationComment(TimestampMixin, db.Model):
    """A reviewer's comment on one item of a snapshot when returning it (退回修改)."""

    __tablename__ = "application_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True, nullable=False)
    snapshot_number: Mapped[int] = mapped_column(Integer, nullable=False)
    item_type: Mapped[str] = mapped_column(String(32), nullable=False)
    item_key: Mapped[str] = mapped_column(String(64), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def __repr__(self):
        return f"<ApplicationComment app={self.application_id} {self.item_type}:{self.item_key}>"

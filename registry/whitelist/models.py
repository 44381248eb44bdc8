from datetime import date

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.batches.models import ReleaseBatch
from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.regions.models import Region


class EntryStatus(LabelledEnum):
    active = "active", "有效"
    suspended = "suspended", "暂停"
    delisted = "delisted", "已移出"
    expired = "expired", "已过期"


ENTRY_STATUS_LABELS = EntryStatus.value_labels()


class WhitelistEntry(TimestampMixin, db.Model):
    """One provider + project on the whitelist. Whether it is in force on a day is computed
    (effective_status): a missed nightly job never leaves a stale "active"."""

    __tablename__ = "whitelist_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True, nullable=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("release_batch.id"), index=True, nullable=False)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), nullable=False)
    status: Mapped[EntryStatus] = mapped_column(Enum(EntryStatus, native_enum=False, length=16), nullable=False,
                                                default=EntryStatus.active)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(Date, nullable=False)
    suspended_until: Mapped[date | None] = mapped_column(Date)
    suspended_by_rule: Mapped[str | None] = mapped_column(String(64))  # None = by hand (never lifted automatically)
    status_reason: Mapped[str | None] = mapped_column(String(64))

    provider: Mapped[Provider] = relationship()
    project: Mapped[Project] = relationship()
    batch: Mapped[ReleaseBatch] = relationship()
    counties: Mapped[list["EntryCounty"]] = relationship(back_populates="entry", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("provider_id", "project_id", name="one_entry_per_project"),
        CheckConstraint("valid_until >= valid_from", name="valid_range"),
        Index("ix_whitelist_entry_status_until", "status", "valid_until"),
        # A city's list of entries in force (the public whitelist, the school catalog).
        Index("ix_whitelist_entry_city_status_until", "city_id", "status", "valid_until"),
    )

    def effective_status(self, day):
        """The status in force on `day`: past its validity an entry is expired, and a suspension
        whose lift date has passed no longer holds (the sweep then records the lift)."""
        if self.status in (EntryStatus.active, EntryStatus.suspended) and self.valid_until < day:
            return EntryStatus.expired
        if self.status == EntryStatus.suspended and self.suspended_until is not None and self.suspended_until < day:
            return EntryStatus.active
        return self.status

    def __repr__(self):
        return f"<WhitelistEntry {self.id} provider={self.provider_id} project={self.project_id} {self.status.value}>"


class EntryCounty(db.Model):
    """A county an entry covers: the provider's service counties within the city."""

    __tablename__ = "entry_county"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("whitelist_entry.id", ondelete="CASCADE"), nullable=False)
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)

    entry: Mapped[WhitelistEntry] = relationship(back_populates="counties")
    county: Mapped[Region] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("entry_id", "county_id"),
                      Index("ix_entry_county_county", "county_id", "entry_id"))

    def __repr__(self):
        return f"<EntryCounty entry={self.entry_id} county={self.county_id}>"


class ChangeKind(LabelledEnum):
    added = "added", "新增"
    renewed = "renewed", "年审续期"
    suspended = "suspended", "暂停"
    reinstated = "reinstated", "恢复"
    delisted = "delisted", "移出"
    expired = "expired", "到期"


CHANGE_KIND_LABELS = ChangeKind.value_labels()


class ChangeFeedItem(TimestampMixin, db.Model):
    """The public change feed: what was added, suspended or delisted, when, and the reason category."""

    __tablename__ = "change_feed_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChangeKind] = mapped_column(Enum(ChangeKind, native_enum=False, length=16), nullable=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("whitelist_entry.id"), index=True, nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), nullable=False)
    happened_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason_category: Mapped[str | None] = mapped_column(String(64))

    entry: Mapped[WhitelistEntry] = relationship()

    __table_args__ = (Index("ix_change_feed_city_date", "city_id", "happened_on"),)

    @property
    def kind_label(self):
        return self.kind.label

    def __repr__(self):
        return f"<ChangeFeedItem {self.kind.value} entry={self.entry_id}>"


class Certificate(TimestampMixin, db.Model):
    """An admission certificate (准入证明). Its QR code opens /verify/<token>, which shows the live status."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), unique=True, nullable=False)
    token: Mapped[str] = mapped_column(String(43), unique=True, nullable=False)
    batch_id: Mapped[int] = mapped_column(ForeignKey("release_batch.id"), nullable=False)

    provider: Mapped[Provider] = relationship()
    batch: Mapped[ReleaseBatch] = relationship()

    def __repr__(self):
        return f"<Certificate provider={self.provider_id}>"

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db

GENESIS_HASH = "0" * 64


class AuditLog(db.Model):
    """An append-only, hash-chained record. `seq` is gapless; each row hashes its predecessor's hash."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (
        Index("ix_audit_log_created_at", "created_at"),
        Index("ix_audit_log_action", "action"),
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_actor_id", "actor_id"),
    )

    def __repr__(self):
        return f"<AuditLog #{self.seq} {self.action} {self.result}>"


class AuditHead(db.Model):
    """One row holding the chain's tip. Updating it first serialises writers on SQLite and PostgreSQL alike."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The (China Standard Time) day of the tip row: when a row of a later day is appended, the tip is the
    # closed day's last row, and it becomes that day's anchor.
    day: Mapped[date | None] = mapped_column(Date)

    def __repr__(self):
        return f"<AuditHead {self.seq}>"


class AuditAnchor(db.Model):
    """A closed day's chain head: the sequence number and hash of the day's last row. The public change feed
    publishes these (registry.whitelist), so copies kept outside the database pin the history up to each of
    them: `flask registry audit-verify --against <heads>` fails when a rewritten chain no longer reaches a
    published hash at a published sequence number. Holds nothing but a date, a count and a digest."""

    __tablename__ = "audit_anchor"

    day: Mapped[date] = mapped_column(Date, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    def __repr__(self):
        return f"<AuditAnchor {self.day} #{self.seq}>"

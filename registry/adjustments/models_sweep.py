from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db


class SweepRun(db.Model):
    """One run of `flask registry sweep`. Inserting the row takes the write lock on SQLite."""

    __tablename__ = "sweep_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    def __repr__(self):
        return f"<SweepRun {self.id} {self.as_of}>"

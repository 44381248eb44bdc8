from datetime import date

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.models import TimestampMixin
from registry.extensions import db


class CalendarDay(TimestampMixin, db.Model):
    """An admin-entered day that overrides the calendar: a statutory holiday (is_workday False)
    or a make-up working day on a weekend (is_workday True)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(nullable=False)
    note: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def __repr__(self):
        return f"<CalendarDay {self.day} {'work' if self.is_workday else 'off'}>"


class CalendarYear(TimestampMixin, db.Model):
    """Marks a year whose holidays an admin has entered completely (from the State Council notice)."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def __repr__(self):
        return f"<CalendarYear {self.year}>"

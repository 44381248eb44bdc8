"""Working days (工作日) as China's calendar has them.

Sources, in order: days an admin entered; the chinese-calendar package (2004–2026);
for a year with neither, Monday to Friday — and the result says so, so the UI can warn.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from flask import g
from sqlalchemy import select

from registry.audit import services as audit
from registry.calendar.models import CalendarDay, CalendarYear
from registry.core.errors import ValidationFailed
from registry.extensions import db


@dataclass
class WorkdayCount:
    end: date
    fallback_years: list = field(default_factory=list)  # years counted Monday–Friday only

    @property
    def warning(self):
        if not self.fallback_years:
            return None
        years = "、".join(str(y) for y in self.fallback_years)
        return f"系统没有 {years} 年的法定节假日数据，工作日仅按周一至周五计算，请管理员录入该年节假日安排后核对"


class Calendar:
    """Answers is_workday for a range. Admin overrides are loaded by whole years and kept for the rest of
    the request (or CLI command), so a page that computes working days for every row of a list still
    sends two statements in all; every write below forgets them."""

    def __init__(self, start, end):
        self.overrides, self.entered_years = _years(range(start.year, end.year + 1))
        self.fallback_years = set()

    def is_workday(self, day):
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.entered_years:
            return day.weekday() < 5
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            self.fallback_years.add(day.year)
            return day.weekday() < 5


def _years(years):
    """(overrides {day: is_workday}, entered years) covering `years`, loaded once per app context."""
    cache = g.setdefault("calendar_years", {})
    missing = [y for y in years if y not in cache]
    if missing:
        first, last = date(min(missing), 1, 1), date(max(missing), 12, 31)
        for y in range(first.year, last.year + 1):
            cache[y] = ({}, False)
        for row in db.session.scalars(select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last)):
            cache[row.day.year][0][row.day] = row.is_workday
        for year in db.session.scalars(select(CalendarYear.year).where(CalendarYear.year >= first.year,
                                                                        CalendarYear.year <= last.year)):
            cache[year] = (cache[year][0], True)
    overrides, entered = {}, set()
    for y in years:
        days, complete = cache[y]
        overrides.update(days)
        if complete:
            entered.add(y)
    return overrides, entered


def _forget():
    g.pop("calendar_years", None)


def add_working_days(start, n):
    """The n-th working day after `start` (start itself not counted)."""
    if n < 1:
        raise ValueError("n must be positive")
    calendar = Calendar(start, start + timedelta(days=n * 3 + 30))
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return WorkdayCount(day, sorted(calendar.fallback_years))


def working_days_between(start, end):
    """How many working days lie after `start` up to and including `end`."""
    calendar = Calendar(start, end)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_workday(day)
    return count


def set_day(day, *, is_workday, note, actor):
    """Enter one holiday or make-up working day."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"note": ["请填写说明，如“春节”或“春节调休上班”"]})
    row = db.session.get(CalendarDay, day) or CalendarDay(day=day)
    row.is_workday, row.note, row.created_by_id = is_workday, note[:64], actor.id
    db.session.add(row)
    db.session.flush()
    _forget()
    audit.record("calendar.set_day", object_type="calendar_day", object_id=day.isoformat(), actor=actor,
                 details={"is_workday": is_workday, "note": note[:64]})
    return row


def delete_day(day, *, actor):
    row = db.session.get(CalendarDay, day)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
        _forget()
        audit.record("calendar.delete_day", object_type="calendar_day", object_id=day.isoformat(), actor=actor)


def mark_year_complete(year, *, source, actor):
    """Declare that every holiday and make-up day of `year` has been entered."""
    if not 2000 <= year <= 2100:
        raise ValidationFailed({"year": ["年份无效"]})
    if package_covers(year):
        raise ValidationFailed({"year": [f"{year} 年的节假日已由系统内置日历提供，无需标记"]})
    if not days_of_year(year):
        raise ValidationFailed({"year": [f"尚未录入 {year} 年的任何节假日或调休日，不能标记为已录入完整"]})
    row = db.session.get(CalendarYear, year) or CalendarYear(year=year)
    row.source, row.created_by_id = (source or "").strip()[:128], actor.id
    db.session.add(row)
    db.session.flush()
    _forget()
    audit.record("calendar.mark_year", object_type="calendar_year", object_id=year, actor=actor,
                 details={"source": row.source})
    return row


def package_covers(year):
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def days_of_year(year):
    return db.session.scalars(
        select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)).all()

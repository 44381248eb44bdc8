"""The working-day calendar's admin pages (sys_admin, /admin/calendar): which years have holiday data, and
entering a year's holidays and make-up working days by hand. Every write goes through
registry.calendar.services.

The endpoints keep the names they had when these pages lived with the release batches ("batches.calendar",
...), which the authorization TABLE (registry/auth/permissions.py) and the navigation name; `init_app`
adds them to the app directly, so the calendar needs no blueprint of the (higher) batches domain.
"""
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from registry.calendar import services as workdays
from registry.calendar.models import CalendarDay, CalendarYear
from registry.calendar.schemas import CalendarDayIn, CalendarDayRefIn, CalendarYearIn
from registry.core import clock
from registry.core.errors import ValidationFailed
from registry.core.schema import parse_form
from registry.extensions import db

ENDPOINT_PREFIX = "batches"


def _actor():
    return current_user._get_current_object()


def _calendar_years(selected):
    today = clock.today()
    entered = db.session.scalars(select(CalendarDay.day)).all()
    marked = {row.year: row for row in db.session.scalars(select(CalendarYear))}
    counts = {}
    for day in entered:
        counts[day.year] = counts.get(day.year, 0) + 1
    years = sorted(set(range(today.year - 1, today.year + 3)) | set(counts) | set(marked) | {selected})
    rows = []
    for year in years:
        covered = workdays.package_covers(year)
        if year in marked:
            method, badge = "管理员录入的节假日安排", "ok"
        elif covered:
            method, badge = "内置法定节假日安排", "ok"
        else:
            method, badge = "仅按周一至周五计算（缺少节假日数据）", "err"
        rows.append({"year": year, "covered": covered, "entered": counts.get(year, 0), "marked": marked.get(year),
                     "method": method, "badge": badge})
    return rows


def _render_calendar(year=None, errors=None, form=None, status=200):
    today = clock.today()
    if year is None:
        year = request.args.get("year", type=int) or today.year
    if not 2000 <= year <= 2100:
        year = today.year
    rows = _calendar_years(year)
    selected = next(r for r in rows if r["year"] == year)
    return render_template("calendar/calendar.html", rows=rows, year=year, selected=selected,
                           days=workdays.days_of_year(year), errors=errors or {}, form=form or {},
                           weekdays="一二三四五六日"), status


def _form_year(fallback):
    try:
        return date.fromisoformat(request.form.get("day", "")).year
    except ValueError:
        return request.form.get("year", type=int) or fallback


def _calendar_act(schema, apply, success):
    try:
        data = parse_form(schema)
        year = apply(data)
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_calendar(year=_form_year(None), errors=exc.errors, form=request.form, status=exc.status)
    flash(success(data), "success")
    return redirect(url_for("batches.calendar", year=year))


def calendar():
    return _render_calendar()


def calendar_set_day():
    def apply(data):
        workdays.set_day(data["day"], is_workday=data["is_workday"], note=data["note"], actor=_actor())
        return data["day"].year
    return _calendar_act(CalendarDayIn(), apply, lambda d: f"已录入 {d['day'].isoformat()}:"
                         f"{'调休上班' if d['is_workday'] else '放假'}({d['note'].strip()})")


def calendar_delete_day():
    def apply(data):
        workdays.delete_day(data["day"], actor=_actor())
        return data["day"].year
    return _calendar_act(CalendarDayRefIn(), apply, lambda d: f"已删除 {d['day'].isoformat()} 的录入")


def calendar_mark_year():
    def apply(data):
        workdays.mark_year_complete(data["year"], source=data["source"], actor=_actor())
        return data["year"]
    return _calendar_act(CalendarYearIn(), apply,
                         lambda d: f"已标记 {d['year']} 年节假日安排录入完整，该年工作日按录入的安排计算")


ROUTES = (
    ("/admin/calendar", "calendar", calendar, ["GET"]),
    ("/admin/calendar/days", "calendar_set_day", calendar_set_day, ["POST"]),
    ("/admin/calendar/days/delete", "calendar_delete_day", calendar_delete_day, ["POST"]),
    ("/admin/calendar/years", "calendar_mark_year", calendar_mark_year, ["POST"]),
)


def init_app(app):
    for rule, name, view, methods in ROUTES:
        app.add_url_rule(rule, endpoint=f"{ENDPOINT_PREFIX}.{name}", view_func=view, methods=methods)

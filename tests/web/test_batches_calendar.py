"""/admin/calendar: the sys_admin enters holidays for years chinese-calendar does not cover."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.calendar.models import CalendarDay, CalendarYear
from tests.fixtures.reviews import at


@pytest.fixture
def admin(login_as):
    at(date(2026, 11, 2))
    client, _user = login_as("sys_admin")
    return client


def test_overview_says_which_years_count_monday_to_friday(admin):
    page = admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2026 年" in page and "2027 年" in page
    assert "内置法定节假日安排" in page  # 2026
    assert "仅按周一至周五计算（缺少节假日数据）" in page  # 2027
    assert "系统没有 2027 年的法定节假日数据" in page and "标记录入完整" in page


def test_days_are_entered_listed_and_deleted(admin, db):
    response = admin.post("/admin/calendar/days", data={"day": "2027-02-08", "is_workday": "false", "note": "春节"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/calendar?year=2027")
    admin.post("/admin/calendar/days", data={"day": "2027-02-20", "is_workday": "true", "note": "春节调休上班"})
    page = admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2027-02-08" in page and "放假" in page and "2027-02-20" in page and "调休上班" in page
    assert "星期六" in page  # 2027-02-20
    assert {(d.day, d.is_workday) for d in db.session.scalars(select(CalendarDay))} == {
        (date(2027, 2, 8), False), (date(2027, 2, 20), True)}

    assert admin.post("/admin/calendar/days/delete", data={"day": "2027-02-08"}).status_code == 302
    assert [d.day for d in db.session.scalars(select(CalendarDay))] == [date(2027, 2, 20)]


def test_a_day_without_a_note_is_refused_keeping_the_date(admin, db):
    response = admin.post("/admin/calendar/days", data={"day": "2027-10-01", "is_workday": "false", "note": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请填写说明" in page and 'value="2027-10-01"' in page
    assert db.session.scalars(select(CalendarDay)).all() == []


def test_a_bad_date_is_refused_in_chinese(admin, db):
    response = admin.post("/admin/calendar/days", data={"day": "2027-13-40", "is_workday": "false", "note": "国庆"})
    assert response.status_code == 422 and "日期格式" in response.get_data(as_text=True)


def test_marking_a_year_complete_changes_how_it_is_counted(admin, db):
    admin.post("/admin/calendar/days", data={"day": "2027-01-01", "is_workday": "false", "note": "元旦"})
    response = admin.post("/admin/calendar/years", data={"year": "2027", "source": "国务院办公厅通知"})
    assert response.status_code == 302
    row = db.session.get(CalendarYear, 2027)
    assert row is not None and row.source == "国务院办公厅通知"
    page = admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "已标记录入完整（依据：国务院办公厅通知）" in page
    assert "系统没有 2027 年的法定节假日数据" not in page


def test_a_year_covered_by_the_package_offers_no_marking(admin):
    page = admin.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "系统内置的节假日安排已包含该年的法定节假日" in page
    assert "标记 2026 年录入完整" not in page


@pytest.mark.parametrize("role", ["city_reviewer", "county_reviewer", "auditor"])
def test_only_the_sys_admin_manages_the_calendar(login_as, db, role):
    client, _user = login_as(role)
    assert client.get("/admin/calendar").status_code == 403
    assert client.post("/admin/calendar/days", data={"day": "2027-01-01", "is_workday": "false",
                                                      "note": "元旦"}).status_code == 403
    assert db.session.scalars(select(CalendarDay)).all() == []

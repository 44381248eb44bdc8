"""Working days across the 2026 Spring Festival and National Day, and in 2027 with and without entered holidays."""
from datetime import date

import pytest

from registry.calendar import services as cal


@pytest.mark.parametrize("start, n, end", [
    (date(2026, 2, 12), 5, date(2026, 2, 26)),   # Thu; 14 Feb (Sat) is a make-up day, 15–23 Feb off
    (date(2026, 9, 25), 5, date(2026, 10, 9)),   # Mid-autumn 25–27 Sep and National Day 1–7 Oct off
    (date(2026, 9, 30), 5, date(2026, 10, 13)),  # 8, 9, 10 (Sat, make-up day), 12, 13 Oct
    (date(2026, 3, 2), 5, date(2026, 3, 9)),     # an ordinary week
])
def test_add_working_days_follows_china_calendar(db, start, n, end):
    result = cal.add_working_days(start, n)
    assert result.end == end
    assert result.warning is None


def test_2027_without_data_counts_weekdays_and_warns(db):
    result = cal.add_working_days(date(2027, 2, 4), 5)  # Thursday
    assert result.end == date(2027, 2, 11)
    assert result.fallback_years == [2027]
    assert "仅按周一至周五计算" in result.warning


def test_2027_with_entered_holidays(db, create_user):
    admin = create_user("sys_admin")
    for d in range(6, 13):  # 2027 Spring Festival holiday, 6–12 Feb (entered by an admin)
        cal.set_day(date(2027, 2, d), is_workday=False, note="春节", actor=admin)
    cal.set_day(date(2027, 2, 13), is_workday=True, note="春节调休上班", actor=admin)  # a Saturday
    cal.mark_year_complete(2027, source="国务院办公厅通知", actor=admin)
    result = cal.add_working_days(date(2027, 2, 4), 5)
    # 5 Feb (Fri), 13 Feb (Sat, make-up), 15, 16, 17 Feb
    assert result.end == date(2027, 2, 17)
    assert result.warning is None


def test_entered_day_without_complete_year_still_warns(db, create_user):
    admin = create_user("sys_admin")
    cal.set_day(date(2027, 1, 1), is_workday=False, note="元旦", actor=admin)
    result = cal.add_working_days(date(2026, 12, 30), 3)
    assert result.end == date(2027, 1, 5)  # 31 Dec, (1 Jan off), 4 Jan, 5 Jan
    assert result.fallback_years == [2027]


def test_year_cannot_be_marked_complete_when_covered_or_empty(db, create_user):
    from registry.core.errors import ValidationFailed
    admin = create_user("sys_admin")
    with pytest.raises(ValidationFailed, match="内置日历"):
        cal.mark_year_complete(2026, source="x", actor=admin)
    with pytest.raises(ValidationFailed, match="尚未录入 2027"):
        cal.mark_year_complete(2027, source="x", actor=admin)

"""The schedule's policy check (issue 15, item 3) as a pure function: each rule refuses, naming day, group, rule."""

from decimal import Decimal

from registry.schedules.validation import Context, OrderInfo, Row, Rules, validate


def week(grade=(1, 2), **overrides):
    """A valid week for one grade group: 16:00–16:40 homework (1), 16:40–17:40 N; science on Monday."""
    rows = []
    for day in range(5):
        rows.append(
            Row(
                grade[0],
                grade[1],
                day,
                960,
                1000,
                "one",
                "own",
                "作业辅导",
                teacher_name=f"王老师{grade[0]}{day}",
                venue="教室",
                class_size=40,
            )
        )
        rows.append(
            Row(
                grade[0],
                grade[1],
                day,
                1000,
                1060,
                "n",
                "own",
                "科学探究" if day == 0 else "篮球",
                category="science" if day == 0 else "sports",
                teacher_name=f"李老师{grade[0]}{day}",
                venue="操场",
                class_size=40,
            )
        )
    for i, row in enumerate(rows, start=1):
        row.line = i
    return rows


def ctx(**kwargs):
    kwargs.setdefault("rules", Rules())
    return Context(**kwargs)


def test_a_valid_week_passes_and_the_grid_shows_one_to_n():
    report = validate(week(), ctx())
    assert report.ok, report.errors
    day = report.grid[0]["days"][0]
    assert (day["one"], day["n"], day["total"]) == (40, 60, 100)
    assert report.grid[0]["group"] == "一至二年级"


def test_a_day_at_40_percent_n_is_refused_naming_the_day():
    rows = week()
    rows[4].ends_at = 1020  # Wednesday homework 16:00–17:00 (60 min)
    rows[5].starts_at, rows[5].ends_at = 1020, 1060  # N 40 min: 40 %
    report = validate(rows, ctx())
    [err] = report.errors
    assert err.rule == "n_share" and err.weekday == 2
    assert err.message.startswith("周三，一至二年级") and "40%" in err.message and "50%" in err.message


def test_a_friday_with_no_n_is_refused():
    rows = [r for r in week() if not (r.weekday == 4 and r.kind == "n")]
    report = validate(rows, ctx())
    assert [(e.rule, e.weekday) for e in report.errors] == [("n_daily", 4)]
    assert "周五" in report.errors[0].message and "N 类活动" in report.errors[0].message


def test_a_week_with_no_science_is_refused():
    rows = week()
    rows[1].category = "arts"
    report = validate(rows, ctx())
    assert [e.rule for e in report.errors] == ["science"]
    assert "一至二年级" in report.errors[0].message and "科学教育" in report.errors[0].message


def test_science_per_week_is_the_citys_number():
    report = validate(week(), Context(rules=Rules(science_per_week=2)))
    assert [e.rule for e in report.errors] == ["science"]


def test_an_overlap_is_refused():
    rows = week()
    rows[3].starts_at = 990  # Tuesday N starts 16:30, homework runs to 16:40
    report = validate(rows, ctx())
    assert [(e.rule, e.weekday) for e in report.errors] == [("overlap", 1)]
    assert "第 3 行" in report.errors[0].message and "第 4 行" in report.errors[0].message


def test_a_person_in_two_grade_groups_at_once_is_refused():
    rows = week((1, 2)) + week((3, 4))
    rows[10].teacher_name = rows[0].teacher_name  # 王老师10 runs Monday homework in both groups
    for i, row in enumerate(rows, start=1):
        row.line = i
    report = validate(rows, ctx())
    assert [e.rule for e in report.errors] == ["person_twice"]
    assert "王老师10" in report.errors[0].message and "周一" in report.errors[0].message


def _order(**overrides):
    values = dict(
        id=7,
        title="花样跳绳",
        provider="南昌跳绳体育",
        category="sports",
        stages=("lower_primary",),
        grades=(1, 2, 3),
        weekdays=(1, 3),
        slot=(1000, 1060),
        slot_text="16:40-17:40",
        staff=frozenset({11}),
        live=True,
        status_label="已接单",
    )
    values.update(overrides)
    return OrderInfo(**values)


def _third_party(rows, weekday):
    row = next(r for r in rows if r.weekday == weekday and r.kind == "n")
    row.source, row.order_id, row.person_id, row.category = "order", 7, 11, "sports"
    return row


def test_a_third_party_row_on_its_orders_weekday_passes():
    rows = week()
    _third_party(rows, 1)
    assert validate(rows, ctx(orders={7: _order()})).ok


def test_a_third_party_row_outside_its_orders_weekdays_is_refused():
    rows = week()
    _third_party(rows, 2)  # Wednesday; the order runs Tuesday and Thursday
    report = validate(rows, ctx(orders={7: _order()}))
    assert [(e.rule, e.weekday) for e in report.errors] == [("order", 2)]
    assert "周二、周四" in report.errors[0].message and "不含周三" in report.errors[0].message


def test_a_third_party_row_outside_its_orders_time_stage_or_staff_is_refused():
    rows = week((4, 5))
    _third_party(rows, 1)
    report = validate(rows, ctx(orders={7: _order(slot=(1020, 1080))}))
    rules = sorted(e.rule for e in report.errors)
    assert rules == ["order", "order", "stage"]  # time, grades not ordered, stage of the project


def test_the_third_party_share_is_limited():
    rows = week()
    _third_party(rows, 1)
    _third_party(rows, 3)
    report = validate(rows, ctx(orders={7: _order()}, rules=Rules(third_party_share_max=Decimal("0.200"))))
    assert [e.rule for e in report.errors] == ["third_party_share"]


def test_an_outside_person_not_cleared_on_teaching_days_is_refused():
    rows = week()
    _third_party(rows, 1)
    report = validate(rows, ctx(orders={7: _order()}, persons={11: ("张三丰", ["2027-01-20：健康证明已过期"])}))
    assert [e.rule for e in report.errors] == ["clearance"]
    assert "张三丰" in report.errors[0].message


def test_a_teaching_weekday_without_rows_is_refused_and_a_non_teaching_one_is_not():
    rows = [r for r in week() if r.weekday != 4]
    assert [e.rule for e in validate(rows, ctx()).errors] == ["missing_day"]
    assert validate(rows, ctx(teaching_weekdays=(0, 1, 2, 3))).ok


def test_an_early_end_is_a_warning():
    rows = week()
    rows[2].ends_at, rows[3].starts_at, rows[3].ends_at = 970, 970, 1030  # Tuesday ends 17:10
    report = validate(rows, ctx())
    assert report.ok and [w.rule for w in report.warnings] == ["end_time"] and "17:30" in report.warnings[0].message

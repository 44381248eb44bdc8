"""Issue 18, supervision: the rules of the monthly visit, rectification tasks, and every implemented
indicator against a hand count.

- an assigned school not visited in a teaching month shows as overdue on the 1st of the next month (computed),
  and the sweep records it once and tells the inspector and the county;
- a rectification task past its deadline is overdue (computed from the day) and closes only with a response;
- every implemented indicator's figure equals a hand count (plain Python over the ORM objects, not SQL) on a
  small seeded county, for the county, each of its schools, each county of the city and each city of the
  province; the indicators whose source has not landed answer 暂无数据 (no figures).
"""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from registry.adjustments import services as adjustments
from registry.complaints import services as complaints
from registry.complaints.models import Complaint
from registry.core import clock
from registry.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from registry.notifications.models import Notification
from registry.orders.models import Order
from registry.passes import queries as pass_queries
from registry.passes.models import EntryPass, GateScan, PassKind, ScanDirection, ScanResult
from registry.people.models import CheckResult, Person
from registry.people.services import check_expiry, latest_checks
from registry.policy import services as policy
from registry.quality import services as quality
from registry.quality.models import (
    Interest,
    ProjectStanding,
    SafetyFeeling,
    Satisfaction,
    StandingLevel,
    SurveyResponse,
)
from registry.regions import services as regions
from registry.schedules import services as schedules
from registry.schedules.models import Schedule
from registry.schools.models import School, SchoolProject, Term
from registry.supervision import indicators, queries, sweep
from registry.supervision import services as supervision
from registry.supervision.indicators import COUNTED_ORDERS, INDICATORS
from registry.supervision.models import Assignment, MissedVisit, Task, TaskStatus, Visit
from registry.whitelist.models import ChangeFeedItem, ChangeKind, EntryCounty
from tests.fixtures.reviews import at
from tests.fixtures.schedules import week_rows
from tests.fixtures.schools import make_school_row
from tests.fixtures.supervision import checklist
from tests.fixtures.supervision import visit as make_visit

# ---------------------------------------------------------------- the monthly visit

def test_unvisited_school_is_overdue_on_the_first_and_the_sweep_tells_once(db, world):
    at(date(2026, 3, 20))
    make_visit(world["a"], world["inspector"], date(2026, 3, 20))
    at(date(2026, 3, 31))
    month, rows = queries.overdue_visits(clock.today())
    assert month == date(2026, 2, 1) and rows == []          # February: nobody was assigned yet
    at(date(2026, 4, 1))
    month, rows = queries.overdue_visits(clock.today())
    assert month == date(2026, 3, 1)
    assert {r.school_id for r in rows} == {world["b"].id, world["c"].id}   # A was visited, B and C were not
    assert sweep.run() == 2
    assert sweep.run() == 0                                  # a second run records nothing new
    assert db.session.scalar(select(func.count()).select_from(MissedVisit)) == 2
    notes = db.session.scalars(select(Notification).where(Notification.dedupe_key.like("missed_visit:%"))).all()
    told = {(n.user_id, n.dedupe_key) for n in notes}
    key_b = f"missed_visit:{world['b'].id}:2026-03-01"
    assert (world["inspector"].id, key_b) in told and (world["county"].id, key_b) in told
    assert len(notes) == len(told)


def test_visit_needs_every_item_and_a_note_for_a_failing_one(db, world):
    items = checklist(safety="fails")
    items["safety"]["note"] = ""
    del items["voluntary"]
    with pytest.raises(ValidationFailed) as err:
        supervision.record_visit(world["a"], actor=world["inspector"], items=items,
                                 visited_at=supervision.visit_datetime(clock.today()))
    assert "请在备注中写明" in err.value.errors["items.safety"][0]
    assert "学生自愿参加" in err.value.errors["items.voluntary"][0]


def test_only_the_assigned_inspector_records_a_visit(db, world, create_user):
    colleague = create_user("inspector", region_code="360113")
    with pytest.raises(NotAllowed):
        make_visit(world["a"], colleague, clock.today())
    with pytest.raises(ValidationFailed):   # an inspector of another county cannot be assigned here
        supervision.assign(world["a"], inspector_id=world["other_inspector"].id, actor=world["county"])


def test_reassignment_ends_the_previous_one(db, world, create_user):
    newcomer = create_user("inspector", region_code="360113")
    supervision.assign(world["a"], inspector_id=newcomer.id, actor=world["county"], started_on=date(2026, 3, 15))
    rows = db.session.scalars(select(Assignment).where(Assignment.school_id == world["a"].id)
                              .order_by(Assignment.id)).all()
    assert [(r.inspector_id, r.ended_on) for r in rows] == [(world["inspector"].id, date(2026, 3, 14)),
                                                            (newcomer.id, None)]


# ---------------------------------------------------------------- rectification tasks

def _task(world, deadline):
    visit = make_visit(world["a"], world["inspector"], clock.today(), safety="fails")
    return supervision.open_task(visit, "safety", actor=world["inspector"], target="school",
                                 requirement="清理消防通道", deadline=deadline)


def test_task_past_its_deadline_is_overdue_and_closes_only_with_a_response(db, world):
    task = _task(world, date(2026, 3, 15))
    county = regions.get_by_code("360113")
    assert not task.is_overdue(date(2026, 3, 15))
    at(date(2026, 3, 16))
    assert task.is_overdue()
    figures = indicators.tasks_overdue(county, "all", [clock.today()])
    assert figures[(clock.today(), None)].value == 1
    with pytest.raises(InvalidTransition):          # no response yet: it cannot close
        supervision.close(task, actor=world["inspector"])
    with pytest.raises(NotAllowed):                 # the provider is not the task's party
        supervision.respond(task, actor=world["admin"], response="已整改")
    with pytest.raises(ValidationFailed):
        supervision.respond(task, actor=world["school_admin"], response="  ")
    supervision.respond(task, actor=world["school_admin"], response="已清理消防通道并张贴警示")
    assert task.status == TaskStatus.responded and not task.is_overdue()
    supervision.reopen(task, actor=world["inspector"], note="仍有杂物")
    assert task.is_overdue()                        # reopened past the deadline: owing a response again
    supervision.respond(task, actor=world["school_admin"], response="已彻底清理")
    supervision.close(task, actor=world["inspector"], note="复查合格")
    assert task.status == TaskStatus.closed and task.closed_at is not None


def test_a_conforming_item_cannot_become_a_task(db, world):
    visit = make_visit(world["a"], world["inspector"], clock.today())
    with pytest.raises(ValidationFailed) as err:
        supervision.open_task(visit, "safety", actor=world["inspector"], target="school", requirement="x",
                              deadline=clock.today())
    assert "不符合" in err.value.errors["item"][0]


def test_a_provider_task_needs_a_provider_serving_the_school(db, world):
    visit = make_visit(world["a"], world["inspector"], clock.today(), fees_disclosed="fails")
    with pytest.raises(ValidationFailed) as err:
        supervision.open_task(visit, "fees_disclosed", actor=world["inspector"], target="provider",
                              requirement="公示收费", deadline=clock.today(), provider_id=None)
    assert "provider_id" in err.value.errors
    task = supervision.open_task(visit, "fees_disclosed", actor=world["inspector"], target="provider",
                                 requirement="公示收费", deadline=clock.today(), provider_id=world["provider"].id)
    supervision.respond(task, actor=world["admin"], response="已在教室门口公示")
    assert task.status == TaskStatus.responded


# ---------------------------------------------------------------- indicators against a hand count

def _schools(db):
    from registry.schools.models import School
    return db.session.scalars(select(School)).all()


def _in(school, level, region_id):
    return {"school": school.id, "county": school.county_id, "city": school.city_id}[level] == region_id


def hand_count(db, key, day, level, region_id, term):
    """The indicator's figure for the schools (or counties, cities) named by level/region_id, in Python."""
    schools = [s for s in _schools(db) if _in(s, level, region_id)]
    ids = {s.id for s in schools}
    end = indicators.day_end_utc(day)
    if key == "third_party_share":
        orders_ = db.session.scalars(select(Order).where(Order.term_id == term.id)).all()
        third = len({(o.school_id, o.project_id) for o in orders_
                     if o.school_id in ids and o.status in COUNTED_ORDERS and o.created_at < end})
        own = sum(1 for p in db.session.scalars(select(SchoolProject)).all()
                  if p.school_id in ids and p.term_id == term.id and p.created_at < end)
        return round(100.0 * third / (third + own), 1) if third + own else None
    if key == "visits_this_month":
        assigned = {a.school_id for a in db.session.scalars(select(Assignment)).all()
                    if a.school_id in ids and a.current_on(day)}
        visited = {v.school_id for v in db.session.scalars(select(Visit)).all()
                   if v.school_id in assigned and day.replace(day=1) <= v.visited_on <= day}
        return round(100.0 * len(visited) / len(assigned), 1) if assigned else None
    tasks = [t for t in db.session.scalars(select(Task)).all() if t.school_id in ids and t.created_at < end
             and (t.closed_at is None or t.closed_at >= end)]
    if key == "tasks_open":
        return len(tasks)
    if key == "tasks_overdue":
        return sum(1 for t in tasks if t.is_overdue(day))
    if key == "entries_suspended_delisted":
        feed = [f for f in db.session.scalars(select(ChangeFeedItem)).all()
                if f.kind in (ChangeKind.suspended, ChangeKind.delisted) and term.starts_on <= f.happened_on <= day]
        if level == "school":
            ordered = {o.entry_id for o in db.session.scalars(select(Order)).all()
                       if o.school_id == region_id and o.term_id == term.id}
            return len({f.entry_id for f in feed if f.entry_id in ordered})
        if level == "county":
            covered = {ec.entry_id for ec in db.session.scalars(select(EntryCounty)).all()
                       if ec.county_id == region_id}
            return len({f.entry_id for f in feed if f.entry_id in covered})
        return len({f.entry_id for f in feed if f.city_id == region_id})
    if key == "people_expiring":
        def lapsing(person):
            latest = latest_checks(person)
            return any(c.result == CheckResult.clear and c.check_date <= day
                       and (end_day := check_expiry(c, 365)) is not None
                       and day < end_day <= day + timedelta(days=30) for c in latest.values())
        if level == "school":
            people = {s.person for o in db.session.scalars(select(Order)).all() if o.school_id == region_id
                      and o.term_id == term.id and o.status.value in ("accepted", "active", "suspended")
                      for s in o.staff if s.removed_at is None}
        else:
            people = {p for p in db.session.scalars(select(Person)).all()
                      if p.archived_at is None
                      and {"county": p.provider.county_id, "city": p.provider.city_id}[level] == region_id}
        return sum(1 for p in people if lapsing(p))
    if key in ("complaints_open", "complaints_overdue"):
        open_ = [c for c in db.session.scalars(select(Complaint)).all()
                 if c.received_on <= day and (c.decided_on is None or c.decided_on > day)
                 and {"school": c.school_id, "county": c.region_id, "city": c.city_id}[level] == region_id]
        if key == "complaints_open":
            return len(open_)
        return sum(1 for c in open_ if day > (c.ack_due if c.acknowledged_on is None or c.acknowledged_on > day
                                              else c.resolve_due))
    if key == "no_show":
        schools = [s for s in db.session.scalars(select(School)).all()
                   if {"school": s.id, "county": s.county_id, "city": s.city_id}[level] == region_id]
        return sum(len(pass_queries.no_shows(school_id=s.id, start=day - timedelta(days=7),
                                             end=day - timedelta(days=1))) for s in schools)
    if key in ("schedule_rate", "one_plus_n"):
        schools = [s for s in db.session.scalars(select(School)).all()
                   if {"school": s.id, "county": s.county_id, "city": s.city_id}[level] == region_id]
        yes = 0
        for school in schools:
            mine = [x for x in db.session.scalars(select(Schedule)).all()
                    if x.school_id == school.id and x.term_id == term.id]
            accepted = any(x.status.value in ("accepted", "superseded") and x.decided_at < end for x in mine)
            filed = [x.submitted_on for x in mine if x.submitted_on is not None]
            due = term.starts_on + timedelta(days=policy.for_city(school.city).filing_deadline_days)
            yes += accepted and (key == "one_plus_n" or (bool(filed) and min(filed) <= due))
        return round(100.0 * yes / len(schools), 1) if schools else None
    if key == "satisfaction":
        answers = [r for r in db.session.scalars(select(SurveyResponse)).all()
                   if r.term_id == term.id and r.created_at < end
                   and _in_scope(db, db.session.get(Order, r.order_id).school_id, level, region_id)]
        yes = sum(1 for r in answers if r.satisfaction.value in ("satisfied", "basic"))
        return round(100.0 * yes / len(answers), 1) if answers else None
    if key == "projects_under_threshold":
        if level == "school":
            return None
        ended = [t.ends_on for t in db.session.scalars(select(Term)).all() if t.ends_on < day]
        return len({s.project_id for s in db.session.scalars(select(ProjectStanding)).all()
                    if s.level.value == "below" and s.computed_on <= day and ended
                    and db.session.get(Term, s.term_id).ends_on == max(ended)
                    and {"county": s.county_id, "city": s.city_id}[level] == region_id})
    raise AssertionError(key)


def _in_scope(db, school_id, level, region_id):
    school = db.session.get(School, school_id)
    return {"school": school.id, "county": school.county_id, "city": school.city_id}[level] == region_id


def _value(figures, day, key):
    figure = figures.get((day, key))
    return None if figure is None else figure.value


@pytest.fixture
def counted(db, world):
    """The world with a visit, three tasks (one closed, one overdue, one due later) and a suspension; 2026-03-20."""
    at(date(2026, 3, 12))
    task_closed = _task(world, date(2026, 3, 13))
    _task(world, date(2026, 3, 15))
    _task(world, date(2026, 3, 30))
    adjustments.suspend(world["provider"], actor=world["reviewers"]["city"], reason_category="safety_incident",
                        reason="课后服务期间发生学生受伤事故")
    complaints.open_case(source="school", category="illegal_fees", actor=world["school_admin"],
                         summary="课后服务收取材料费", school_id=world["school_admin"].school_id,
                         provider_id=world["provider"].id)
    schedule = schedules.working_copy(world["a"], world["term"], actor=world["school_admin"])
    schedules.replace_rows(schedule, week_rows(), actor=world["school_admin"])
    schedules.submit(schedule, actor=world["school_admin"])
    schedules.accept(schedule, actor=world["county"])
    codes = quality.issue_codes(world["order"], actor=world["school_admin"])
    for code, satisfied in zip(codes, ("satisfied", "basic", "dissatisfied"), strict=False):
        quality.answer(code, satisfaction=Satisfaction(satisfied), interest=Interest.high, safety=SafetyFeeling.safe,
                       extra_fee=False, voluntary=True)
    autumn = Term(name="2025-2026学年第一学期（督导测试）", starts_on=date(2025, 9, 1), ends_on=date(2026, 1, 20))
    db.session.add(autumn)
    db.session.flush()
    county_, city_ = regions.get_by_code("360113"), regions.get_by_code("360100")
    db.session.add(ProjectStanding(project_id=world["order"].project_id, provider_id=world["order"].provider_id,
                                   term_id=autumn.id, city_id=city_.id, county_id=county_.id, parent_responses=12,
                                   parent_satisfied=8, parent_weight=Decimal("0.7"), level=StandingLevel.below,
                                   computed_on=date(2026, 1, 25)))
    # a pass with no order for every weekday of March, used only on Monday 16 March
    own = EntryPass(kind=PassKind.school, code="SUPV0001", link_key="supervision-test-link",
                    person_id=world["person"].id, school_id=world["a"].id, weekdays=[0, 1, 2, 3, 4],
                    time_slot="16:30-17:30", valid_from=date(2026, 3, 1), valid_until=date(2026, 3, 31), token="",
                    key_id="")
    db.session.add(own)
    db.session.flush()
    came = datetime(2026, 3, 16, 8, 20)
    db.session.add(GateScan(pass_id=own.id, school_id=world["a"].id, scanned_at=came, scan_day=date(2026, 3, 16),
                            result=ScanResult.allowed, direction=ScanDirection.entry, reasons=[], received_at=came))
    at(date(2026, 3, 14))
    supervision.respond(task_closed, actor=world["school_admin"], response="已整改")
    at(date(2026, 3, 19))
    complaints.open_case(source="inspector", category="safety_incident", actor=world["inspector"],
                         summary="活动场地消防通道堵塞", school_id=world["school_admin"].school_id)
    supervision.close(task_closed, actor=world["inspector"])
    at(date(2026, 3, 20))
    db.session.flush()
    return world


@pytest.mark.parametrize("key", [i.key for i in INDICATORS if i.landed])
def test_indicator_equals_hand_count_at_every_level(db, counted, key):
    day, term = clock.today(), counted["term"]
    indicator = indicators.BY_KEY[key]
    county = regions.get_by_code("360113")
    city = regions.get_by_code("360100")
    province = regions.get_by_code("360000")
    for region, group, level in ((county, "school", "school"), (city, "county", "county"),
                                 (province, "city", "city")):
        figures = indicator.figures(region, group, [day])
        for child_id in [cid for cid, _name in indicators.children(region)]:
            expected = hand_count(db, key, day, level, child_id, term)
            got = _value(figures, day, child_id)
            assert got == expected or (got is None and expected in (0, None)), (key, level, child_id, got, expected)
    for region, level in ((county, "county"), (city, "city")):
        total = _value(indicator.figures(region, "all", [day]), day, None)
        expected = hand_count(db, key, day, level, region.id, term)
        assert total == expected or (total is None and expected in (0, None)), (key, level, total, expected)
    # the trend's last point is the figure of the day; earlier points are month ends of the term
    dash = indicators.dashboard(county, day)
    row = next(r for r in dash.rows if r.key == key)
    assert row.trend[-1][0] == "2026-03" and row.trend[0][0] == "2026-02"
    assert row.trend[-1][1].value == row.total.value


def test_the_seeded_county_has_something_to_count(db, counted):
    """Guard against a vacuous hand-count test: the seeded county gives non-zero figures."""
    day, county = clock.today(), regions.get_by_code("360113")
    totals = {r.key: r.total.value for r in indicators.dashboard(county, day).rows if r.indicator.landed}
    assert totals == {"third_party_share": 16.7, "visits_this_month": 50.0, "tasks_open": 2, "tasks_overdue": 1,
                      "entries_suspended_delisted": 1, "people_expiring": 1,
                      "complaints_open": 2, "complaints_overdue": 1, "satisfaction": 66.7,
                      "projects_under_threshold": 1, "schedule_rate": 50.0, "one_plus_n": 50.0, "no_show": 4}
    assert all(r.total is None for r in indicators.dashboard(county, day).rows if not r.indicator.landed)


def test_a_past_month_report_is_reproducible(db, counted):
    county = regions.get_by_code("360113")
    first = indicators.monthly_report(county, date(2026, 3, 1), today=date(2026, 4, 2))
    at(date(2026, 4, 5))
    _task(counted, date(2026, 4, 30))
    again = indicators.monthly_report(county, date(2026, 3, 1), today=date(2026, 4, 5))
    tasks_before = {r.key: r.total.value for r in first.dashboard.rows if r.indicator.landed}["tasks_open"]
    tasks_after = {r.key: r.total.value for r in again.dashboard.rows if r.indicator.landed}["tasks_open"]
    assert tasks_before == tasks_after == 2     # a task raised in April does not change March
    assert first.as_of == again.as_of == date(2026, 3, 31) and first.complete
    # the month before: nothing was counted, so a count reads 0 and a ratio without schools has no figure
    assert first.previous["complaints_open"].value == 0 and first.previous["tasks_open"].value == 0


def _statements(db, call):
    from sqlalchemy import event
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1
    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counter["n"]


def test_a_dashboard_sends_as_many_statements_at_every_level_and_size(db, counted):
    day = clock.today()
    levels = [regions.get_by_code(code) for code in ("360000", "360100", "360113")]
    before = [_statements(db, lambda r=r: indicators.dashboard(r, day)) for r in levels]
    for n in range(3):   # more schools, visits and tasks
        school = make_school_row(db, name=f"红谷滩区新建学校{n}")
        supervision.assign(school, inspector_id=counted["inspector"].id, actor=counted["county"])
        make_visit(school, counted["inspector"], day, safety="fails")
    _task(counted, day + timedelta(days=5))
    db.session.flush()
    after = [_statements(db, lambda r=r: indicators.dashboard(r, day)) for r in levels]
    assert len(set(before)) == 1 and before == after

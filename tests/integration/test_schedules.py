"""Schedules (issue 15): filing and its lifecycle, late schools, revisions after acceptance, the fee notice that
an order's start waits for, Excel in and out, and the pages and API around them."""
import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from registry.adjustments import sweep
from registry.core import tabular
from registry.core.errors import NotAllowed, ValidationFailed
from registry.orders import services as orders
from registry.orders.models import OrderStatus
from registry.passes.models import EntryPass
from registry.schedules import importer, queries, services
from registry.schedules.models import ScheduleStatus
from registry.schools.models import SchoolProject
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at
from tests.fixtures.schedules import week_rows
from tests.fixtures.schools import make_school_row, make_term

TERM_START = date(2026, 9, 1)


@pytest.fixture
def world(db, frozen_clock, create_user, seeded_regions):
    at(TERM_START)
    school = make_school_row(db)
    other = make_school_row(db)  # a second school of the county that files nothing
    term = make_term(db, starts_on=TERM_START, ends_on=date(2027, 1, 22))
    admin = create_user("school_admin", school_id=school.id)
    county = create_user("county_reviewer")
    return {"school": school, "other": other, "term": term, "admin": admin, "county": county}


def _filed(world, rows=None):
    schedule = services.working_copy(world["school"], world["term"], actor=world["admin"])
    services.replace_rows(schedule, rows or week_rows(), actor=world["admin"])
    services.submit(schedule, actor=world["admin"])
    return schedule


def test_file_accept_publish_then_a_change_needs_filing_again(db, world):
    first = _filed(world)
    assert first.status == ScheduleStatus.submitted and first.submitted_on == TERM_START
    services.accept(first, actor=world["county"])
    _school, _term, public, rows, _notice = queries.public_schedule(world["school"].id, world["term"].id)
    assert public.id == first.id and len(rows) == 10

    with pytest.raises(ValidationFailed):  # an accepted revision is never edited in place
        services.replace_rows(first, week_rows(), actor=world["admin"])
    second = services.working_copy(world["school"], world["term"], actor=world["admin"])
    assert second.revision == 2 and second.status == ScheduleStatus.draft and len(second.rows) == 10
    services.replace_rows(second, week_rows(science_day=3), actor=world["admin"])
    assert queries.public_schedule(world["school"].id, world["term"].id)[2].id == first.id  # still r1 public
    changes = queries.diff(first, second)
    assert len(changes["added"]) == 2 and len(changes["removed"]) == 2

    services.submit(second, actor=world["admin"])
    services.accept(second, actor=world["county"])
    db.session.refresh(first)
    assert first.status == ScheduleStatus.superseded
    assert queries.public_schedule(world["school"].id, world["term"].id)[2].id == second.id


def test_submit_refuses_a_schedule_breaking_the_policy_naming_the_day(db, world):
    rows = week_rows()
    rows[4]["ends_at"], rows[5]["starts_at"] = 1020, 1020  # Wednesday: 60 min homework, 40 min N = 40 %
    schedule = services.working_copy(world["school"], world["term"], actor=world["admin"])
    services.replace_rows(schedule, rows, actor=world["admin"])  # a draft may hold problems
    with pytest.raises(ValidationFailed) as err:
        services.submit(schedule, actor=world["admin"])
    assert "周三" in err.value.message and "40%" in err.value.message
    assert schedule.status == ScheduleStatus.draft


def test_only_the_schools_county_reviewer_decides_and_a_return_needs_a_comment(db, world, create_user):
    schedule = _filed(world)
    with pytest.raises(NotAllowed):
        services.accept(schedule, actor=create_user("county_reviewer", region_code="360102"))
    with pytest.raises(ValidationFailed):
        services.return_schedule(schedule, actor=world["county"], comment=" ")
    services.return_schedule(schedule, actor=world["county"], comment="周五请增加科普活动")
    assert schedule.status == ScheduleStatus.returned
    services.replace_rows(schedule, week_rows(science_day=4), actor=world["admin"])  # returned: editable again
    services.submit(schedule, actor=world["admin"])
    assert schedule.status == ScheduleStatus.submitted


def test_an_unfiled_schedule_on_day_32_is_late(db, world):
    county = world["county"].region
    at(date(2026, 10, 1))  # day 31: the last day to file
    filings = {f.school.id: f for f in queries.filings(county, world["term"], date(2026, 10, 1))}
    assert filings[world["other"].id].state == "not_filed" and not filings[world["other"].id].late
    _filed(world)
    day_32 = date(2026, 10, 2)
    filings = {f.school.id: f for f in queries.filings(county, world["term"], day_32)}
    assert filings[world["other"].id].late and filings[world["other"].id].state_label == "未报备"
    assert not filings[world["school"].id].late  # filed on day 31: on time
    cover = queries.coverage(county, world["term"], day_32)
    assert cover["filed_on_time"] == 1 and cover["late"] >= 1 and cover["accepted"] == 0
    city = county.parent
    assert queries.coverage(city, world["term"], day_32)["schools"] >= 2


def test_teaching_days_leave_out_the_schools_own_days(db, world):
    before = len(services.teaching_days(world["school"], world["term"]))
    services.add_non_teaching_day(world["school"], world["term"], actor=world["admin"], day=date(2026, 9, 2),
                                  reason="秋季运动会")
    assert len(services.teaching_days(world["school"], world["term"])) == before - 1
    with pytest.raises(ValidationFailed):
        services.add_non_teaching_day(world["school"], world["term"], actor=world["admin"], day=date(2027, 3, 1),
                                      reason="学期外")


# ---------------------------------------------------------------- fee notice and the order's start

@pytest.fixture
def bare_school(db, create_user):
    """A school of 红谷滩区 with own projects this term but no fee notice."""
    school = make_school_row(db)
    term = make_term(db, name="2025—2026学年第二学期", starts_on=date(2026, 2, 24), ends_on=date(2026, 7, 10))
    for i, name in enumerate(("合唱团", "书法社", "篮球社")):
        db.session.add(SchoolProject(school_id=school.id, term_id=term.id, name=name, category="arts",
                                     teacher=f"教师{i}"))
    admin = create_user("school_admin", school_id=school.id)
    return {"school": school, "term": term, "admin": admin}


def test_an_order_at_a_school_without_a_published_fee_notice_cannot_start(db, whitelisted, bare_school):
    order = orders.create_order(bare_school["school"], actor=bare_school["admin"],
                                **order_fields(whitelisted["entry"], bare_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    with pytest.raises(NotAllowed) as err:
        orders.LIFECYCLE.transition(order, "activate")
    assert "未经公示，不得收取" in err.value.message
    assert sweep.run()["orders_activated"] == 0
    assert order.status == OrderStatus.accepted

    notice = services.save_fee_notice(bare_school["school"], bare_school["term"], actor=bare_school["admin"],
                                      fee_standard="每生每月 100 元", service_time="周一至周五 16:00–17:40",
                                      content="作业辅导与拓展活动")
    assert notice.class_minutes == 40  # the city's primary class hour
    assert sweep.run()["orders_activated"] == 0  # saved, not published
    services.publish_fee_notice(notice, actor=bare_school["admin"])
    assert sweep.run()["orders_activated"] == 1
    db.session.refresh(order)
    assert order.status == OrderStatus.active


def test_a_third_party_row_must_come_from_an_order_on_its_weekdays(db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"], grades=[1, 2, 3]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    rows = week_rows()
    wednesday_n = rows[5]
    wednesday_n.update(source="order", order_id=order.id, person_id=whitelisted["person"].id, category=None,
                       teacher_name="", content="", starts_at=990, ends_at=1050)
    rows[4]["ends_at"] = 990
    report = services.check(ordering_school["school"], ordering_school["term"], services.data_rows(rows))
    assert [(e.rule, e.weekday) for e in report.errors] == [("order", 2)]  # the order runs Tuesday and Thursday
    wednesday_n["weekday"], rows[4]["weekday"] = 1, 1
    rows[2]["weekday"], rows[3]["weekday"] = 2, 2
    report = services.check(ordering_school["school"], ordering_school["term"], services.data_rows(rows))
    assert report.ok, [e.message for e in report.errors]


# ---------------------------------------------------------------- Excel

def _sheet(rows):
    wb = Workbook()
    ws = wb.active
    ws.title = importer.SHEET
    ws.append([c.header for c in importer.COLUMNS])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_the_template_round_trips(db, world):
    template = tabular.xlsx_rows(importer.build_template(), importer.SHEET)[0]
    assert [h for h in template if h] == [c.header for c in importer.COLUMNS]
    first = _filed(world)
    exported = importer.export_xlsx(first)
    services.accept(first, actor=world["county"])
    draft = services.working_copy(world["school"], world["term"], actor=world["admin"])
    services.replace_rows(draft, [], actor=world["admin"])
    importer.import_rows(draft, actor=world["admin"], data=exported)
    assert queries.diff(first, draft) == {"added": [], "removed": []}
    assert len(draft.rows) == 10


def test_a_bad_row_is_reported_and_nothing_is_imported(db, world):
    schedule = services.working_copy(world["school"], world["term"], actor=world["admin"])
    services.replace_rows(schedule, week_rows(), actor=world["admin"])
    data = _sheet([["1-2", "", "周一", "16:00", "16:40", "1", "", "本校项目", "作业辅导", "", "", "王老师", "教室", 40],
                   ["1-2", "", "周八", "16:40", "16:20", "N", "", "本校项目", "篮球", "", "", "李老师", "操场", 40]])
    with pytest.raises(tabular.ImportRejected) as err:
        importer.import_rows(schedule, actor=world["admin"], data=data)
    problems = {(p.row, p.column) for p in err.value.problems}
    assert (3, "星期") in problems and (3, "结束时间") in problems and (3, "活动类别") in problems
    assert len(schedule.rows) == 10  # nothing imported


# ---------------------------------------------------------------- pages and API

def test_editor_check_and_public_pages(db, world, app, login_as, client):
    c, _user = login_as("school_admin", school_id=world["school"].id)
    page = c.get(f"/school/schedules?term_id={world['term'].id}")
    assert page.status_code == 200 and "政策检查" in page.get_data(as_text=True)
    response = c.post(f"/school/schedules/{world['term'].id}/rows", data={
        "grade_from": 1, "grade_to": 2, "weekday": 0, "starts_at": "16:00", "ends_at": "16:40", "kind": "one",
        "source": "own", "content": "作业辅导", "teacher_name": "王老师", "venue": "教室", "class_size": 40})
    assert response.status_code == 302
    checked = c.post(f"/school/schedules/{world['term'].id}/check", data={"weekday": "0"}).get_json()
    assert not checked["ok"] and any(e["rule"] == "n_daily" and e["weekday"] == 0 for e in checked["errors"])
    assert checked["grid"][0]["days"][0]["one"] == 40
    assert client.get(f"/schedules/{world['school'].id}/{world['term'].id}").status_code == 404  # not accepted

    schedule = services.latest(world["school"], world["term"])
    services.replace_rows(schedule, week_rows(), actor=world["admin"])
    services.submit(schedule, actor=world["admin"])
    services.accept(schedule, actor=world["county"])
    public = client.get(f"/schedules/{world['school'].id}/{world['term'].id}")
    text = public.get_data(as_text=True)
    assert public.status_code == 200 and "科学探究" in text and "data:image/svg+xml" in text
    api = client.get(f"/api/v1/schedules/public/{world['school'].id}/{world['term'].id}").get_json()
    assert api["revision"] == 1 and len(api["rows"]) == 10


def test_api_validate_put_submit_and_county_filings(db, world, app, bearer):
    headers = bearer(world["admin"])
    c = app.test_client()
    term_id = world["term"].id
    rows = [{**r, "starts_at": f"{r['starts_at'] // 60}:{r['starts_at'] % 60:02d}",
             "ends_at": f"{r['ends_at'] // 60}:{r['ends_at'] % 60:02d}"} for r in week_rows()]
    rows = [{k: v for k, v in r.items() if v is not None} for r in rows]
    bad = [dict(r) for r in rows]
    bad[1]["category"] = "arts"  # no science left
    report = c.post(f"/api/v1/schedules/school/{term_id}/validate", json={"rows": bad}, headers=headers).get_json()
    assert [e["rule"] for e in report["errors"]] == ["science"]
    saved = c.put(f"/api/v1/schedules/school/{term_id}", json={"rows": rows}, headers=headers)
    assert saved.status_code == 200 and len(saved.get_json()["rows"]) == 10
    submitted = c.post(f"/api/v1/schedules/school/{term_id}/submit", headers=headers)
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    county = bearer(world["county"])
    filings = c.get(f"/api/v1/schedules/review/filings?term_id={term_id}", headers=county).get_json()
    assert {f["state"] for f in filings} >= {"submitted", "not_filed"}
    accepted = c.post(f"/api/v1/schedules/review/{submitted.get_json()['id']}/accept", json={}, headers=county)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    cover = c.get(f"/api/v1/schedules/review/coverage?term_id={term_id}", headers=county).get_json()
    assert cover["accepted"] == 1


def test_a_school_engaged_person_must_be_cleared_on_the_terms_teaching_days(db, world, client):
    from tests.web.test_school_people import add_cleared_school_person
    fresh = add_cleared_school_person(world["school"], world["admin"], n=1)
    lapsing = add_cleared_school_person(world["school"], world["admin"], n=2, check_age_days=300)
    rows = week_rows()
    rows[1].update(source="person", person_id=fresh.id, teacher_name="", content="机器人编程")
    report = services.check(world["school"], world["term"], services.data_rows(rows))
    assert report.ok, [e.message for e in report.errors]
    rows[1]["person_id"] = lapsing.id  # checks 300 days old on 2026-09-01: they lapse before the term ends
    report = services.check(world["school"], world["term"], services.data_rows(rows))
    assert [e.rule for e in report.errors] == ["clearance"] and "赵教练2" in report.errors[0].message

    rows[1]["person_id"] = fresh.id
    _filed(world, rows)
    services.accept(services.latest(world["school"], world["term"]), actor=world["county"])
    text = client.get(f"/schedules/{world['school'].id}/{world['term'].id}").get_data(as_text=True)
    assert "赵**1（校外人员）" in text and "赵教练1" not in text  # masked on the public page
    # the accepted schedule gives the school's own teacher an entry pass for her rows' day and hours
    passes = db.session.scalars(select(EntryPass).where(EntryPass.person_id == fresh.id)).all()
    assert [(p.weekdays, p.time_slot, p.school_id, p.valid_until) for p in passes] == [
        ([0], "16:40-17:40", world["school"].id, world["term"].ends_on)]
    # a new revision moves her to Wednesday: the Monday pass is revoked and a Wednesday one issued
    second = services.working_copy(world["school"], world["term"], actor=world["admin"])
    moved = week_rows()
    moved[5].update(source="person", person_id=fresh.id, teacher_name="", content="机器人编程")
    services.replace_rows(second, moved, actor=world["admin"])
    services.submit(second, actor=world["admin"])
    services.accept(second, actor=world["county"])
    live = db.session.scalars(select(EntryPass).where(EntryPass.person_id == fresh.id,
                                                      EntryPass.revoked_at.is_(None))).all()
    assert [p.weekdays for p in live] == [[2]]


def test_the_sweep_tells_a_late_school_once(db, world, create_user):
    from registry.notifications.models import Notification
    from registry.schedules import sweep as schedules_sweep
    other_admin = create_user("school_admin", school_id=world["other"].id)
    _filed(world)  # on day 1: on time
    assert schedules_sweep.run(date(2026, 10, 1)) == 0  # day 31: nobody late yet
    assert schedules_sweep.run(date(2026, 10, 2)) >= 1
    told = db.session.query(Notification).filter_by(user_id=other_admin.id).all()
    assert len(told) == 1 and "逾期未备案" in told[0].title and "2026-10-01" in told[0].body
    schedules_sweep.run(date(2026, 10, 3))
    assert db.session.query(Notification).filter_by(user_id=other_admin.id).count() == 1
    assert not db.session.query(Notification).filter_by(user_id=world["admin"].id).count()


def test_the_public_page_sends_as_many_statements_for_many_rows_as_for_few(db, world, app):
    from sqlalchemy import event
    first = _filed(world)
    services.accept(first, actor=world["county"])

    def statements():
        seen = []
        listener = lambda *args, **kwargs: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            app.test_client().get(f"/schedules/{world['school'].id}/{world['term'].id}")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements()
    second = services.working_copy(world["school"], world["term"], actor=world["admin"])
    services.replace_rows(second, week_rows() + week_rows((3, 4)) + week_rows((5, 6)), actor=world["admin"])
    services.submit(second, actor=world["admin"])
    services.accept(second, actor=world["county"])
    assert statements() == few


def test_the_import_page_lists_bad_rows_and_imports_a_good_file(db, world, login_as):
    c, _user = login_as("school_admin", school_id=world["school"].id)
    term_id = world["term"].id
    template = c.get("/school/schedules/template.xlsx")
    assert template.status_code == 200 and template.data.startswith(b"PK")
    row = ["1-2", "", "周一", "16:00", "16:40", "1", "", "本校项目", "作业辅导", "", "", "王老师", "教室"]
    bad = _sheet([row + [0]])
    page = c.post(f"/school/schedules/{term_id}/import", data={"file": (io.BytesIO(bad), "安排表.xlsx")},
                  content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "第2行" in text and "班额" in text
    assert services.latest(world["school"], world["term"]) is None  # nothing imported, not even a draft
    good = _sheet([row + [40]])
    done = c.post(f"/school/schedules/{term_id}/import", data={"file": (io.BytesIO(good), "安排表.xlsx")},
                  content_type="multipart/form-data")
    assert done.status_code == 302
    schedule = services.latest(world["school"], world["term"])
    exported = c.get(f"/school/schedules/{term_id}/revisions/{schedule.id}/export.xlsx")
    assert exported.status_code == 200 and importer.validate_rows(
        tabular.read_table(exported.data, importer.COLUMNS, sheet=importer.SHEET))[0] == []


def test_the_order_pages_say_an_order_waits_for_the_fee_notice(db, whitelisted, bare_school, login_as):
    order = orders.create_order(bare_school["school"], actor=bare_school["admin"],
                                **order_fields(whitelisted["entry"], bare_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    c, _user = login_as("school_admin", school_id=bare_school["school"].id)
    page = c.get(f"/school/orders/{order.id}").get_data(as_text=True)
    assert "未经公示，不得收取费用" in page and "服务中" not in page  # the term has begun, but it waits
    assert f"{whitelisted['entry'].project.title} <span class=\"badge badge-ok\">已接单</span>" in page

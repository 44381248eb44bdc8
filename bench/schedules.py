"""Schedule benchmarks (issue 15). Neither needs the big dataset: each builds one school of 30 classes in a
transaction that is rolled back.

- schedule_validate_ms: the policy check of a full schedule of a 30-class school (6 grades × 5 classes, each
  class a group with homework and an N activity every day, 300 rows): services.check, i.e. the context's reads
  (teaching days, orders, own projects, people) plus the pure validation; the median over repeated runs. The
  pure validation alone is reported as schedule_validate_pure_ms. Target ≤ 100 ms.
- schedule_public_page_statements: statements the public page (晒课表) sends to read and render an accepted
  schedule of 300 rows; schedule_public_page_statements_few is the same page with 10 rows (equal = constant).
"""
import statistics
import time
from datetime import date

from bench.benchmarks import count_statements

CLASSES = 5
GRADES = range(1, 7)


def _rows():
    from registry.schedules.validation import Row
    rows, line = [], 0
    for grade in GRADES:
        for k in range(1, CLASSES + 1):
            for day in range(5):
                line += 1
                rows.append(Row(grade, grade, day, 960, 1000, "one", "own", "作业辅导", class_name=f"（{k}）班",
                                teacher_name=f"班主任{grade}{k}{day}", venue=f"{grade}（{k}）班教室", class_size=45,
                                line=line))
                line += 1
                rows.append(Row(grade, grade, day, 1000, 1060, "n", "own", "科学探究" if day == 0 else "篮球",
                                category="science" if day == 0 else "sports", class_name=f"（{k}）班",
                                teacher_name=f"活动教师{grade}{k}{day}", venue="操场", class_size=45, line=line))
    return rows


def _school(db, n=0):
    from sqlalchemy import select

    from registry.regions.models import Region, RegionLevel
    from registry.schools.models import School, SchoolType, Term
    county = db.session.scalar(select(Region).where(Region.level == RegionLevel.county).limit(1))
    school = School(name=f"基准测试小学{n}", code=f"99999999{n:02d}", county_id=county.id, city_id=county.parent_id,
                    school_type=SchoolType.primary, address="", student_count=1350)
    term = Term(name=f"基准测试学期{n}", starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 22))
    db.session.add_all([school, term])
    db.session.flush()
    return school, term


def validate_ms(app, kind, seconds=5.0, **_):
    from registry.extensions import db
    from registry.schedules import services, validation
    with app.app_context():
        try:
            school, term = _school(db)
            rows = _rows()
            report = services.check(school, term, rows)
            assert report.ok, report.errors[:3]
            full, pure = [], []
            deadline = time.perf_counter() + seconds
            while len(full) < 200 and (len(full) < 5 or time.perf_counter() < deadline):
                start = time.perf_counter()
                ctx = services.context_for(school, term, rows)
                middle = time.perf_counter()
                validation.validate(rows, ctx)
                end = time.perf_counter()
                full.append((end - start) * 1000)
                pure.append((end - middle) * 1000)
        finally:
            db.session.rollback()
    return [(f"schedule_validate_ms_{kind}", round(statistics.median(full), 1)),
            (f"schedule_validate_pure_ms_{kind}", round(statistics.median(pure), 1)),
            (f"schedule_validate_rows_{kind}", len(rows))]


def _accepted(db, school, term, rows):
    from registry.schedules.models import Schedule, ScheduleRow, ScheduleStatus
    from registry.schedules.services import ROW_FIELDS
    schedule = Schedule(school_id=school.id, term_id=term.id, revision=1, status=ScheduleStatus.accepted, version=1)
    schedule.rows = [ScheduleRow(**{k: getattr(r, k) for k in ROW_FIELDS}) for r in rows]
    db.session.add(schedule)
    db.session.flush()
    db.session.expire_all()


def public_page_statements(app, kind, **_):
    from flask import render_template

    from registry.extensions import db
    from registry.projects.models import Category
    from registry.schedules import queries
    from registry.schedules.models import RowKind, RowSource
    counts = {}
    with app.app_context():
        try:
            for n, (label, take) in enumerate((("few", 10), ("many", None)), start=1):
                school, term = _school(db, n)
                rows = _rows()[:take] if take else _rows()
                for r in rows:
                    r.kind, r.source = RowKind(r.kind), RowSource(r.source)
                    r.category = Category(r.category) if r.category else None
                _accepted(db, school, term, rows)
                with app.test_request_context(f"/schedules/{school.id}/{term.id}"):
                    with count_statements(db.engine) as counter:
                        school_, term_, schedule, public_rows, notice = queries.public_schedule(school.id, term.id)
                        render_template("schedules/public.html", school=school_, term=term_, schedule=schedule,
                                        rows=public_rows, notice=notice, url="http://localhost/", qr="")
                counts[label] = (counter["n"], len(public_rows))
        finally:
            db.session.rollback()
    return [(f"schedule_public_page_statements_{kind}", counts["many"][0]),
            (f"schedule_public_page_statements_few_{kind}", counts["few"][0]),
            (f"schedule_public_page_rows_{kind}", counts["many"][1])]

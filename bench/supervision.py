"""Supervision benchmarks (issue 18): the dashboards and the monthly report on the provincial dataset.

The dataset is extended, once, with what supervision records (extend(): committed, skipped when rows exist):
one inspector per county, every school assigned to its county's inspector from the term's start, a visit
to ~85 % of the schools in each month of the term up to AS_OF (eight checklist items each), and a
rectification task for ~12 % of the visits (closed, answered or still open, some past their deadline).
Complaints, evaluations and scans are not generated: their indicators have no source yet (暂无数据).

Figures (the clock frozen at AS_OF, as every benchmark):
  dashboard_province_ms_<db>, dashboard_county_ms_<db>
      the median of COLD_REQUESTS requests of GET /api/v1/supervision/dashboard/regions/<id> (province; the
      county with the most schools) with a province supervisor's bearer token, through the whole Flask
      stack. Nothing is cached: every request is cold. Target ≤ 300 ms at province level (PostgreSQL).
  dashboard_statements_<db>, dashboard_statements_county_<db>
      the SQL statements of one dashboard request (province; county). The same number at every level and
      scale: each indicator is one aggregate statement for the children and one for the trend.
  monthly_report_seconds_<db>
      the province's monthly report for the month before AS_OF: numbers and PDF (no PDF cache). Target ≤ 5 s.
"""
import random
import statistics
import time
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from bench.benchmarks import count_statements, frozen_clock, note
from bench.generate import AS_OF

COLD_REQUESTS = 7
VISIT_SHARE, TASK_SHARE = 0.85, 0.12
TERM_START = date(2026, 9, 1)
SEED = 1818


def extend(db):
    """Add inspectors, assignments, visits, items and tasks once (committed). Returns the rows added."""
    from registry.auth.models import User
    from registry.auth.roles import Role
    from registry.core import bulk, clock
    from registry.regions.models import Region, RegionLevel
    from registry.schools.models import School
    from registry.supervision.models import Assignment, CheckItem, Task, Visit, VisitItem
    if db.session.scalar(select(func.count()).select_from(Assignment)):
        return 0
    rng = random.Random(SEED)
    password_hash = db.session.scalar(select(User.password_hash).limit(1))
    now = clock.utcnow()
    counties = db.session.execute(select(Region.id, Region.code).where(Region.level == RegionLevel.county)).all()
    bulk.insert_rows(User, [{"username": f"bench_inspector_{code}", "display_name": f"责任督学{code}",
                             "role": Role.inspector, "region_id": cid, "password_hash": password_hash,
                             "password_changed_at": now, "must_change_password": False, "failed_logins": 0,
                             "created_at": now} for cid, code in counties])
    inspector_of = dict(db.session.execute(select(User.region_id, User.id).where(
        User.username.like("bench_inspector_%"))).all())
    schools = db.session.execute(select(School.id, School.county_id, School.city_id).order_by(School.id)).all()
    bulk.insert_rows(Assignment, [{"inspector_id": inspector_of[s.county_id], "school_id": s.id,
                                   "county_id": s.county_id, "started_on": TERM_START, "created_at": now}
                                  for s in schools])
    months = []
    cursor = TERM_START
    while cursor <= AS_OF:
        months.append(cursor)
        cursor = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
    visits = []
    for month in months:
        last = min((month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1), AS_OF)
        for s in schools:
            if rng.random() < VISIT_SHARE:
                day = month + timedelta(days=rng.randrange((last - month).days + 1))
                at = datetime(day.year, day.month, day.day, 1 + rng.randrange(8), rng.randrange(60))
                visits.append({"school_id": s.id, "inspector_id": inspector_of[s.county_id], "county_id": s.county_id,
                               "city_id": s.city_id, "visited_at": at, "visited_on": day, "summary": "",
                               "created_at": at})
    for start in range(0, len(visits), 5000):
        bulk.insert_rows(Visit, visits[start:start + 5000])
    rows = db.session.execute(select(Visit.id, Visit.school_id, Visit.county_id, Visit.city_id, Visit.visited_on,
                                     Visit.inspector_id, Visit.visited_at)).all()
    items, tasks = [], []
    keys = list(CheckItem)
    for v in rows:
        failing = keys[rng.randrange(len(keys))] if rng.random() < TASK_SHARE else None
        for position, key in enumerate(keys):
            items.append({"visit_id": v.id, "position": position, "item": key,
                          "result": "fails" if key == failing else "conforms",
                          "note": "发现问题" if key == failing else ""})
        if failing is not None:
            deadline = v.visited_on + timedelta(days=10)
            fate = rng.random()
            closed = fate < 0.6 and deadline < AS_OF
            responded = closed or fate < 0.75
            answered_at = v.visited_at + timedelta(days=5)
            tasks.append({"visit_id": v.id, "item": failing, "target": "school", "school_id": v.school_id,
                          "provider_id": None, "county_id": v.county_id, "city_id": v.city_id,
                          "requirement": "限期整改", "deadline": deadline,
                          "status": "closed" if closed else "responded" if responded else "open", "version": 1,
                          "response": "已整改" if responded else None,
                          "responded_at": answered_at if responded else None,
                          "responded_by_id": None, "review_note": None,
                          "closed_at": answered_at + timedelta(days=2) if closed else None,
                          "created_by_id": v.inspector_id, "created_at": v.visited_at})
    for start in range(0, len(items), 20000):
        bulk.insert_rows(VisitItem, items[start:start + 20000])
    for start in range(0, len(tasks), 5000):
        bulk.insert_rows(Task, tasks[start:start + 5000])
    db.session.commit()
    return len(visits) + len(items) + len(tasks) + len(schools)


def _supervisor(db):
    """A province supervisor with a bearer token (the token is deleted afterwards by the caller)."""
    from registry.auth import services as auth
    from registry.auth.models import User
    from registry.auth.roles import Role
    from registry.core import bulk, clock
    from registry.regions.models import Region, RegionLevel
    province = db.session.scalar(select(Region).where(Region.level == RegionLevel.province))
    user = db.session.scalar(select(User).where(User.username == "bench_province_supervisor"))
    if user is None:
        bulk.insert_rows(User, [{
            "username": "bench_province_supervisor", "display_name": "省级督导", "role": Role.province_supervisor,
            "region_id": province.id, "password_hash": db.session.scalar(select(User.password_hash).limit(1)),
            "password_changed_at": clock.utcnow(), "must_change_password": False, "failed_logins": 0,
            "created_at": clock.utcnow()}])
        user = db.session.scalar(select(User).where(User.username == "bench_province_supervisor"))
    token, plaintext = auth.create_token(user, name="bench")
    db.session.commit()
    return province, token, plaintext


def _median_ms(client, url, headers):
    times = []
    for _ in range(COLD_REQUESTS):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return round(statistics.median(times), 1)


def dashboards(app, kind, **_):
    from registry.extensions import db
    from registry.regions.models import Region
    from registry.schools.models import School
    from registry.supervision import indicators, pdf
    with app.app_context(), frozen_clock():
        db.session.remove()
        started = time.perf_counter()
        added = extend(db)
        if added:
            note(f"supervision[{kind}]: extended the dataset with {added} rows in {time.perf_counter() - started:.1f}s")
        province, token, plaintext = _supervisor(db)
        county_id = db.session.scalar(select(School.county_id).group_by(School.county_id)
                                      .order_by(func.count().desc(), School.county_id).limit(1))
        ids = {"province": province.id, "county": county_id}
        headers = {"Authorization": f"Bearer {plaintext}"}
        client = app.test_client()
        results = []
        try:
            for label in ("province", "county"):
                url = f"/api/v1/supervision/dashboard/regions/{ids[label]}"
                client.get(url, headers=headers)   # the token's first use writes its last-use time
                results.append((f"dashboard_{label}_ms_{kind}", _median_ms(client, url, headers)))
            for label, region_id in (("", ids["province"]), ("_county", ids["county"])):
                db.session.remove()
                region = db.session.get(Region, region_id)
                with count_statements(db.engine) as counter:
                    indicators.dashboard(region, AS_OF)
                results.append((f"dashboard_statements{label}_{kind}", counter["n"]))
            db.session.remove()
            month = (AS_OF.replace(day=1) - timedelta(days=1)).replace(day=1)
            app.config["PDF_CACHE_DIR"] = ""
            started = time.perf_counter()
            report = pdf.monthly_report(db.session.get(Region, ids["province"]), month)
            data = pdf.render_report(report)
            results.append((f"monthly_report_seconds_{kind}", round(time.perf_counter() - started, 2)))
            note(f"supervision[{kind}]: province report {len(data) // 1024} KB, "
                 f"{len(report.unvisited)} schools unvisited in {month:%Y-%m}")
        finally:
            db.session.rollback()
            db.session.delete(db.session.merge(token, load=True))
            db.session.commit()
            db.session.remove()
    return results

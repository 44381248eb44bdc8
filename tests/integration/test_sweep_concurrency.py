"""Two `flask registry sweep` processes started at the same time do the work once (PostgreSQL).

The data lives in a dedicated PostgreSQL database and is committed (the sweeps are separate processes):
five whitelisted providers built through the services under a frozen clock, each set up so that one rule
fires on 2026-03-20 (an expired insurance, stale checks, an adverse check, a manual suspension whose lift
date has passed, a healthy one with an accepted order and an insurance expiring within 30 days).

To be sure the two runs really overlap, the test holds the sweep's advisory lock while it starts both
processes and waits until PostgreSQL shows both of them queued on that lock; then it lets go. Each rule's
effect must exist exactly once and one of the two runs must report all zeros.
"""
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB_URL

pytestmark = pytest.mark.skipif(
    make_url(TEST_DB_URL).get_backend_name() != "postgresql",
    reason="two sweeps at once need PostgreSQL (advisory lock); the test database is SQLite")

REPO_ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 3, 20)
WAIT_SECONDS = 300  # how long the processes may take to start and queue on the lock (a heavily loaded machine)


@pytest.fixture
def sweep_database():
    from tests.browser.conftest import _create_pg_database, _drop_pg_database
    url = make_url(TEST_DB_URL)
    name = f"registry_test_sweep_{os.getpid()}"
    _create_pg_database(url, name)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_pg_database(url, name)


def _build(url):
    """Committed data through the services, with the clock frozen (published 2026-03-10)."""
    from registry.adjustments import services as adjustments
    from registry.applications import services as applications
    from registry.auth import services as auth
    from registry.core import clock
    from registry.extensions import db
    from registry.orders import services as orders
    from registry.people import services as people
    from registry.regions import services as regions
    from registry.reviews import services as reviews
    from registry.schools.models import SchoolProject
    from registry.whitelist import services as whitelist
    from registry.whitelist.models import WhitelistEntry
    from tests.conftest import make_app
    from tests.fixtures.accounts import PASSWORD
    from tests.fixtures.orders import order_fields
    from tests.fixtures.providers import add_cleared_person, add_documents, add_project, make_provider_row
    from tests.fixtures.reviews import at
    from tests.fixtures.schools import make_school_row, make_term

    app = make_app(SQLALCHEMY_DATABASE_URI=url)

    def user(username, role, **kwargs):
        return auth.create_user(username=username, display_name=username, role=role, password=PASSWORD,
                                must_change_password=False, email=f"{username}@example.invalid", **kwargs)

    with app.app_context():
        try:
            db.create_all()
            regions.seed_jiangxi()
            county = user("sw_county", "county_reviewer", region_id=regions.get_by_code("360113").id)
            city = user("sw_city", "city_reviewer", region_id=regions.get_by_code("360100").id)
            at(date(2026, 2, 20))
            built = {}
            for n, key in enumerate(("doc", "staff", "adverse", "lift", "healthy"), start=1):
                provider = make_provider_row(db, name=f"并发测试{key}机构")
                admin = user(f"sw_{key}", "provider_admin", provider_id=provider.id)
                add_documents(provider, admin, insurance_expiry={"doc": date(2026, 3, 15),
                                                                 "healthy": date(2026, 4, 10)}.get(key))
                person = add_cleared_person(provider, admin, n=700 + n, check_age_days=340 if key == "staff" else 30)
                project = add_project(provider, admin, staff=[person])
                application = applications.create_application(provider, actor=admin, project_ids=[project.id])
                applications.submit(application, actor=admin)
                built[key] = {"provider": provider, "admin": admin, "person": person, "application": application,
                              "project": project}
            at(date(2026, 3, 2))
            batch = whitelist.create_batch(actor=city)
            for item in built.values():
                reviews.pass_to_city(item["application"], actor=county)
                whitelist.add_to_batch(batch, item["application"], actor=city)
            whitelist.start_publicity(batch, actor=city)
            at(date(2026, 3, 10))
            whitelist.publish(batch, actor=city)
            school = make_school_row(db)
            term = make_term(db, name="2025—2026学年第二学期", starts_on=date(2026, 2, 24), ends_on=date(2026, 7, 10))
            for i in range(12):
                db.session.add(SchoolProject(school_id=school.id, term_id=term.id, name=f"自有项目{i}",
                                             category="arts", teacher=f"教师{i}"))
            school_admin = user("sw_school", "school_admin", school_id=school.id)
            db.session.flush()
            for key, item in built.items():
                entry = db.session.scalar(select(WhitelistEntry).where(WhitelistEntry.project_id == item["project"].id))
                order = orders.create_order(school, actor=school_admin, **order_fields(entry, term))
                orders.accept_order(order, actor=item["admin"], person_ids=[item["person"].id])
            adjustments.suspend(built["lift"]["provider"], actor=city, reason_category="other", reason="待核查",
                                lift_on=date(2026, 3, 15))
            people.add_check(built["adverse"]["person"], actor=built["adverse"]["admin"], check_type="criminal",
                             result="adverse", check_date=date(2026, 3, 10), authority="南昌市公安局")
            db.session.commit()
        finally:
            clock.freeze(None)
            db.session.remove()
    return app


def _start_sweep(url):
    env = {**os.environ, "REGISTRY_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "registry", "sweep",
                             "--as-of", AS_OF.isoformat()], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _summary(stdout):
    values = {}
    for line in stdout.strip().splitlines():
        label, _, value = line.rpartition(": ")
        if value.isdigit():
            values[label] = int(value)
    return values


def _waiting_on_sweep_lock(conn):
    from registry.adjustments.sweep import LOCK_KEY
    return conn.execute(text(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND l.objid = :key AND NOT l.granted AND d.datname = current_database()"),
        {"key": LOCK_KEY}).scalar()


def test_two_sweeps_at_once_do_the_work_once(sweep_database):
    import time

    from registry.adjustments.models import ProviderAction
    from registry.adjustments.models_sweep import SweepRun
    from registry.adjustments.sweep import LOCK_KEY
    from registry.core.lifecycle import StatusChange
    from registry.notifications.models import Notification, OutboxMessage
    from registry.people.models import PersonBan
    from registry.whitelist.models import ChangeFeedItem

    _build(sweep_database)
    engine = create_engine(sweep_database)
    try:
        with engine.connect() as conn:  # what the sweeps add comes after these rows
            before = {model: conn.execute(select(func.coalesce(func.max(model.id), 0))).scalar()
                      for model in (Notification, OutboxMessage)}
        with engine.connect() as holder:
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            holder.commit()
            runs = [_start_sweep(sweep_database), _start_sweep(sweep_database)]
            with engine.connect() as watcher:
                deadline = time.monotonic() + WAIT_SECONDS
                while _waiting_on_sweep_lock(watcher) < 2:
                    exited = [r for r in runs if r.poll() is not None]
                    assert not exited, f"a sweep ended before reaching the lock: {exited[0].communicate()}"
                    assert time.monotonic() < deadline, "the two sweeps never queued on the advisory lock together"
                    time.sleep(0.2)
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            holder.commit()
        outputs = [r.communicate(timeout=WAIT_SECONDS) for r in runs]
        for run, (out, err) in zip(runs, outputs):
            assert run.returncode == 0, err[-3000:]
        summaries = sorted((_summary(out) for out, _err in outputs), key=lambda s: sum(s.values()))
        second, first = summaries
        assert set(second) == set(first) and len(first) >= 9
        assert all(v == 0 for v in second.values()), second
        assert first["entries suspended (document expired)"] == 1
        assert first["entries suspended (no cleared staff)"] == 2  # stale checks; the adverse person's project
        assert first["adverse checks banned"] == 1
        assert first["orders flagged (staff not cleared)"] == 1
        assert first["suspensions lifted"] == 1
        assert first["orders activated"] == 1
        assert first["expiry warnings sent"] >= 1

        with engine.connect() as conn:
            def duplicates(*columns, where=None):
                stmt = select(*columns, func.count()).group_by(*columns).having(func.count() > 1)
                if where is not None:
                    stmt = stmt.where(where)
                return conn.execute(stmt).all()

            assert conn.execute(select(func.count()).select_from(SweepRun)).scalar() == 2
            assert conn.execute(select(func.count()).select_from(ProviderAction)
                                .where(ProviderAction.rule.isnot(None))).scalar() == 5
            assert duplicates(ProviderAction.dedupe_key, where=ProviderAction.dedupe_key.isnot(None)) == []
            assert duplicates(ProviderAction.provider_id, ProviderAction.kind, ProviderAction.rule) == []
            assert duplicates(ChangeFeedItem.entry_id, ChangeFeedItem.kind, ChangeFeedItem.happened_on) == []
            assert duplicates(StatusChange.object_type, StatusChange.object_id, StatusChange.action,
                              where=StatusChange.rule.isnot(None)) == []
            assert duplicates(Notification.user_id, Notification.dedupe_key,
                              where=Notification.dedupe_key.isnot(None)) == []
            # Notices without a dedupe key (orders suspended, resumed) are sent once too.
            assert duplicates(Notification.user_id, Notification.title, Notification.body,
                              where=Notification.id > before[Notification]) == []
            assert duplicates(OutboxMessage.to_addr, OutboxMessage.subject, OutboxMessage.body,
                              where=OutboxMessage.id > before[OutboxMessage]) == []
            from registry.auth.models import User
            school_admin = select(User.id).where(User.username == "sw_school").scalar_subquery()
            school_notices = conn.execute(select(Notification.title, func.count()).where(
                Notification.id > before[Notification], Notification.user_id == school_admin)
                .group_by(Notification.title)).all()
            assert dict(school_notices) == {"点单服务已暂停": 3, "点单服务已恢复": 1, "订单人员不再符合条件": 1}
            assert conn.execute(select(func.count()).select_from(PersonBan)).scalar() == 1
            feed = conn.execute(select(ChangeFeedItem.kind, func.count()).where(ChangeFeedItem.happened_on == AS_OF)
                                .group_by(ChangeFeedItem.kind)).all()
            assert {kind.value if hasattr(kind, "value") else kind: n for kind, n in feed} == {
                "suspended": 3, "reinstated": 1}
    finally:
        engine.dispose()

"""One survey code sent by several parents at once gives exactly one answer (issue 16): the code is claimed by a
conditional UPDATE whose row count decides, and the response's unique code_id backs it up.

Requests on separate connections see each other's work only once it is committed, so this module builds its own
PostgreSQL database with committed data (a whitelisted project, a school's order, a sheet of codes), as
tests/integration/test_totp_race.py does. A barrier holds every request just before its UPDATE."""
import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from registry.core import clock
from registry.extensions import db as _db
from registry.quality import services as quality
from registry.quality.models import SurveyResponse
from tests.conftest import TEST_DB_URL
from tests.fixtures.race_db import committed_app

URL = make_url(TEST_DB_URL)
PARALLEL = 4

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(URL.get_backend_name() != "postgresql",
                       reason="racing writers need PostgreSQL: SQLite serialises writers per file"),
]

ANSWER = {"satisfaction": "satisfied", "interest": "high", "safety": "safe", "extra_fee": False, "voluntary": True}
SURVEY_DAY = date(2026, 6, 20)


def _world(codes):
    from registry.applications import services as applications
    from registry.auth import services as auth
    from registry.batches import services as batches
    from registry.regions import services as regions
    from registry.reviews import services as reviews
    from registry.whitelist.models import WhitelistEntry
    from tests.fixtures.accounts import PASSWORD
    from tests.fixtures.providers import add_cleared_person, add_documents, add_project, make_provider_row
    from tests.fixtures.quality import served_order
    from tests.fixtures.reviews import at, verify_all
    from tests.fixtures.schools import make_school_row, make_term

    def user(username, role, **kwargs):
        return auth.create_user(username=username, display_name=username, role=role, password=PASSWORD,
                                must_change_password=False, **kwargs)

    try:
        county = user("sr_county", "county_reviewer", region_id=regions.get_by_code("360113").id)
        city = user("sr_city", "city_reviewer", region_id=regions.get_by_code("360100").id)
        at(date(2026, 2, 20))
        provider = make_provider_row(_db, name="问卷并发测试机构")
        admin = user("sr_provider", "provider_admin", provider_id=provider.id)
        add_documents(provider, admin)
        person = add_cleared_person(provider, admin, n=880)
        project = add_project(provider, admin, staff=[person])
        application = applications.create_application(provider, actor=admin, project_ids=[project.id])
        applications.submit(application, actor=admin)
        at(date(2026, 3, 2))
        verify_all(application, county)
        reviews.pass_to_city(application, actor=county)
        batch = batches.create_batch(actor=city)
        batches.add_to_batch(batch, application, actor=city)
        batches.start_publicity(batch, actor=city)
        at(date(2026, 3, 10))
        batches.publish(batch, actor=city)
        entry = _db.session.scalar(select(WhitelistEntry).where(WhitelistEntry.project_id == project.id))
        school = make_school_row(_db)
        term = make_term(_db, name="2025—2026学年第二学期", starts_on=date(2026, 2, 24), ends_on=date(2026, 7, 10))
        order = served_order(_db, entry, school, term, expected=10)
        at(SURVEY_DAY)
        codes += quality.issue_codes(order, actor=None)
    finally:
        clock.freeze(None)


@pytest.fixture(scope="module")
def race():
    codes = []
    with committed_app("registry_test_survey_race", setup=lambda: _world(codes)) as app:
        yield app, codes


def test_one_code_sent_four_times_at_once_gives_one_answer(race, monkeypatch):
    app, codes = race
    barrier = threading.Barrier(PARALLEL, timeout=30)
    waited = threading.local()
    original = quality.hash_code

    def hash_code(code):
        if not getattr(waited, "done", False):   # the first call of each request: just before its UPDATE
            waited.done = True
            barrier.wait()
        return original(code)

    monkeypatch.setattr(quality, "hash_code", hash_code)
    responses = [None] * PARALLEL

    def send(i):
        responses[i] = app.test_client().post(f"/api/v1/survey/{codes[0]}", json=ANSWER)

    clock.freeze(clock.utcnow().replace(year=2026, month=6, day=20, hour=4))
    try:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(PARALLEL)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        clock.freeze(None)
    assert all(r is not None for r in responses), "a request did not finish"
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (PARALLEL - 1), [r.get_data(as_text=True) for r in responses]
    assert {r.json["code"] for r in responses if r.status_code == 409} == {"code_used"}
    with app.app_context():
        answers = _db.session.scalar(select(func.count()).select_from(SurveyResponse))
        _db.session.remove()
    assert answers == 1

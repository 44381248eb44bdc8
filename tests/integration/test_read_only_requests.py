"""Read-only GETs on PostgreSQL run their statements on the autocommit engine (registry.core.reads) and
skip the request's commit; what they did change through the ORM (a bearer token's last use) is still
saved.

Needs committed data outside the tests' rolled-back transaction (the switch to autocommit happens only
on a session bound to the engine), so it runs on a database of its own."""
import os
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import make_url

from registry.auth import services as auth
from registry.auth.models import ApiToken
from registry.core import clock
from registry.core.reads import reads_engine
from registry.extensions import db
from registry.regions import services as regions
from tests.conftest import TEST_DB_URL, make_app
from tests.fixtures.redis_cache import REDIS_URL, forget_prefix, new_prefix, redis_or_skip
from tests.fixtures.schools import make_school_row

pytestmark = pytest.mark.skipif(make_url(TEST_DB_URL).get_backend_name() != "postgresql",
                                reason="autocommit reads are a PostgreSQL feature; the test database is SQLite")


@pytest.fixture
def committed():
    """An app on a database of its own with a school admin and a token; the school catalog is cached
    (so a repeated request runs no query after authentication, and nothing autoflushes the token)."""
    from tests.browser.conftest import _create_pg_database, _drop_pg_database
    cache = redis_or_skip()
    prefix = new_prefix()
    url = make_url(TEST_DB_URL)
    name = f"registry_test_reads_{os.getpid()}"
    _create_pg_database(url, name)
    app = make_app(SQLALCHEMY_DATABASE_URI=url.set(database=name).render_as_string(hide_password=False),
                   CACHE_URL=REDIS_URL, CACHE_KEY_PREFIX=prefix)
    try:
        with app.app_context():
            db.create_all()
            regions.seed_jiangxi()
            school = make_school_row(db)
            user = auth.create_user(role="school_admin", username="reader", display_name="只读测试",
                                    password="Xk9#mQ2v!pL7", must_change_password=False, school_id=school.id)
            db.session.flush()
            row, plaintext = auth.create_token(user, name="test")
            db.session.commit()
            token_id = row.id
            db.session.remove()
        yield app, token_id, {"Authorization": f"Bearer {plaintext}"}
    finally:
        clock.freeze(None)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
            reads_engine().dispose()
        _drop_pg_database(url, name)
        forget_prefix(cache, prefix)


def _last_used(app, token_id):
    with app.app_context():
        try:
            return db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
        finally:
            db.session.remove()


def test_a_read_only_request_saves_the_tokens_last_use(committed):
    app, token_id, headers = committed
    client = app.test_client()
    start = datetime(2026, 11, 30, 4, 0)   # noon in China: five minutes later is the same day
    clock.freeze(start)
    assert _last_used(app, token_id) is None
    response = client.get("/api/v1/school/catalog", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert _last_used(app, token_id) == start

    clock.freeze(start + timedelta(minutes=5))   # the same day: the catalog comes from the cache
    statements = {"main": [], "reads": []}
    with app.app_context():
        for engine, seen in ((db.engine, statements["main"]), (reads_engine(), statements["reads"])):
            event.listen(engine, "before_cursor_execute", lambda *args, seen=seen: seen.append(args[2].split()[0]))
    assert client.get("/api/v1/school/catalog", headers=headers).status_code == 200
    # the token (with its user), then its last use, on the autocommit engine; none on the other
    assert statements == {"main": [], "reads": ["SELECT", "UPDATE"]}
    assert _last_used(app, token_id) == start + timedelta(minutes=5)


def test_the_autocommit_engine_runs_no_transaction(committed):
    """Its connections are in autocommit: a statement is committed as it runs, so another connection
    sees a write without a COMMIT (the control: the same write on the main engine is not seen)."""
    app, token_id, _headers = committed
    when = datetime(2026, 11, 30, 4, 0)
    with app.app_context():
        for engine, committed_at_once in ((reads_engine(), True), (db.engine, False)):
            with engine.connect() as conn:
                conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=when))
                assert (_last_used(app, token_id) == when) is committed_at_once
                conn.rollback()
            when += timedelta(minutes=1)


def test_mutating_requests_stay_on_the_main_engine(committed):
    """An endpoint not declared reads_only (the school's own orders) runs in the main engine's transaction."""
    app, _token_id, headers = committed
    seen = []
    with app.app_context():
        event.listen(reads_engine(), "before_cursor_execute", lambda *args: seen.append(args[2]))
    response = app.test_client().get("/api/v1/school/orders", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert seen == []

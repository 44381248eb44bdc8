"""SQLite under `make run`'s threaded server: write transactions start with BEGIN IMMEDIATE, so concurrent
writers wait on the busy timeout instead of failing with "database is locked"; anonymous reads_only GETs
keep a deferred BEGIN and are answered while another connection holds the write lock."""
import sqlite3
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from registry.audit.models import AuditLog
from registry.extensions import db
from tests.conftest import TEST_DB_URL, make_app

pytestmark = pytest.mark.skipif(make_url(TEST_DB_URL).get_backend_name() != "sqlite",
                                reason="SQLite's locking: the test database is PostgreSQL")

THREADS = 2
REQUESTS_PER_THREAD = 15


@pytest.fixture
def sqlite_file_app(tmp_path):
    """An app on a SQLite file of its own, whose requests really commit."""
    path = tmp_path / "registry.db"
    application = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with application.app_context():
        db.create_all()
        db.session.remove()
    yield application, path
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_concurrent_writes_through_the_app_all_succeed(sqlite_file_app):
    """Two threads post failed logins at once; each one writes an audit row (kept although the answer is an
    error). Every request is answered as a failed login, none with "database is locked"."""
    application, _path = sqlite_file_app
    barrier = threading.Barrier(THREADS)
    statuses = [[] for _ in range(THREADS)]

    def worker(n):
        client = application.test_client()
        barrier.wait()
        for i in range(REQUESTS_PER_THREAD):
            response = client.post("/login", data={"username": f"nobody_{n}_{i}", "password": "wrong"})
            statuses[n].append(response.status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [[401] * REQUESTS_PER_THREAD] * THREADS
    with application.app_context():
        logged = db.session.scalar(select(func.count()).select_from(AuditLog)
                                   .where(AuditLog.action == "login", AuditLog.result == "failure"))
    assert logged == THREADS * REQUESTS_PER_THREAD


def test_an_anonymous_read_only_get_does_not_wait_for_the_write_lock(sqlite_file_app):
    application, path = sqlite_file_app
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")   # another writer holds the lock for as long as this test runs
        response = application.test_client().get("/api/v1/whitelist")
        assert response.status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _school_token(application, last_used_now):
    """A school administrator's token, committed; its last use is now (nothing to write) or never."""
    from registry.auth import services as auth
    from registry.auth.models import ApiToken
    from registry.core import clock
    from registry.regions import services as regions
    from tests.fixtures.accounts import PASSWORD
    from tests.fixtures.schools import make_school_row

    with application.app_context():
        regions.seed_jiangxi()
        school = make_school_row(db)
        user = auth.create_user(username="gate_school", display_name="学校管理员", role="school_admin",
                                password=PASSWORD, school_id=school.id, must_change_password=False)
        row, plaintext = auth.create_token(user, name="catalog")
        db.session.flush()
        if last_used_now:
            db.session.get(ApiToken, row.id).last_used_at = clock.utcnow()
        db.session.commit()
        token_id = row.id
        db.session.remove()
    return {"Authorization": f"Bearer {plaintext}"}, token_id


def test_an_authenticated_read_only_get_does_not_wait_for_the_write_lock(sqlite_file_app):
    """The school catalog with a bearer token reads under a deferred BEGIN, as anonymous reads do: a writer
    holding the lock does not make it wait (with BEGIN IMMEDIATE it waited the busy timeout, then 503)."""
    application, path = sqlite_file_app
    headers, _token_id = _school_token(application, last_used_now=True)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        response = application.test_client().get("/api/v1/school/catalog", headers=headers)
        assert response.status_code == 200, response.get_json()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_read_only_get_is_served_when_its_bookkeeping_write_is_refused(sqlite_file_app):
    """The token's first use is a write (last_used_at). While another writer holds the lock past the busy
    timeout, that write is refused: the catalog is served all the same, and the write waits for a later
    request."""
    from registry.auth.models import ApiToken

    application, path = sqlite_file_app
    headers, token_id = _school_token(application, last_used_now=False)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        response = application.test_client().get("/api/v1/school/catalog", headers=headers)
        assert response.status_code == 200, response.get_json()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with application.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is None
    assert application.test_client().get("/api/v1/school/catalog", headers=headers).status_code == 200
    with application.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is not None

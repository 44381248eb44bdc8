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

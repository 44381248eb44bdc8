"""Shared fixtures: app, db (rolled back after each test), client, login helpers and factories.

The database comes from REGISTRY_TEST_DATABASE_URL (the Makefile runs the suite on
SQLite and then on PostgreSQL). The schema is created once per session; every test
runs inside a transaction that is rolled back, and request commits become savepoints.
"""
import os
import tempfile

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from registry import create_app
from registry.core import clock
from registry.extensions import db as _db

pytest_plugins = ["tests.fixtures.accounts", "tests.fixtures.providers", "tests.fixtures.reviews",
                  "tests.fixtures.schools", "tests.fixtures.orders"]
pytest_plugins += ["tests.fixtures.supervision"]  # issue 18: supervision
pytest_plugins += ["tests.fixtures.quality"]  # issue 16: quality

def _per_worker(url):
    """Under pytest-xdist each worker gets its own database; on PostgreSQL it is created when missing."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url.startswith("sqlite"):
        return url
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}" if worker else parsed.database
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


TEST_DB_URL = _per_worker(os.environ.get("REGISTRY_TEST_DATABASE_URL") or (
    "sqlite:///" + os.path.join(tempfile.gettempdir(), f"registry-test-{os.getpid()}.db")))

# Cheap scrypt for speed; tests/web/test_passwords.py proves the production default is N=2^17.
TEST_CONFIG = {
    "TESTING": True,
    "SQLALCHEMY_DATABASE_URI": TEST_DB_URL,
    "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "MFA_ENFORCED": False,
    "SERVER_NAME": "localhost",
    "PDF_CACHE_DIR": "",  # no announcement cache in the repository's instance/; tests/web/test_pdfs.py sets its own
}


class RequestClient(FlaskClient):
    """A test client whose every request runs as a server runs it.

    The `db` fixture holds an application context for the whole test, and Flask reuses
    a pushed context of the same app: `g` (and Flask-Login's cached user in it) would
    then leak from one request, or one client, to the next. So each request gets its
    own application context. What the test set up before the request is committed
    first (a savepoint release inside the rolled-back transaction), as if an earlier
    request had saved it, so a request that fails and rolls back cannot erase it.
    """

    def open(self, *args, **kwargs):
        if isinstance(_db.session, _TestSession):
            _db.session.commit()
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


class _TestSession(scoped_session):
    """The `db` fixture's session outlives the requests (their teardown calls remove())."""

    def remove(self):
        pass

    def really_remove(self):
        super().remove()


def make_app(**overrides):
    tmp = tempfile.mkdtemp(prefix="registry-uploads-")
    application = create_app({**TEST_CONFIG, "UPLOAD_DIR": tmp, **overrides})
    application.test_client_class = RequestClient
    return application


@pytest.fixture(scope="session")
def app():
    application = make_app()
    with application.app_context():
        _db.drop_all()
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        if application.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            _db.drop_all()


@pytest.fixture
def db(app):
    """The Flask-SQLAlchemy object with db.session bound to a transaction rolled back after the test."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        _db.session = _TestSession(factory)
        try:
            yield _db
        finally:
            _db.session.really_remove()
            _db.session = original
            outer.rollback()
            connection.close()
            clock.freeze(None)


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def ratelimited_app(db):
    """An app with rate limits on (off in the tests' default, where Flask-Limiter registers no check at
    all). The limiter is a module-level object shared by every app in this process, so its switch and
    counters are restored afterwards."""
    from registry.extensions import limiter
    was_enabled = limiter.enabled
    application = make_app(RATELIMIT_ENABLED=True)
    limiter.reset()
    yield application
    limiter.reset()
    limiter.enabled = was_enabled


@pytest.fixture
def frozen_clock():
    """Freeze time: frozen_clock(datetime) sets it; unfrozen after the test."""
    yield clock.freeze
    clock.freeze(None)

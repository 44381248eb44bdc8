"""Browser-test fixtures: Debian's chromium for pytest-playwright, and a live server.

The live server is a separate app on its own database (a fresh SQLite file, or a
separate PostgreSQL database when REGISTRY_TEST_DATABASE_URL points at PostgreSQL).
It does not use the rolled-back `db` fixture: a server thread only sees committed
data. The schema is created, regions and demo users are seeded and committed, and
the demo city reviewer gets a TOTP secret so the login exercises the second factor.
"""
import os
import tempfile
import threading
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from registry import demo
from registry.auth import services as auth
from registry.auth.models import User
from registry.extensions import db as _db
from tests.conftest import TEST_DB_URL, make_app

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-output" / "screenshots"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]

REVIEWER = "nc_city"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """`playwright install` cannot download browsers here: use Debian's chromium."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


# ------------------------------------------------------------------ database

def _admin_dsn(url):
    """A libpq DSN for the server's maintenance database `postgres`."""
    return url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def _create_pg_database(url, name):
    import psycopg
    from psycopg import sql
    with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_pg_database(url, name):
    import psycopg
    from psycopg import sql
    with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def browser_database_url():
    """A dedicated, empty database for the live server; removed at the end of the session."""
    url = make_url(TEST_DB_URL)
    if url.get_backend_name() == "postgresql":
        # One database per run, so that two developers' runs cannot clash.
        name = f"registry_test_browser_{os.getpid()}"
        _create_pg_database(url, name)
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            _drop_pg_database(url, name)
    else:
        fd, path = tempfile.mkstemp(prefix="registry-browser-", suffix=".db")
        os.close(fd)
        try:
            yield "sqlite:///" + path
        finally:
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.remove(path + suffix)
                except FileNotFoundError:
                    pass


# ------------------------------------------------------------------ live server

class LiveServer:
    def __init__(self, url, app, totp_secrets):
        self.url = url
        self.app = app
        self.totp_secrets = totp_secrets  # username -> base32 secret


@pytest.fixture(scope="session")
def live_server(browser_database_url):
    """The app served by werkzeug on 127.0.0.1 (free port) in a daemon thread, with committed demo data."""
    app = make_app(
        SQLALCHEMY_DATABASE_URI=browser_database_url,
        WTF_CSRF_ENABLED=True,   # the real forms carry the token
        MFA_ENFORCED=False,      # optional, but the reviewer below is enrolled
        SERVER_NAME=None,        # the browser talks to 127.0.0.1:<port>, not "localhost"
        TESTING=False,           # behave like a deployed server: error pages, not tracebacks
    )
    secret = pyotp.random_base32()
    with app.app_context():
        _db.create_all()
        demo.seed()
        _db.session.commit()
        reviewer = _db.session.scalar(select(User).where(User.username == REVIEWER))
        # Consumes the current time step: the test must use a later one.
        auth.enrol_totp(reviewer, secret=secret, code=pyotp.TOTP(secret).now())
        _db.session.commit()
        _db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="registry-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, {REVIEWER: secret})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()  # close pooled connections before the database is dropped


@pytest.fixture(scope="session")
def base_url(live_server):
    """pytest-playwright gives this to every browser context, so page.goto("/login") works."""
    return live_server.url


@pytest.fixture
def reviewer_totp_secret(live_server):
    return live_server.totp_secrets[REVIEWER]

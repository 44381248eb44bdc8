"""A pooled PostgreSQL connection that the server dropped while it sat idle is replaced before a request
uses it (registry.core.db.ping_idle_connections), and one used moments ago is not pinged."""
import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from registry.extensions import db
from tests.conftest import TEST_DB_URL, make_app

pytestmark = pytest.mark.skipif(make_url(TEST_DB_URL).get_backend_name() != "postgresql",
                                reason="pinging a server connection: the test database is SQLite")


def _pooled_backend(app):
    """The server process id of the connection the pool holds (checked in again afterwards)."""
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()
    return pid


def _terminate(pid):
    url = make_url(TEST_DB_URL).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    time.sleep(0.2)  # the backend exits asynchronously


def test_a_connection_dropped_while_idle_is_replaced_before_use():
    app = make_app(DB_PING_IDLE_SECONDS=0.05)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    _terminate(_pooled_backend(app))
    time.sleep(0.1)
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_json()
    assert _pooled_backend(app) is not None


def test_a_pinged_connection_is_left_without_a_transaction(app):
    """Read-only pages switch the connection to autocommit, which a transaction left open by the ping
    would forbid (psycopg: "can't change 'autocommit' now"). (`app` creates the schema.)"""
    app = make_app(DB_PING_IDLE_SECONDS=0.05)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    time.sleep(0.1)
    assert client.get("/verify/no-such-token").status_code == 404
    time.sleep(0.1)
    assert client.get("/api/v1/verify/no-such-token").status_code == 404


def test_a_connection_used_moments_ago_is_not_pinged():
    """The control: with the connection checked in less than the threshold ago there is no ping, so a
    server that dropped it in those moments fails one request; the disconnect empties the pool and the
    next request connects afresh."""
    app = make_app(DB_PING_IDLE_SECONDS=3600)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    _terminate(_pooled_backend(app))
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 200

"""A database that does not answer gives a 503 (a Chinese page, or JSON {code, message}) instead of a worker
stuck until gunicorn kills it: the connect timeout (a server that accepts the TCP connection and never
says a word), the statement timeout (a statement blocked on a lock another connection holds), and the
pool's checkout timeout. CLI jobs open their connections with the CLI's statement timeout (none)."""
import socket
import threading

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from registry.extensions import db
from tests.conftest import TEST_DB_URL, make_app

POSTGRES = make_url(TEST_DB_URL).get_backend_name() == "postgresql"
postgres_only = pytest.mark.skipif(not POSTGRES, reason="statement timeouts are PostgreSQL's")
# A bound on waiting for an answer, so that a regression fails instead of hanging the suite. The timeouts
# under test are a few seconds at most; no assertion is made about how long an answer took.
ANSWER_BOUND_SECONDS = 60


def answer(fn):
    """fn() run in a thread; its result, or a failure if it has not returned within the bound."""
    box = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(ANSWER_BOUND_SECONDS)
    assert not thread.is_alive(), "no answer: the request hangs on the database"
    if "error" in box:
        raise box["error"]
    return box["result"]


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent_database_app():
    server = SilentServer()
    application = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://registry@127.0.0.1:{server.port}/registry",
                           DB_CONNECT_TIMEOUT_SECONDS=2, HEALTH_MIN_FREE_MB=0)
    yield application
    server.close()
    with application.app_context():
        db.engine.dispose()


def assert_unavailable_json(response):
    assert response.status_code == 503
    assert response.get_json() == {"code": "database_unavailable", "message": "数据库暂时无法响应，请稍后再试",
                                   "field": None}
    assert response.headers["Retry-After"].isdigit()


def assert_unavailable_page(response):
    assert response.status_code == 503 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "数据库暂时无法响应，请稍后再试" in page and "Traceback" not in page
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_silent_server_is_a_503_page_and_json_not_a_hang(silent_database_app):
    client = silent_database_app.test_client()
    assert_unavailable_page(answer(lambda: client.get("/register")))
    assert_unavailable_json(answer(lambda: client.get("/api/v1/regions")))


def test_healthz_names_a_silent_database(silent_database_app):
    response = answer(lambda: silent_database_app.test_client().get("/healthz"))
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "unreachable" and body["failed"] == ["database"]
    assert body["upload_store"] == "ok" and body["cache"] == "not_configured"
    assert "数据库" in body["message"]


def test_no_free_connection_in_the_pool_is_a_503(app):
    """The pool's one connection is checked out elsewhere: the request waits DB_POOL_TIMEOUT_SECONDS, then
    gets a 503 (`app` created the schema)."""
    application = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0},
                           DB_POOL_TIMEOUT_SECONDS=0.2)
    client = application.test_client()
    with application.app_context():
        busy = db.engine.connect()
        try:
            assert_unavailable_json(answer(lambda: client.get("/api/v1/regions")))
        finally:
            busy.close()
        db.engine.dispose()
    assert client.get("/api/v1/regions").status_code == 200


def _admin_url():
    return make_url(TEST_DB_URL).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def short_statements_app(app):
    application = make_app(DB_STATEMENT_TIMEOUT_MS=300)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@postgres_only
def test_a_statement_blocked_on_a_lock_is_a_503(short_statements_app):
    client = short_statements_app.test_client()
    with psycopg.connect(_admin_url()) as holder:
        holder.execute("LOCK TABLE region IN ACCESS EXCLUSIVE MODE")
        assert_unavailable_json(answer(lambda: client.get("/api/v1/regions")))
        assert_unavailable_page(answer(lambda: client.get("/register")))
    # The lock released (the holder committed), the same requests are answered.
    assert client.get("/api/v1/regions").status_code == 200
    assert client.get("/register").status_code == 200


@postgres_only
def test_read_only_requests_on_the_autocommit_engine_have_the_timeout_too(short_statements_app):
    client = short_statements_app.test_client()
    with psycopg.connect(_admin_url()) as holder:
        holder.execute("LOCK TABLE whitelist_entry IN ACCESS EXCLUSIVE MODE")
        assert_unavailable_json(answer(lambda: client.get("/api/v1/whitelist")))
    assert client.get("/api/v1/whitelist").status_code == 200


@postgres_only
def test_web_connections_carry_the_statement_timeout_and_cli_ones_the_cli_timeout(short_statements_app):
    with short_statements_app.app_context():
        assert db.session.execute(text("SHOW statement_timeout")).scalar() == "300ms"
        db.session.remove()
        db.engine.dispose()
    result = short_statements_app.test_cli_runner().invoke(args=["registry", "cache-clear"])
    assert result.exit_code == 0, result.output
    with short_statements_app.app_context():
        assert db.session.execute(text("SHOW statement_timeout")).scalar() == "0"

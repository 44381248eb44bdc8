"""Database plumbing: SQLite pragmas, the one-commit-per-request rule, and reads without a transaction."""
from flask import g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from registry.extensions import db


def configure_sqlite(engine: Engine):
    """Give pysqlite real transactions (SAVEPOINT works), foreign keys and a busy timeout."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if ":memory:" not in str(engine.url):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN")


_READ_ONLY = set()


def reads_only(*endpoints):
    """Declare endpoints whose GET only reads (a bearer token's last use aside). On PostgreSQL their
    statements run in autocommit: no BEGIN and COMMIT round trips around them. Each statement sees what was
    committed before it started, as it would inside a READ COMMITTED transaction (PostgreSQL's default)."""
    _READ_ONLY.update(endpoints)


def _autocommit_reads():
    """before_request, before anything reads (authorization loads the user)."""
    if request.method != "GET" or request.endpoint not in _READ_ONLY or db.engine.dialect.name == "sqlite":
        return
    session = db.session()
    # A session already in a transaction, or bound to one as in the tests, keeps it.
    if not session.in_transaction() and isinstance(session.get_bind(), Engine):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def keep_changes_on_error():
    """Ask for a commit although the response is an error (e.g. a failed login's counter and audit row)."""
    g.registry_force_commit = True


def init_app(app):
    with app.app_context():
        configure_sqlite(db.engine)
    app.before_request(_autocommit_reads)

    @app.after_request
    def _commit(response):
        # The request commits once. Errors roll back whatever services flushed,
        # unless the handler recorded something that must be kept. A request that never used the
        # database (a cached page) has no session: creating one only to commit nothing is skipped.
        if not db.session.registry.has():
            return response
        if response.status_code < 400 or g.get("registry_force_commit"):
            db.session.commit()
        else:
            db.session.rollback()
        return response

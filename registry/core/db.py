"""Database plumbing: SQLite pragmas, pinging idle server connections, the one-commit-per-request rule, and
reads without a transaction (the reads_only endpoints of registry.core.reads)."""
import time

from flask import g
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine

from registry.core.reads import AUTOCOMMIT, READS_ENGINE, read_only_get, reads_engine, reads_only  # noqa: F401
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


def ping_idle_connections(engine: Engine, idle_seconds):
    """A database server connection that sat in the pool for more than `idle_seconds` is pinged before use
    and replaced when the ping fails (a restarted server, a firewall that dropped an idle connection). The
    pool's own pool_pre_ping pings at every checkout: a round trip per request, ~8 % of a cached API
    page. A connection checked in moments ago is used as it is; should the server have gone away in those
    moments, that one request fails and SQLAlchemy discards the pool's connections (a disconnect error
    invalidates the pool), so the next requests connect afresh. (The pessimistic-ping pattern of
    SQLAlchemy's documentation, "Disconnect Handling - Pessimistic", with an idle threshold.)"""
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at <= idle_seconds:
            return  # new, or used moments ago
        try:
            # The dialect's own ping (what pool_pre_ping runs): it leaves no transaction open behind it.
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means the connection is unusable
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError(str(error)) from error


def _autocommit_reads():
    """before_request, before anything reads (authorization loads the user)."""
    if not read_only_get():
        return
    engine = reads_engine()
    if engine is None:
        return
    session = db.session()
    # A session already in a transaction, or bound to one as in the tests, keeps it.
    if not session.in_transaction() and isinstance(session.get_bind(), Engine):
        session.info[AUTOCOMMIT] = engine


def keep_changes_on_error():
    """Ask for a commit although the response is an error (e.g. a failed login's counter and audit row)."""
    g.registry_force_commit = True


def init_app(app):
    """After db.init_app(app). On PostgreSQL, also the autocommit engine of reads_only GETs
    (registry.core.reads): the same database and engine options, in a pool of its own whose
    connections stay in autocommit."""
    with app.app_context():
        engine = db.engine
    configure_sqlite(engine)
    engines = [engine]
    if engine.dialect.name != "sqlite":
        reads = create_engine(engine.url, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
                              isolation_level="AUTOCOMMIT")
        app.extensions[READS_ENGINE] = reads
        engines.append(reads)
    for each in engines:
        ping_idle_connections(each, app.config.get("DB_PING_IDLE_SECONDS", 10))
    app.before_request(_autocommit_reads)

    @app.after_request
    def _commit(response):
        # The request commits once. Errors roll back whatever services flushed,
        # unless the handler recorded something that must be kept. A request that never used the
        # database (a cached page) has no session: creating one only to commit nothing is skipped.
        if not db.session.registry.has():
            return response
        session = db.session()
        if session.info.get(AUTOCOMMIT) and not (session.new or session.dirty or session.deleted):
            # Every statement committed as it ran; only changed objects (a token's last use) need a flush.
            return response
        if response.status_code < 400 or g.get("registry_force_commit"):
            db.session.commit()
        else:
            db.session.rollback()
        return response

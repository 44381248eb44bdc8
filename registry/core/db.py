"""Database plumbing: SQLite pragmas, pinging idle server connections, the one-commit-per-request rule,
reads without a transaction (the reads_only endpoints of registry.core.reads), and the timeouts that turn a
database which does not answer into a 503 within seconds instead of a worker stuck until gunicorn kills it."""
import logging
import time

from flask import current_app, g, has_request_context
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine, make_url

from registry.core.reads import AUTOCOMMIT, READS_ENGINE, read_only_get, reads_engine, reads_only  # noqa: F401
from registry.extensions import db

log = logging.getLogger(__name__)

# app.extensions key of registry.core.http.unavailable_response(error): the 503 page of a refused commit.
UNAVAILABLE_RESPONSE = "registry.unavailable_response"

# The database did not answer in time (connect or statement timeout, "database is locked") or the pool had
# no connection to give: a 503 the client may retry, not a 500.
UNAVAILABLE = (exc.OperationalError, exc.TimeoutError)


def configure_engine_options(app):
    """Before db.init_app(app): the pool's checkout timeout, and on PostgreSQL the connect timeout, merged
    into SQLALCHEMY_ENGINE_OPTIONS (the options of every engine of the app, the reads engine's too). The
    statement timeout is set on each new connection (statement_timeouts) from the app's configuration, so
    that CLI jobs can raise it (long_running)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return  # a single-connection pool: nothing to wait for
    else:
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", app.config["DB_CONNECT_TIMEOUT_SECONDS"])
        options["connect_args"] = connect_args
    options.setdefault("pool_timeout", app.config["DB_POOL_TIMEOUT_SECONDS"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def statement_timeouts(engine: Engine, app):
    """PostgreSQL: every new connection gets statement_timeout = DB_STATEMENT_TIMEOUT_MS (0: none) as the
    app's configuration says at that moment: one SET per connection, none per request. (SQLAlchemy's
    documented recipe for session settings on connect, "Setting Alternate Search Paths on Connect".)"""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect", insert=True)
    def _set_timeout(dbapi_connection, _record):
        milliseconds = int(app.config.get("DB_STATEMENT_TIMEOUT_MS") or 0)
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET statement_timeout = {milliseconds}")
            cursor.close()
        finally:
            dbapi_connection.autocommit = autocommit


def long_running(app):
    """CLI jobs (the sweep, migrations, imports, the bench loader) run statements a web request never
    would: connections opened from now on use DB_CLI_STATEMENT_TIMEOUT_MS (default 0: no limit)."""
    app.config["DB_STATEMENT_TIMEOUT_MS"] = app.config.get("DB_CLI_STATEMENT_TIMEOUT_MS", 0)


def _sqlite_begin():
    """BEGIN IMMEDIATE takes the write lock at once, waiting on the busy timeout for another writer to
    finish. A deferred BEGIN reads first and asks for the lock at its first write: when another writer
    committed in between, SQLite refuses at once ("database is locked", its snapshot is stale) without
    waiting on the busy timeout. A GET of a reads_only endpoint keeps a deferred BEGIN, so reads never
    queue behind writers (nor behind each other); the only thing it may write is bookkeeping (a token's
    last use, at most once a minute; a session's last-seen time, at most every 30 s), and when that
    write is refused the page is served anyway (_commit)."""
    if has_request_context() and read_only_get():
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def configure_sqlite(engine: Engine):
    """Give pysqlite real transactions (SAVEPOINT works), foreign keys, a busy timeout, and writers that
    wait on it (_sqlite_begin). (SQLAlchemy's pysqlite recipe "Serializable isolation / Savepoints /
    Transactional DDL", with BEGIN IMMEDIATE.)"""
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
        conn.exec_driver_sql(_sqlite_begin())


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
        # SQLite: the read runs under a deferred BEGIN (_sqlite_begin). Its bookkeeping write (a token's last
        # use, a session's last-seen time) waits for the commit instead of an autoflush in the middle of the
        # page, where a refused lock upgrade would fail the read itself; a refused commit is served (_commit).
        session = db.session()
        g.registry_autoflush = session.autoflush
        session.autoflush = False
        return
    session = db.session()
    # A session already in a transaction, or bound to one as in the tests, keeps it.
    if not session.in_transaction() and isinstance(session.get_bind(), Engine):
        session.info[AUTOCOMMIT] = engine


def rollback_quietly():
    """Roll the session back after the database failed; a rollback that fails too (the server is gone) is
    only logged: the pool replaces the connection."""
    try:
        db.session.rollback()
    except Exception as error:  # noqa: BLE001 - the original failure is what the client is told about
        log.warning("rollback after a database failure failed too: %s", error)


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
    statement_timeouts(engine, app)
    engines = [engine]
    if engine.dialect.name != "sqlite":
        reads = create_engine(engine.url, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
                              isolation_level="AUTOCOMMIT")
        app.extensions[READS_ENGINE] = reads
        statement_timeouts(reads, app)
        engines.append(reads)
    for each in engines:
        ping_idle_connections(each, app.config.get("DB_PING_IDLE_SECONDS", 10))
    app.before_request(_autocommit_reads)

    @app.teardown_request
    def _restore_autoflush(_error=None):
        if "registry_autoflush" in g and db.session.registry.has():
            db.session().autoflush = g.pop("registry_autoflush")

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
            try:
                db.session.commit()
            except UNAVAILABLE as error:
                rollback_quietly()
                if read_only_get():
                    # The page was read in full; what failed is a last-use or last-seen time, which the next
                    # request writes again. Serve the page rather than a 503.
                    log.info("bookkeeping write of a read-only GET not committed: %s", str(error).splitlines()[0])
                    return response
                # registry.core.http registers the 503 page (with its security headers) at app start.
                return current_app.extensions[UNAVAILABLE_RESPONSE](error)
            except Exception:
                db.session.rollback()
                raise
        else:
            db.session.rollback()
        return response

"""Database plumbing: SQLite pragmas, and the one-commit-per-request rule."""
from flask import g
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


def keep_changes_on_error():
    """Ask for a commit although the response is an error (e.g. a failed login's counter and audit row)."""
    g.registry_force_commit = True


def init_app(app):
    with app.app_context():
        configure_sqlite(db.engine)

    @app.after_request
    def _commit(response):
        # The request commits once. Errors roll back whatever services flushed,
        # unless the handler recorded something that must be kept.
        if response.status_code < 400 or g.get("registry_force_commit"):
            db.session.commit()
        else:
            db.session.rollback()
        return response

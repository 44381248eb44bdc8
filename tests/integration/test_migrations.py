"""Issue 2, item 1: the migrations build exactly the schema the models declare.

`flask db upgrade` runs on an empty database (a temporary SQLite file, and a
database created for the purpose when the suite runs on PostgreSQL), then Alembic's
autogenerate comparison must find no difference. A model added without a migration
fails here, on purpose.
"""
import logging
import os
import tempfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from registry.extensions import db as _db
from tests.conftest import TEST_DB_URL, make_app


def _admin_dsn(url):
    return url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def _pg_database(url, name, create):
    import psycopg
    from psycopg import sql

    with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@pytest.fixture
def empty_database_url():
    url = make_url(TEST_DB_URL)
    if url.get_backend_name() == "postgresql":
        name = f"registry_test_migrations_{os.getpid()}"
        _pg_database(url, name, create=True)
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            _pg_database(url, name, create=False)
    else:
        handle, path = tempfile.mkstemp(prefix="registry-migrations-", suffix=".db")
        os.close(handle)
        os.unlink(path)
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.unlink(path + suffix)


@pytest.fixture
def keep_logging():
    """migrations/env.py calls logging.config.fileConfig, which disables every existing logger
    (and so would silence the app's loggers for the tests that run afterwards)."""
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    saved = {name: (lg.disabled, lg.level, list(lg.handlers), lg.propagate)
             for name, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    yield
    root.setLevel(saved_root[0])
    root.handlers[:] = saved_root[1]
    for name, lg in logging.Logger.manager.loggerDict.items():
        if isinstance(lg, logging.Logger):
            disabled, level, handlers, propagate = saved.get(name, (False, logging.NOTSET, [], True))
            lg.disabled, lg.level, lg.handlers[:], lg.propagate = disabled, level, handlers, propagate


def test_migrations_match_the_models(empty_database_url, keep_logging):
    from flask_migrate import upgrade

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        try:
            upgrade()
            engine = _db.engine
            tables = set(inspect(engine).get_table_names())
            assert {"user", "region", "audit_log", "audit_head", "api_token", "user_session"} <= tables
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={
                    "compare_type": True, "render_as_batch": engine.dialect.name == "sqlite"})
                differences = compare_metadata(context, _db.metadata)
        finally:
            _db.session.remove()
            _db.engine.dispose()
    assert differences == [], (
        "models and migrations differ; add a migration (flask --app wsgi db migrate):\n"
        + "\n".join(map(repr, differences)))


def test_migration_files_are_date_prefixed():
    from pathlib import Path

    versions = Path(__file__).resolve().parents[2] / "migrations" / "versions"
    names = [p.name for p in versions.glob("*.py")]
    assert names
    import re
    assert all(re.match(r"^\d{8}_\d{4}_[0-9a-f]+_\w+\.py$", n) for n in names), names

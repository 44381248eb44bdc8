"""Every list page sends the same number of SQL statements for a short list and for a long one.

The table of list pages is bench/statements.py's LIST_PAGES, the one `make bench` reports on. The
data is the bench generator's at a small scale, built for this test in its own database (a file on
SQLite; a database of its own on PostgreSQL), so every page has owners with short and long lists.
"""
import pytest
from sqlalchemy.engine import make_url

from bench import statements
from bench.dataset import build, make_app
from bench.loader import Target
from tests.conftest import TEST_DB_URL

SCALE = 0.02
SHORT, LONG = 1, 100


@pytest.fixture(scope="module")
def dataset_app(tmp_path_factory):
    here = tmp_path_factory.mktemp("statements")
    if TEST_DB_URL.startswith("sqlite"):
        target = Target("sqlite", f"sqlite:///{here / 'bench.db'}", here / "bench.json")
    else:
        parsed = make_url(TEST_DB_URL)
        name = f"{parsed.database}_statements"
        target = Target("postgres", parsed.set(database=name).render_as_string(hide_password=False),
                        here / "bench.json")
    app = make_app(target.url)
    build(target, SCALE, app, log=lambda *_: None)
    yield app
    from registry.extensions import db
    with app.app_context():
        db.engine.dispose()
    if target.kind == "postgres":
        import psycopg
        parsed = make_url(target.url)
        admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def measured(dataset_app):
    from bench.benchmarks import frozen_clock
    with frozen_clock():
        return statements.measure_all(dataset_app, SHORT, LONG)


@pytest.mark.parametrize("page", [p.name for p in statements.LIST_PAGES])
def test_statements_do_not_grow_with_the_rows_shown(measured, page):
    result = measured[page]
    assert result is not None, f"{page}: the generated data has no user who sees this list"
    short_rows, long_rows = result["sizes"]
    assert short_rows < long_rows, f"{page}: the data gives no short and long list to compare ({result})"
    short, long = result["statements"]
    assert short == long, f"{page}: {short} statements for {short_rows} rows, {long} for {long_rows}"


def test_the_benchmark_leaves_no_sessions_or_tokens(dataset_app, measured):
    from sqlalchemy import func, select

    from registry.auth.models import ApiToken
    from registry.extensions import db
    with dataset_app.app_context():
        left = db.session.scalar(select(func.count()).select_from(ApiToken)
                                 .where(ApiToken.name == statements.TOKEN_NAME))
    assert left == 0


def test_a_page_that_sends_a_statement_per_row_is_caught(dataset_app, monkeypatch):
    """The control: make the review queue touch the database once per row; the comparison must see it."""
    from bench.benchmarks import frozen_clock
    from registry.extensions import db
    from registry.reviews import queries as reviews

    original = reviews.queue

    def queue_with_a_statement_per_row(user, **kwargs):
        rows = original(user, **kwargs)
        for row in rows:
            db.session.refresh(row.application)
        return rows

    monkeypatch.setattr(reviews, "queue", queue_with_a_statement_per_row)
    page = next(p for p in statements.LIST_PAGES if p.name == "api_review_queue")
    visitor = statements.Visitor(dataset_app)
    try:
        with frozen_clock():
            result = statements.measure_page(dataset_app, visitor, page, SHORT, LONG)
    finally:
        visitor.cleanup()
    (short_rows, long_rows), (short, long) = result["sizes"], result["statements"]
    assert short_rows < long_rows and short < long, result

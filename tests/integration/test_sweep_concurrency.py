"""Two `flask registry sweep` processes started at the same time do the work once (PostgreSQL).

The scenario and the check live in tests/fixtures/sweep_race.py (tests/integration/test_multi_instance.py
runs the same check with one sweep per app instance's environment). The data lives in a dedicated
PostgreSQL database and is committed; both processes get this environment, and the test holds the
sweep's advisory lock until PostgreSQL shows both of them queued on it.
"""
import os

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB_URL
from tests.fixtures.sweep_race import assert_two_sweeps_do_the_work_once, build_scenario

pytestmark = pytest.mark.skipif(
    make_url(TEST_DB_URL).get_backend_name() != "postgresql",
    reason="two sweeps at once need PostgreSQL (advisory lock); the test database is SQLite")


@pytest.fixture
def sweep_database():
    from tests.browser.conftest import _create_pg_database, _drop_pg_database
    url = make_url(TEST_DB_URL)
    name = f"registry_test_sweep_{os.getpid()}"
    _create_pg_database(url, name)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_pg_database(url, name)


def test_two_sweeps_at_once_do_the_work_once(sweep_database):
    build_scenario(sweep_database)
    env = {**os.environ, "REGISTRY_DATABASE_URL": sweep_database}
    assert_two_sweeps_do_the_work_once(sweep_database, [env, env])

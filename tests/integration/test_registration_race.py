"""Two registrations with one USCC, or one username, at the same moment: one is created, the other gets a 409
naming the field (the unique constraint refuses the second insert; before, the IntegrityError was a 500).

Like tests/integration/test_review_concurrency.py, these tests do not use the rolled-back `db` fixture: the
module creates its own PostgreSQL database, commits what it sets up, and drops the database at the end.
Each request runs in its own thread against the live app; a barrier holds both requests after the service's
"is it taken?" check and before their inserts, so both checks found nothing."""
import itertools
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from registry.auth import services as auth_services
from registry.auth.models import User
from registry.extensions import db as _db
from registry.providers import services as provider_services
from registry.providers.models import Provider
from registry.regions import services as regions
from tests.conftest import TEST_DB_URL
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.providers import uscc_for
from tests.fixtures.race_db import committed_app

URL = make_url(TEST_DB_URL)

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(URL.get_backend_name() != "postgresql",
                       reason="two writers racing need PostgreSQL: SQLite serialises writers per file"),
]

_seq = itertools.count(1)



@pytest.fixture(scope="module")
def race_app():
    with committed_app("registry_test_register_race") as app:
        yield app


def _registration(app, n, **overrides):
    with app.app_context():
        home = regions.get_by_code("360113").id
    data = {
        "name": f"并发注册机构{n}", "uscc": uscc_for(8000 + n), "org_type": "enterprise",
        "legal_representative": "周明", "contact_name": "刘芳", "contact_phone": "13907910000",
        "address": "南昌市红谷滩区丰和中大道 100 号", "county_id": home, "service_county_ids": [home],
        "admin_username": f"race_reg_{n}", "admin_display_name": "刘芳", "admin_password": PASSWORD,
    }
    data.update(overrides)
    return data


def _hold(monkeypatch, module, name, parties=2):
    """Make module.name wait until `parties` requests have reached it."""
    barrier = threading.Barrier(parties, timeout=30)
    original = getattr(module, name)

    def held(*args, **kwargs):
        barrier.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, held)


def _at_once(calls):
    responses = [None] * len(calls)

    def run(i, call):
        responses[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in responses), "a request did not finish"
    return responses


def _count(app, model, column, value):
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(model).where(column == value))


def test_two_api_registrations_with_one_uscc(race_app, monkeypatch):
    n = next(_seq)
    first = _registration(race_app, n)
    second = _registration(race_app, n, name=f"并发注册机构{n}乙", admin_username=f"race_reg_{n}_b")
    # Past the USCC check, before the provider's insert.
    _hold(monkeypatch, provider_services, "_service_counties")
    responses = _at_once([
        lambda: race_app.test_client().post("/api/v1/providers", json=first),
        lambda: race_app.test_client().post("/api/v1/providers", json=second),
    ])
    assert sorted(r.status_code for r in responses) == [201, 409], [r.get_data(as_text=True) for r in responses]
    loser = next(r for r in responses if r.status_code == 409).get_json()
    assert (loser["field"] == "uscc" and loser["code"] == "duplicate_uscc"
            and "统一社会信用代码已注册" in loser["message"])
    assert _count(race_app, Provider, Provider.uscc, first["uscc"]) == 1


def test_two_form_registrations_with_one_username(race_app, monkeypatch):
    n = next(_seq)
    first = _registration(race_app, n)
    second = _registration(race_app, n, name=f"并发注册机构{n}乙", uscc=uscc_for(8500 + n))
    for data in (first, second):
        data["admin_password_confirm"] = PASSWORD
    # Past the username check of create_user, before the account's insert.
    _hold(monkeypatch, auth_services, "_check_password_policy")
    responses = _at_once([
        lambda: race_app.test_client().post("/register", data=first),
        lambda: race_app.test_client().post("/register", data=second),
    ])
    assert sorted(r.status_code for r in responses) == [302, 409], [r.status_code for r in responses]
    page = next(r for r in responses if r.status_code == 409).get_data(as_text=True)
    assert "该用户名已被使用" in page and "Traceback" not in page
    assert _count(race_app, User, User.username, first["admin_username"]) == 1
    assert _count(race_app, Provider, Provider.uscc, second["uscc"]) + _count(
        race_app, Provider, Provider.uscc, first["uscc"]) == 1  # the loser's organisation was rolled back

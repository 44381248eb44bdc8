"""One TOTP code submitted by several requests at once gives exactly one session (issue 12, hole 5;
security.md 13): the time step is claimed by a conditional UPDATE whose row count decides, not by
read-compare-write in Python.

Requests on separate connections only see each other's work once it is committed, so this test does not use the
rolled-back `db` fixture: the module creates its own PostgreSQL database, commits a reviewer with an enrolled
second factor, and drops the database at the end (as tests/integration/test_review_concurrency.py does). Each
request runs in its own thread against the live app, with its own test client; a barrier holds every request
just before the code is checked, so all of them have loaded the user with the same last-used step."""
import threading
from datetime import timedelta, timezone

import pyotp
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from registry.audit.models import AuditLog
from registry.auth import services as auth
from registry.auth.models import User, UserSession
from registry.core import clock, crypto
from registry.extensions import db as _db
from registry.regions import services as regions
from tests.conftest import TEST_DB_URL
from tests.fixtures.accounts import PASSWORD, login
from tests.fixtures.race_db import committed_app

URL = make_url(TEST_DB_URL)
PARALLEL = 4

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(URL.get_backend_name() != "postgresql",
                       reason="racing writers need PostgreSQL: SQLite serialises writers per file, so the requests "
                              "would stop at 'database is locked' before reaching the conditional UPDATE"),
]




@pytest.fixture(scope="module")
def race_app():
    with committed_app("registry_test_totp_race") as app:
        yield app


def _enrolled_reviewer(app, username):
    secret = pyotp.random_base32()
    with app.app_context():
        user = auth.create_user(username=username, display_name=username, role="city_reviewer", password=PASSWORD,
                                region_id=regions.get_by_code("360100").id, must_change_password=False)
        user.totp_secret = crypto.encrypt(secret, auth.TOTP_CONTEXT)
        _db.session.commit()
        user_id = user.id
        _db.session.remove()
    return user_id, secret


def test_one_code_sent_four_times_at_once_gives_exactly_one_session(race_app, monkeypatch):
    user_id, secret = _enrolled_reviewer(race_app, "totp_race_reviewer")
    now = clock.utcnow().replace(microsecond=0)
    t0 = now - timedelta(seconds=now.second % 30)
    clock.freeze(t0)
    try:
        code = pyotp.TOTP(secret).at(int(t0.replace(tzinfo=timezone.utc).timestamp()))
        clients = []
        for _ in range(PARALLEL):
            client = race_app.test_client()
            response = login(client, "totp_race_reviewer")
            assert response.status_code == 302 and response.headers["Location"].endswith("/login/mfa")
            clients.append(client)

        barrier = threading.Barrier(PARALLEL, timeout=30)
        original = auth._accept_code

        def accept_code(user, secret_, code_):
            assert user.totp_last_step is None  # every request loaded the user before any of them wrote
            barrier.wait()
            return original(user, secret_, code_)

        monkeypatch.setattr(auth, "_accept_code", accept_code)
        responses = [None] * PARALLEL

        def send(i):
            responses[i] = clients[i].post("/login/mfa", data={"code": code})

        threads = [threading.Thread(target=send, args=(i,)) for i in range(PARALLEL)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(r is not None for r in responses), "a request did not finish"
    finally:
        clock.freeze(None)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302] + [422] * (PARALLEL - 1), statuses
    winner = next(r for r in responses if r.status_code == 302)
    assert winner.headers["Location"].endswith("/dashboard")
    for r in responses:
        if r.status_code == 422:
            assert "动态验证码不正确或已使用" in r.get_data(as_text=True)
    with race_app.app_context():
        sessions = _db.session.scalar(select(func.count()).select_from(UserSession)
                                      .where(UserSession.user_id == user_id))
        logins = _db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "login", AuditLog.actor_id == user_id, AuditLog.result == "success"))
        refused = _db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "login.mfa", AuditLog.actor_id == user_id, AuditLog.result == "failure"))
        step = _db.session.get(User, user_id).totp_last_step
        _db.session.remove()
    assert sessions == 1 and logins == 1 and refused == PARALLEL - 1
    assert step == int(t0.replace(tzinfo=timezone.utc).timestamp()) // 30

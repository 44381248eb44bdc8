"""docs/domain.md "Credentials", docs/architecture.md "Security" and bad input: lockout, unknown users, the login rate
limit, malformed logins."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from registry.audit.models import AuditLog
from registry.auth.models import User
from registry.auth.services import LOGIN_FAILED_MESSAGE
from registry.core import clock
from registry.extensions import limiter
from tests.conftest import make_app
from tests.fixtures.accounts import PASSWORD, logged_in, login

WRONG = "Wrong#Passw0rd"


def login_error(response):
    match = re.search(r'<div class="flash flash-error" role="alert">(.*?)</div>', response.get_data(as_text=True), re.S)
    return match.group(1).strip() if match else None


def test_right_password_logs_in(client, create_user):
    user = create_user("auditor")
    response = login(client, user.username)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert logged_in(client)


def test_five_failures_lock_the_account_for_30_minutes(client, create_user, db, frozen_clock):
    user = create_user("county_reviewer")
    start = clock.utcnow()
    frozen_clock(start)
    for _ in range(5):
        response = login(client, user.username, WRONG)
        assert response.status_code == 401
    # Locked: the right password is refused with the same message.
    response = login(client, user.username)
    assert response.status_code == 401 and login_error(response) == LOGIN_FAILED_MESSAGE
    assert not logged_in(client)
    frozen_clock(start + timedelta(minutes=29))
    assert login(client, user.username).status_code == 401
    frozen_clock(start + timedelta(minutes=30, seconds=1))
    response = login(client, user.username)
    assert response.status_code == 302
    assert logged_in(client)
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.failed_logins == 0


def test_four_failures_do_not_lock(client, create_user):
    user = create_user("auditor")
    for _ in range(4):
        assert login(client, user.username, WRONG).status_code == 401
    assert login(client, user.username).status_code == 302


def test_a_success_resets_the_failure_count(client, create_user):
    user = create_user("auditor")
    for _ in range(4):
        login(client, user.username, WRONG)
    assert login(client, user.username).status_code == 302
    client.post("/logout")
    for _ in range(4):
        login(client, user.username, WRONG)
    assert login(client, user.username).status_code == 302


def test_unknown_user_gets_exactly_the_wrong_password_answer(app, create_user):
    user = create_user("auditor")
    wrong = login(app.test_client(), user.username, WRONG)
    unknown = login(app.test_client(), "no_such_user", WRONG)
    assert wrong.status_code == unknown.status_code == 401
    assert login_error(wrong) == login_error(unknown) == LOGIN_FAILED_MESSAGE
    # The pages differ only by the echoed username (and the per-session CSRF token).
    def normalised(response, username):
        page = response.get_data(as_text=True).replace(username, "U")
        return re.sub(r'name="csrf_token" value="[^"]*"', "", page)
    assert normalised(wrong, user.username) == normalised(unknown, "no_such_user")


def test_disabled_user_gets_the_same_answer(app, db, create_user):
    from registry.auth import services as auth

    user = create_user("auditor")
    auth.disable_user(user, actor=None)
    response = login(app.test_client(), user.username)
    assert response.status_code == 401 and login_error(response) == LOGIN_FAILED_MESSAGE


def test_failures_are_kept_although_the_request_fails(client, db, create_user):
    """The 401 response must still commit the failure counter and the audit row."""
    user = create_user("auditor")
    login(client, user.username, WRONG)
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 1
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "login", AuditLog.result == "failure")).all()
    assert [r.details["reason"] for r in rows] == ["bad_password"]


# ---------------------------------------------------------------- rate limit
# (docs/architecture.md "Security": login rate limit)

def test_eleventh_login_post_in_a_minute_gets_429(ratelimited_app, create_user):
    user = create_user("auditor")
    client = ratelimited_app.test_client()
    for attempt in range(10):
        response = client.post("/login", data={"username": "nobody_here", "password": WRONG})
        assert response.status_code == 401, attempt
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "请求过于频繁" in page
    assert "Traceback" not in page
    # Viewing the form is not limited, and another address still gets through.
    assert client.get("/login").status_code == 200
    other = ratelimited_app.test_client()
    response = other.post("/login", data={"username": user.username, "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302


def test_rate_limit_applies_to_the_second_factor_form(ratelimited_app):
    client = ratelimited_app.test_client()
    codes = [client.post("/login/mfa", data={"code": "123456"}).status_code for _ in range(11)]
    assert codes[-1] == 429 and 429 not in codes[:10]


@pytest.mark.parametrize("proxy_count, forwarded_for, eleventh", [
    (0, "198.51.100.{n}", 429),              # no trusted proxy: everyone behind nginx shares one counter
    (1, "198.51.100.{n}", 401),              # one trusted proxy: each forwarded client has its own
    (1, "10.9.8.{n}, 198.51.100.7", 429),    # a forged left part does not help: nginx appends the real one
])
def test_behind_a_proxy_the_limit_counts_the_forwarded_client(ratelimited_app, proxy_count, forwarded_for, eleventh):
    """REGISTRY_PROXY_COUNT=1 (ProxyFix) makes the limiter key on the address the proxy appended to
    X-Forwarded-For; without it every request counts against the proxy's own address."""
    app = make_app(RATELIMIT_ENABLED=True, PROXY_COUNT=proxy_count) if proxy_count else ratelimited_app
    limiter.reset()
    client = app.test_client()
    codes = [client.post("/login", data={"username": "nobody_here", "password": WRONG},
                         headers={"X-Forwarded-For": forwarded_for.format(n=n)}).status_code for n in range(1, 12)]
    assert codes == [401] * 10 + [eleventh]


# ---------------------------------------------------------------- malformed logins

@pytest.mark.parametrize("data", [
    {},
    {"username": "someone"},
    {"password": "x"},
    {"username": "", "password": ""},
    {"username": "a" * 10000, "password": "x"},
    {"username": "someone", "password": "p" * 5000},
    {"username": "someone", "password": "x", "role": "sys_admin"},
])
def test_malformed_login_gets_a_chinese_422(client, data):
    response = client.post("/login", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "提交的内容有误" in page
    assert "Traceback" not in page


def test_login_form_with_binary_junk_never_500s(client):
    response = client.post("/login", data=b"\xff\xfe\x00username=\x00",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500
    response = client.post("/login", data="not a form", content_type="application/json")
    assert response.status_code < 500

"""docs/architecture.md "Security" (second factor): TOTP second factor, reuse refused, enforcement for bureau and admin
roles."""
import re
from datetime import timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select

from registry.audit.models import AuditLog
from registry.auth.models import User
from registry.auth.roles import MFA_ROLES
from registry.core import clock
from tests.conftest import make_app
from tests.fixtures.accounts import ALL_ROLES, PASSWORD, logged_in, login


def code_at(secret, moment):
    return pyotp.TOTP(secret).at(int(moment.replace(tzinfo=timezone.utc).timestamp()))


def step_start():
    """Now, rounded down to the start of a 30-second TOTP step."""
    now = clock.utcnow().replace(microsecond=0)
    return now - timedelta(seconds=now.second % 30)


def secret_on_page(response):
    page = response.get_data(as_text=True)
    assert "data:image/svg+xml;base64," in page  # the QR code
    return re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)


def enrol(client, moment):
    secret = secret_on_page(client.get("/account/totp"))
    response = client.post("/account/totp", data={"code": code_at(secret, moment)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return secret


def test_enrolled_user_needs_the_code_and_a_code_is_used_once(app, db, login_as, frozen_clock):
    t0 = step_start()
    frozen_clock(t0)
    client, user = login_as("city_reviewer")
    secret = enrol(client, t0)
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.totp_secret is not None and secret.encode() not in bytes(stored.totp_secret)
    client.post("/logout")

    frozen_clock(t0 + timedelta(minutes=2))
    response = login(client, user.username)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/mfa")
    assert not logged_in(client), "the password alone must not log in"
    assert client.post("/login/mfa",
                       data={"code": "000000" if code_at(secret, t0) != "000000" else "111111"}).status_code == 422
    assert not logged_in(client)
    code = code_at(secret, t0 + timedelta(minutes=2))
    response = client.post("/login/mfa", data={"code": code})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert logged_in(client)
    client.post("/logout")

    # The same code again, within its validity window: refused.
    other = app.test_client()
    login(other, user.username)
    response = other.post("/login/mfa", data={"code": code})
    assert response.status_code == 422
    assert "动态验证码不正确或已使用" in response.get_data(as_text=True)
    assert not logged_in(other)
    # An older code that is still inside the clock-drift window is refused as well.
    earlier = code_at(secret, t0 + timedelta(minutes=2) - timedelta(seconds=30))
    if earlier != code:
        assert other.post("/login/mfa", data={"code": earlier}).status_code == 422
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "login.mfa")).all()
    assert rows and all(r.result == "failure" for r in rows)

    # The next step's code works.
    frozen_clock(t0 + timedelta(minutes=3))
    assert other.post("/login/mfa", data={"code": code_at(secret, t0 + timedelta(minutes=3))}).status_code == 302
    assert logged_in(other)


def test_enrolment_code_cannot_be_replayed_at_login(app, db, login_as, frozen_clock):
    t0 = step_start()
    frozen_clock(t0)
    client, user = login_as("auditor")
    secret = enrol(client, t0)
    client.post("/logout")
    login(client, user.username)
    assert client.post("/login/mfa", data={"code": code_at(secret, t0)}).status_code == 422


def test_mfa_step_cannot_be_skipped(app, db, login_as, frozen_clock):
    t0 = step_start()
    frozen_clock(t0)
    client, user = login_as("sys_admin")
    enrol(client, t0)
    client.post("/logout")
    login(client, user.username)
    for path in ("/dashboard", "/admin/users", "/account/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


@pytest.fixture
def mfa_app(db):
    return make_app(MFA_ENFORCED=True)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_enforced_second_factor_applies_to_bureau_and_admin_roles(mfa_app, create_user, role):
    user = create_user(role)
    client = mfa_app.test_client()
    response = login(client, user.username)
    assert response.status_code == 302
    if user.role in MFA_ROLES:
        assert response.headers["Location"].endswith("/login/enrol")
        assert not logged_in(client)
    else:
        assert response.headers["Location"].endswith("/dashboard")
        assert logged_in(client)


def test_forced_enrolment_logs_in_only_after_a_valid_code(mfa_app, db, create_user, frozen_clock):
    t0 = step_start()
    frozen_clock(t0)
    user = create_user("county_reviewer")
    client = mfa_app.test_client()
    login(client, user.username, next="/account/")
    page = client.get("/login/enrol")
    assert page.status_code == 200
    secret = secret_on_page(page)
    assert client.post("/login/enrol", data={"code": "12345"}).status_code == 422
    assert not logged_in(client)
    response = client.post("/login/enrol", data={"code": code_at(secret, t0)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/")
    assert logged_in(client)
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret is not None


def test_enrol_page_without_a_pending_login_goes_back_to_login(mfa_app):
    client = mfa_app.test_client()
    assert client.get("/login/enrol").headers["Location"].endswith("/login")
    assert client.get("/login/mfa").headers["Location"].endswith("/login")
    assert client.post("/login/mfa", data={"code": "123456"}).headers["Location"].endswith("/login")


def test_wrong_password_never_reaches_the_second_factor(mfa_app, create_user):
    user = create_user("city_reviewer")
    client = mfa_app.test_client()
    assert login(client, user.username, "Wrong#Passw0rd").status_code == 401
    assert client.get("/login/enrol").headers["Location"].endswith("/login")


def test_admin_reset_of_the_second_factor_ends_sessions(app, db, login_as, frozen_clock):
    t0 = step_start()
    frozen_clock(t0)
    reviewer_client, reviewer = login_as("city_reviewer")
    enrol(reviewer_client, t0)
    admin_client, _admin = login_as("sys_admin")
    assert admin_client.post(f"/admin/users/{reviewer.id}/totp").status_code == 302
    assert not logged_in(reviewer_client)
    db.session.expire_all()
    assert db.session.get(User, reviewer.id).totp_secret is None
    assert login(app.test_client(), reviewer.username, PASSWORD).headers["Location"].endswith("/dashboard")


def wrong_code(secret, moment):
    """A six-digit code that is not valid around `moment`."""
    valid = {code_at(secret, moment + timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_wrong_codes_count_towards_the_lockout(app, db, login_as, frozen_clock):
    t0 = step_start()
    frozen_clock(t0)
    client, user = login_as("city_reviewer")
    secret = enrol(client, t0)
    client.post("/logout")
    t1 = t0 + timedelta(minutes=2)
    frozen_clock(t1)
    login(client, user.username)
    for _ in range(4):
        assert client.post("/login/mfa", data={"code": wrong_code(secret, t1)}).status_code == 422
    # Starting again with the right password does not wipe the count.
    assert login(client, user.username).headers["Location"].endswith("/login/mfa")
    response = client.post("/login/mfa", data={"code": wrong_code(secret, t1)})
    assert response.status_code == 422 and "已被临时锁定" in response.get_data(as_text=True)
    # Locked: the right code and the right password are both refused for 30 minutes.
    assert client.post("/login/mfa", data={"code": code_at(secret, t1)}).status_code == 422
    assert not logged_in(client)
    assert login(app.test_client(), user.username).status_code == 401
    t2 = t1 + timedelta(minutes=31)
    frozen_clock(t2)
    assert login(client, user.username).headers["Location"].endswith("/login/mfa")
    assert client.post("/login/mfa", data={"code": code_at(secret, t2)}).status_code == 302
    assert logged_in(client)
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0

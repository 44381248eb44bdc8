"""docs/architecture.md "Security" (sessions): the `next` parameter, session revocation, timeouts and cookie flags."""
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from registry.auth.views import safe_next
from registry.config import load_config
from registry.core import clock
from tests.conftest import make_app
from tests.fixtures.accounts import NEW_PASSWORD, PASSWORD, logged_in, login

COOKIE = "registry_session"
HOSTILE_NEXT = [
    "//evil.com",
    "//evil.com/path",
    "///evil.com",
    "https://evil.com",
    "http://evil.com/account",
    "/\\evil.com",
    "\\\\evil.com",
    "/\\/evil.com",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.com",
    "/\t/evil.com",
    "/\r\nSet-Cookie:x=1",
    "evil.com",
    "https:evil.com",
]


def assert_on_site(location):
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert parts.path.startswith("/") and not parts.path.startswith("//"), location
    assert "evil" not in location


# ---------------------------------------------------------------- open redirect (14)

@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_is_ignored_at_login(app, create_user, target):
    user = create_user("auditor")
    client = app.test_client()
    response = login(client, user.username, next=target)
    assert response.status_code == 302
    assert_on_site(response.headers["Location"])
    assert response.headers["Location"].endswith("/dashboard")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_is_not_echoed_into_the_form(client, target):
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert 'name="next"' not in page


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_is_ignored_when_already_logged_in(login_as, target):
    client, _user = login_as("auditor")
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert_on_site(response.headers["Location"])


def test_safe_next_is_honoured(app, create_user):
    user = create_user("auditor")
    response = login(app.test_client(), user.username, next="/account/")
    assert urlsplit(response.headers["Location"]).path == "/account/"


def test_login_redirect_carries_the_page_asked_for(app, create_user):
    user = create_user("sys_admin")
    client = app.test_client()
    response = client.get("/admin/users?q=abc")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/login?next=" in location
    # Following the form with that next lands back on the page.
    from urllib.parse import parse_qs
    target = parse_qs(urlsplit(location).query)["next"][0]
    assert target == "/admin/users?q=abc"
    response = login(client, user.username, next=target)
    assert response.headers["Location"].endswith("/admin/users?q=abc")


@pytest.mark.parametrize("target", HOSTILE_NEXT + [None, "", 42])
def test_safe_next_unit(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/account/", "/admin/users?q=a&page=2", "/audit/#top"])
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target) == target


# ---------------------------------------------------------------- revocation (15)

def copy_of(app, client):
    """A second browser holding a copy of the client's session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value, domain="localhost")
    return thief


def test_replayed_cookie_is_refused_after_logout(app, login_as):
    client, _user = login_as("county_reviewer")
    thief = copy_of(app, client)
    assert logged_in(thief)  # the copy works while the session lives
    response = client.post("/logout")
    assert response.status_code == 302
    assert not logged_in(client)
    assert not logged_in(thief)
    assert "/login?next=" in thief.get("/account/").headers["Location"]


def test_disabling_a_user_ends_their_session(app, db, login_as):
    victim_client, victim = login_as("city_reviewer")
    admin_client, _admin = login_as("sys_admin")
    assert logged_in(victim_client)
    response = admin_client.post(f"/admin/users/{victim.id}/disable")
    assert response.status_code == 302
    assert not logged_in(victim_client)
    assert login(app.test_client(), victim.username).status_code == 401
    # Enabling does not revive the old session.
    assert admin_client.post(f"/admin/users/{victim.id}/enable").status_code == 302
    assert not logged_in(victim_client)


def test_disabling_a_user_kills_their_api_tokens(app, db, create_user, bearer, login_as):
    victim = create_user("county_reviewer")
    headers = bearer(victim)
    client = app.test_client()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    admin_client, _admin = login_as("sys_admin")
    admin_client.post(f"/admin/users/{victim.id}/disable")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_changing_password_kills_copied_cookies(app, login_as):
    client, user = login_as("auditor")
    thief = copy_of(app, client)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert logged_in(client), "the browser that changed the password gets a fresh session"
    assert not logged_in(thief)


def test_admin_password_reset_and_role_change_end_sessions(app, db, login_as, seeded_regions):
    victim_client, victim = login_as("county_reviewer")
    other_client, other = login_as("county_reviewer")
    admin_client, _admin = login_as("sys_admin")
    assert admin_client.post(f"/admin/users/{victim.id}/password",
                             data={"new_password": NEW_PASSWORD}).status_code == 302
    assert not logged_in(victim_client)
    city = seeded_regions.get_by_code("360700")
    assert admin_client.post(f"/admin/users/{other.id}/role",
                             data={"role": "city_reviewer", "region_id": city.id}).status_code == 302
    assert not logged_in(other_client)


# ---------------------------------------------------------------- timeouts (16)

def test_idle_timeout_is_30_minutes(login_as, frozen_clock):
    start = clock.utcnow()
    frozen_clock(start)
    client, _user = login_as("city_reviewer")
    frozen_clock(start + timedelta(minutes=29))
    assert logged_in(client)  # activity renews the idle timer
    frozen_clock(start + timedelta(minutes=58))
    assert logged_in(client)
    frozen_clock(start + timedelta(minutes=58 + 30, seconds=1))
    assert not logged_in(client)
    frozen_clock(start + timedelta(minutes=58 + 31))
    assert not logged_in(client), "an expired session does not come back"


def test_absolute_timeout_is_12_hours(login_as, frozen_clock):
    start = clock.utcnow()
    frozen_clock(start)
    client, _user = login_as("city_reviewer")
    moment = start
    while moment < start + timedelta(hours=11, minutes=40):
        moment += timedelta(minutes=20)
        frozen_clock(moment)
        assert logged_in(client), moment - start
    frozen_clock(start + timedelta(hours=12, minutes=1))
    assert not logged_in(client)


def test_timeouts_come_from_the_configuration():
    config = load_config()
    assert config["SESSION_IDLE_MINUTES"] == 30
    assert config["SESSION_ABSOLUTE_HOURS"] == 12
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)


# ---------------------------------------------------------------- cookie flags (17)

def set_cookies(response):
    return response.headers.getlist("Set-Cookie")


def test_session_cookie_flags_in_production(db, create_user, monkeypatch):
    monkeypatch.setenv("REGISTRY_ENV", "production")
    monkeypatch.setenv("REGISTRY_SECRET_KEY", "s" * 64)
    monkeypatch.setenv("REGISTRY_BLIND_INDEX_KEY", "b" * 64)
    monkeypatch.setenv("REGISTRY_DATA_KEYS", "k1:" + "ab" * 32)
    monkeypatch.setenv("REGISTRY_PASS_SIGNING_KEYS", "p1:" + "cd" * 32)  # issue 14: passes
    production = load_config()
    assert production["SESSION_COOKIE_SECURE"] is True and production["MFA_ENFORCED"] is True
    app = make_app(**{k: production[k] for k in (
        "PRODUCTION", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_NAME", "REMEMBER_COOKIE_DURATION")})
    user = create_user("provider_admin")
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD},
                           base_url="https://localhost")
    assert response.status_code == 302
    cookies = set_cookies(response)
    session_cookies = [c for c in cookies if c.startswith(f"{COOKIE}=")]
    assert session_cookies, cookies
    for cookie in session_cookies:
        attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
        assert "secure" in attributes and "httponly" in attributes
        assert attributes["samesite"].lower() == "samesite=lax"
    assert not any("remember_token" in c for c in cookies)
    assert client.get("/account/", base_url="https://localhost").status_code == 200


def test_development_cookie_is_httponly_and_lax(app, create_user):
    user = create_user("auditor")
    response = login(app.test_client(), user.username)
    cookie = next(c for c in set_cookies(response) if c.startswith(f"{COOKIE}="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("role", ["sys_admin", "city_reviewer", "provider_admin"])
def test_no_remember_me_cookie_ever(app, create_user, role):
    user = create_user(role)
    client = app.test_client()
    data = {"username": user.username, "password": PASSWORD, "remember": "y", "remember_me": "1"}
    responses = [client.post("/login", data=data), client.get("/dashboard"), client.post("/logout")]
    for response in responses:
        assert not any("remember" in c.lower() for c in set_cookies(response))
    assert client.get_cookie("remember_token") is None


def test_production_refuses_to_start_without_secrets(monkeypatch):
    from registry.config import ConfigError

    monkeypatch.setenv("REGISTRY_ENV", "production")
    monkeypatch.delenv("REGISTRY_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_config()

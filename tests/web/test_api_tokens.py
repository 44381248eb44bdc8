"""Personal access tokens and the JSON API: bearer only, hashed at rest, revocable, limited to the user's rights."""
import re
from datetime import timedelta

import pytest
from flask import jsonify
from sqlalchemy import func, select

from registry.auth import permissions
from registry.auth.models import ApiToken
from registry.core import clock
from tests.conftest import make_app


def assert_json_error(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"code", "message", "field"}
    assert body["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    if field is not None:
        assert body["field"] == field, body
    return body


def token_count(db, user):
    return db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id))


def test_bearer_token_reaches_me(client, create_user, bearer):
    user = create_user("city_reviewer")
    response = client.get("/api/v1/me", headers=bearer(user))
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == user.username and body["role"] == "city_reviewer"
    assert body["region"]["code"] == "360100"
    assert "password_hash" not in body and "totp_secret" not in body


def test_token_is_hashed_at_rest(db, create_user, bearer):
    user = create_user("auditor")
    plaintext = bearer(user)["Authorization"].split()[1]
    row = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert plaintext not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert plaintext.startswith(row.prefix)


@pytest.mark.parametrize("header", [
    "Bearer rgt_not-a-real-token",
    "Bearer garbage",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Token rgt_abc",
    "Bearer " + "x" * 5000,
])
def test_wrong_tokens_get_401_json(client, header):
    assert_json_error(client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_no_token_gets_401_json(client):
    body = assert_json_error(client.get("/api/v1/me"), 401)
    assert body["code"] == "unauthenticated"


def test_revoked_token_gets_401(client, db, create_user, bearer):
    user = create_user("auditor")
    headers = bearer(user)
    row = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert client.delete(f"/api/v1/me/tokens/{row.id}", headers=headers).status_code == 204
    body = assert_json_error(client.get("/api/v1/me", headers=headers), 401)
    assert body["code"] == "invalid_token"


def test_expired_token_gets_401(client, db, create_user, frozen_clock):
    from registry.auth import services as auth

    start = clock.utcnow()
    frozen_clock(start)
    user = create_user("auditor")
    _row, plaintext = auth.create_token(user, name="short", days=1)
    headers = {"Authorization": f"Bearer {plaintext}"}
    frozen_clock(start + timedelta(hours=23))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    frozen_clock(start + timedelta(days=1, seconds=1))
    assert_json_error(client.get("/api/v1/me", headers=headers), 401)


def test_cookie_session_is_not_accepted_on_the_api(login_as):
    client, _user = login_as("sys_admin")
    assert client.get("/account/").status_code == 200
    assert_json_error(client.get("/api/v1/me"), 401)
    assert_json_error(client.post("/api/v1/me/tokens", json={"name": "via cookie"}), 401)


def test_token_does_not_open_html_pages(client, create_user, bearer):
    admin = create_user("sys_admin")
    response = client.get("/admin/users", headers=bearer(admin))
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_a_user_cannot_revoke_someone_elses_token(client, db, create_user, bearer):
    owner, other = create_user("auditor"), create_user("auditor")
    bearer(owner)
    row = db.session.scalars(select(ApiToken).where(ApiToken.user_id == owner.id)).one()
    assert_json_error(client.delete(f"/api/v1/me/tokens/{row.id}", headers=bearer(other)), 404)
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is None


def test_create_list_and_revoke_through_the_api(client, db, create_user, bearer):
    user = create_user("provider_admin")
    headers = bearer(user)
    response = client.post("/api/v1/me/tokens", json={"name": "同步脚本", "days": 30}, headers=headers)
    assert response.status_code == 201
    created = response.get_json()
    assert created["token"].startswith("rgt_") and created["name"] == "同步脚本"
    assert created["expires_at"] and created["revoked_at"] is None
    new_headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/me", headers=new_headers).status_code == 200
    listed = client.get("/api/v1/me/tokens", headers=headers).get_json()
    assert {t["name"] for t in listed} == {"test", "同步脚本"}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    assert client.delete(f"/api/v1/me/tokens/{created['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=new_headers).status_code == 401
    assert_json_error(client.delete(f"/api/v1/me/tokens/{created['id']}", headers=headers), 409)


def test_unknown_field_is_refused_and_nothing_is_created(client, db, create_user, bearer):
    user = create_user("provider_admin")
    headers = bearer(user)
    before = token_count(db, user)
    response = client.post("/api/v1/me/tokens", json={"name": "x", "status": "approved"}, headers=headers)
    body = assert_json_error(response, 400, field="status")
    assert body["code"] == "unknown_field" and "status" in body["message"]
    assert token_count(db, user) == before


@pytest.mark.parametrize("payload, field", [
    ({"name": 123}, "name"),
    ({"name": ["a"]}, "name"),
    ({"name": "x", "days": "abc"}, "days"),
    ({"name": "x", "days": 0}, "days"),
    ({"name": "x", "days": 10000}, "days"),
    ({"name": ""}, "name"),
    ({"name": "n" * 65}, "name"),
    ({}, "name"),
])
def test_wrong_json_types_name_the_field(client, db, create_user, bearer, payload, field):
    user = create_user("auditor")
    headers = bearer(user)
    before = token_count(db, user)
    response = client.post("/api/v1/me/tokens", json=payload, headers=headers)
    assert 400 <= response.status_code < 500
    assert_json_error(response, response.status_code, field=field)
    assert token_count(db, user) == before


@pytest.mark.parametrize("body, content_type", [
    ("[1, 2]", "application/json"),
    ('"just a string"', "application/json"),
    ("{not json", "application/json"),
    ("name=x", "application/x-www-form-urlencoded"),
])
def test_malformed_json_bodies_get_a_4xx_json_error(client, create_user, bearer, body, content_type):
    user = create_user("auditor")
    response = client.post("/api/v1/me/tokens", data=body, content_type=content_type, headers=bearer(user))
    assert 400 <= response.status_code < 500
    assert_json_error(response, response.status_code)


# ---------------------------------------------------------------- a token is limited to its user's role

@pytest.fixture
def app_with_admin_api(db, monkeypatch):
    """An app with one extra API route that only sys_admin may use (the real API has none yet)."""
    from flask import Blueprint

    app = make_app()
    test_bp = Blueprint("api_test_only", __name__)

    @test_bp.get("/api/v1/test-only/admin")
    def admin_only():
        return jsonify({"ok": True})

    app.register_blueprint(test_bp)
    monkeypatch.setitem(permissions.TABLE, "api_test_only.admin_only", permissions.SYS_ADMIN)
    return app


@pytest.mark.parametrize("role, status", [
    ("sys_admin", 200), ("auditor", 403), ("city_reviewer", 403), ("provider_admin", 403)])
def test_a_token_acts_with_its_owners_role_only(app_with_admin_api, create_user, bearer, role, status):
    user = create_user(role)
    response = app_with_admin_api.test_client().get("/api/v1/test-only/admin", headers=bearer(user))
    if status == 200:
        assert response.status_code == 200 and response.get_json() == {"ok": True}
    else:
        assert assert_json_error(response, 403)["code"] == "forbidden"


def test_html_token_page_shows_the_plaintext_once(login_as, db):
    client, user = login_as("auditor")
    page = client.post("/account/tokens", data={"name": "脚本", "days": "7"}).get_data(as_text=True)
    plaintext = re.search(r'<code class="secret" id="new-token">(rgt_[^<]+)</code>', page).group(1)
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert plaintext not in listing and plaintext[:10] in listing

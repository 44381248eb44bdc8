"""Personal access tokens die with the credentials they were made under (issue 12, hole 4): a password change
or an admin reset, a second-factor reset and disabling the account revoke every live token of the account, each
with an audit row; and the API refuses a token whose account must still change its password."""
import pytest
from sqlalchemy import select

from registry.audit.models import AuditLog
from registry.auth import services as auth
from registry.auth.models import ApiToken
from tests.fixtures.accounts import NEW_PASSWORD, PASSWORD, login


def _assert_json_403(response, code):
    assert response.status_code == 403, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) >= {"code", "message", "field"} and body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    return body


def _revocation_rows(db, user):
    return db.session.scalars(select(AuditLog).where(
        AuditLog.action == "token.revoke_all", AuditLog.object_type == "user",
        AuditLog.object_id == str(user.id))).all()


def _own_change(app, db, user):
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                      "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return "user.change_password"


def _admin_reset(app, db, user, admin):
    response = admin.post(f"/admin/users/{user.id}/password", data={"new_password": NEW_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return "user.reset_password"


def _totp_reset(app, db, user, admin):
    user.totp_secret = b"x"  # reset_totp clears whatever is there
    db.session.flush()
    response = admin.post(f"/admin/users/{user.id}/totp")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return "user.totp_reset"


def _disable(app, db, user, admin):
    response = admin.post(f"/admin/users/{user.id}/disable")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return "user.disable"


@pytest.mark.parametrize("change", ["own_change", "admin_reset", "totp_reset", "disable"])
def test_credential_changes_revoke_every_token_with_an_audit_row(app, db, client, create_user, login_as, change):
    user = create_user("city_reviewer")
    tokens = [auth.create_token(user, name=f"t{i}")[1] for i in range(2)]
    other_user = create_user("city_reviewer")
    _row, other_token = auth.create_token(other_user, name="others")
    db.session.flush()
    for token in tokens:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    if change == "own_change":
        because = _own_change(app, db, user)
    else:
        admin, _ = login_as("sys_admin")
        because = {"admin_reset": _admin_reset, "totp_reset": _totp_reset, "disable": _disable}[change](
            app, db, user, admin)

    for token in tokens:
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.get_json()["code"] == "invalid_token"
    db.session.expire_all()
    assert all(t.revoked_at is not None for t in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)))
    rows = _revocation_rows(db, user)
    assert len(rows) == 1 and rows[0].details["because"] == because
    assert len(rows[0].details["token_ids"]) == 2
    # Another account's token is untouched.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_token}"}).status_code == 200


def test_no_audit_row_when_there_is_nothing_to_revoke(db, create_user, dummy_admin):
    user = create_user("auditor")
    auth.reset_password(user, new_password=NEW_PASSWORD, actor=dummy_admin)
    db.session.flush()
    assert _revocation_rows(db, user) == []
    assert db.session.scalar(select(AuditLog.seq).where(AuditLog.action == "user.reset_password",
                                                        AuditLog.object_id == str(user.id))) is not None


def test_api_refuses_a_token_whose_account_must_change_its_password(app, db, client, create_user):
    user = create_user("city_reviewer", must_change_password=True)
    _row, token = auth.create_token(user, name="made before the first login")
    db.session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    body = _assert_json_403(client.get("/api/v1/me", headers=headers), "password_change_required")
    assert body["field"] == "password"
    denied = db.session.scalars(select(AuditLog).where(AuditLog.action == "authz.denied",
                                                       AuditLog.actor_id == user.id)).all()
    assert denied and denied[-1].details["reason"] == "password_change_required"
    # Once the owner has chosen a password of their own (on the web page), a new token works.
    web = app.test_client()
    assert login(web, user.username).status_code == 302
    assert web.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                "confirm_password": NEW_PASSWORD}).status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # the old token died with the change
    db.session.expire_all()
    _row, fresh = auth.create_token(db.session.get(type(user), user.id), name="after the change")
    db.session.flush()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_html_side_still_forces_the_change(app, db, create_user):
    user = create_user("city_reviewer", must_change_password=True)
    web = app.test_client()
    assert login(web, user.username).status_code == 302
    response = web.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")

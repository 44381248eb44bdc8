"""docs/architecture.md "Security" (logs): after a workflow, the logs hold no password, token or session cookie; URLs
carry no secrets."""
import logging
import re

import pytest

from tests.fixtures.accounts import NEW_PASSWORD, PASSWORD, login

COOKIE = "registry_session"


@pytest.fixture
def verbose_logs(caplog):
    """Everything at DEBUG, SQL statements and their parameters included (set before `db` connects)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    return caplog


def test_logs_hold_no_secrets_after_a_workflow(verbose_logs, app, db, create_user):
    caplog = verbose_logs
    user = create_user("county_reviewer", password=PASSWORD)
    client = app.test_client()
    urls = []

    def call(method, path, **kwargs):
        urls.append(path)
        return client.open(path, method=method, **kwargs)

    login(client, user.username, "Wrong#Passw0rd")
    assert login(client, user.username).status_code == 302
    cookie = client.get_cookie(COOKIE).value
    call("GET", "/dashboard")
    assert call("POST", "/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD}).status_code == 302
    new_cookie = client.get_cookie(COOKIE).value
    page = call("POST", "/account/tokens", data={"name": "脚本"}).get_data(as_text=True)
    html_token = re.search(r"(rgt_[A-Za-z0-9_\-]+)", page).group(1)
    headers = {"Authorization": f"Bearer {html_token}"}
    api_token = call("POST", "/api/v1/me/tokens", json={"name": "ci"}, headers=headers).get_json()["token"]
    call("GET", "/api/v1/me", headers={"Authorization": f"Bearer {api_token}"})
    call("GET", "/api/v1/me", headers={"Authorization": "Bearer rgt_wrong-token-value-123"})
    call("POST", "/logout")

    secrets = {
        "old password": PASSWORD, "new password": NEW_PASSWORD, "wrong password": "Wrong#Passw0rd",
        "session cookie": cookie, "new session cookie": new_cookie,
        "token from the page": html_token, "token from the API": api_token,
        "wrong token": "rgt_wrong-token-value-123",
    }
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "INSERT INTO audit_log" in logged, "the test must see the SQL log to mean anything"
    for name, value in secrets.items():
        assert value not in logged, f"the {name} was logged"
        assert not any(value in url for url in urls), f"the {name} went into a URL"


def test_server_errors_log_no_request_body(db, create_user, caplog):
    from tests.conftest import make_app

    app = make_app(TESTING=False)

    def explode():
        raise RuntimeError("boom")

    app.view_functions["auth.login"] = explode
    caplog.set_level(logging.DEBUG)
    response = app.test_client().post("/login", data={"username": "someone", "password": PASSWORD})
    assert response.status_code == 500
    assert "RuntimeError" in caplog.text
    assert PASSWORD not in caplog.text

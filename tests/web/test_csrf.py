"""docs/architecture.md "Security" (CSRF and headers): with CSRF on, every state-changing HTML form without a token gets
400; GET changes nothing."""
import re

import pytest
from sqlalchemy import func, select

from registry.audit.models import AuditLog
from registry.auth.permissions import PUBLIC, TABLE
from registry.extensions import db as _db
from tests.conftest import make_app
from tests.fixtures.accounts import ALL_ROLES, PASSWORD, logged_in, login
from tests.web.test_authorization import _url

CSRF_MESSAGE = "缺少安全令牌（CSRF）"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def csrf_token(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def audit_rows(db):
    return db.session.scalar(select(func.count()).select_from(AuditLog))


@pytest.fixture
def csrf_app(db):
    return make_app(WTF_CSRF_ENABLED=True)


def login_with_token(client, username):
    token = csrf_token(client.get("/login"))
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return csrf_token(client.get("/account/"))


def html_state_changing_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods & STATE_CHANGING):
            yield rule, method


def test_there_are_forms_to_check(csrf_app):
    assert len(list(html_state_changing_rules(csrf_app))) >= 10


@pytest.mark.parametrize("who", ["anonymous", "sys_admin"])
def test_every_form_without_a_token_gets_400(csrf_app, db, create_user, who):
    client = csrf_app.test_client()
    if who != "anonymous":
        login_with_token(client, create_user(who).username)
    before = audit_rows(db)
    problems = []
    for rule, method in html_state_changing_rules(csrf_app):
        path = _url(rule)
        for data in ({}, {"csrf_token": "forged"}):
            response = client.open(path, method=method, data=data)
            page = response.get_data(as_text=True)
            if response.status_code != 400 or CSRF_MESSAGE not in page:
                problems.append(f"{method} {path} ({rule.endpoint}) with {data}: {response.status_code}")
    assert not problems, "\n".join(problems)
    assert audit_rows(db) == before, "a refused form must change nothing"
    if who != "anonymous":
        assert logged_in(client), "the refused logout did not log out"


def test_forms_with_the_token_work(csrf_app, db, create_user):
    user = create_user("auditor")
    client = csrf_app.test_client()
    token = login_with_token(client, user.username)
    response = client.post("/account/tokens", data={"name": "脚本", "csrf_token": token})
    assert response.status_code == 200 and "rgt_" in response.get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not logged_in(client)


def test_token_from_another_session_is_refused(csrf_app, db, create_user):
    first, second = csrf_app.test_client(), csrf_app.test_client()
    login_with_token(first, create_user("auditor").username)
    token_of_second = login_with_token(second, create_user("auditor").username)
    response = first.post("/logout", data={"csrf_token": token_of_second})
    assert response.status_code == 400


def test_api_needs_no_csrf_token_because_it_ignores_cookies(csrf_app, db, create_user, bearer):
    user = create_user("auditor")
    client = csrf_app.test_client()
    response = client.post("/api/v1/me/tokens", json={"name": "ci"}, headers=bearer(user))
    assert response.status_code == 201
    # A logged-in browser's cookie is no key to the API, so CSRF cannot use it.
    login_with_token(client, user.username)
    assert client.post("/api/v1/me/tokens", json={"name": "ci"}).status_code == 401


# Columns a read may touch: when a session or token was last used.
USAGE_COLUMNS = {"last_seen_at", "last_used_at"}
# A GET may record access in the audit log (a refusal, a reveal of a sensitive field); nothing else.
ACCESS_LOG_TABLES = {"audit_log", "audit_head", "audit_anchor"}


def snapshot(db):
    db.session.expire_all()
    state = {}
    for table in _db.metadata.sorted_tables:
        if table.name in ACCESS_LOG_TABLES:
            continue
        columns = [c for c in table.columns if c.name not in USAGE_COLUMNS]
        state[table.name] = sorted(map(tuple, db.session.execute(select(*columns)).all()), key=repr)
    return state


@pytest.mark.parametrize("role", ALL_ROLES)
def test_get_changes_nothing(app, db, create_user, bearer, role):
    """Every GET a role may make leaves every table as it was (the audit log may only record access)."""
    user = create_user(role)
    client = app.test_client()
    login(client, user.username)
    headers = bearer(user)
    before, audit_before = snapshot(db), audit_rows(db)
    walked = 0
    for rule in app.url_map.iter_rules():
        table_rule = TABLE.get(rule.endpoint)
        if "GET" not in rule.methods or table_rule is None:
            continue
        if table_rule.roles != PUBLIC and not table_rule.allows_role(user.role):
            continue
        path = _url(rule)
        response = client.get(path, headers=headers if path.startswith("/api/") else {})
        assert response.status_code < 500, path
        walked += 1
    assert walked >= 10
    after = snapshot(db)
    changed = sorted(name for name in before if before[name] != after[name])
    assert not changed, f"GET requests changed these tables: {changed}"
    new_rows = db.session.scalars(select(AuditLog).where(AuditLog.seq > audit_before)).all()
    assert all(r.result == "denied" or "reveal" in r.action or "view" in r.action for r in new_rows), \
        [(r.action, r.result) for r in new_rows]

"""docs/architecture.md "Authorization": every route is denied to every role unless the authorization table allows it.

The walk is generic: it reads app.url_map and registry.auth.permissions.TABLE, so a
route added later is covered without touching this file.

For each rule, each method it accepts (HEAD and OPTIONS aside) and each caller
(anonymous and the seven roles), the test builds a URL with placeholder arguments
(integers -> 999999, an id that does not exist; anything else -> "x") and sends the
request with an empty body. HTML routes are called with the role's session cookie,
/api/ routes with the role's bearer token. Then:

* a caller the table denies gets 403, and the denial is written to the audit log
  (result "denied"); an anonymous caller is sent to /login?next=... on HTML
  routes and gets a 401 {code, message, field} on /api/ routes;
* a caller the table allows is never refused: no 401, no 403, no redirect to the
  login form, and no 500 (the empty body must give a clear 4xx, never a crash);
* scope-checked rules (Rule.scope set): with a non-existent id the scope may refuse
  (403 with an audit row whose reason is "scope:<name>") or let the view answer 404.
  Both count as "the scope ran"; a role refusal (reason "role") still fails the test.
"""
import uuid

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from registry.audit.models import AuditLog
from registry.auth.models import UserSession
from registry.auth.permissions import PUBLIC, TABLE
from tests.fixtures.accounts import ALL_ROLES, login

ANONYMOUS = "anonymous"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
MISSING_ID = 999999


def _placeholder(converter):
    kind = type(converter).__name__
    if kind in ("IntegerConverter", "NumberConverter") or isinstance(converter, IntegerConverter):
        return MISSING_ID
    if kind == "FloatConverter":
        return float(MISSING_ID)
    if kind == "UUIDConverter":
        return uuid.UUID(int=0)
    if kind == "AnyConverter":
        return converter.items[0] if hasattr(converter, "items") else "x"
    return "x"


def _url(rule):
    values = {name: _placeholder(conv) for name, conv in rule._converters.items()}
    return rule.build(values)[1]


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - SKIPPED_METHODS):
            yield rule, method


def _is_api(path):
    return path.startswith("/api/")


def _is_login_redirect(response):
    return response.status_code == 302 and "/login?next=" in response.headers.get("Location", "")


def _denials(db, user, endpoint):
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "authz.denied", AuditLog.result == "denied",
            AuditLog.actor_id == user.id, AuditLog.object_id == endpoint))


def _last_denial_reason(db, user, endpoint):
    row = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "authz.denied", AuditLog.actor_id == user.id,
                               AuditLog.object_id == endpoint).order_by(AuditLog.seq.desc())).first()
    return row.details.get("reason") if row is not None else None


def test_every_route_is_in_the_authorization_table(app):
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(TABLE))
    assert not missing, f"endpoints missing from registry.auth.permissions.TABLE: {missing}"


def test_table_has_no_stale_entries(app):
    """An entry without a route is harmless but usually a typo that leaves the real endpoint unlisted."""
    stale = sorted(set(TABLE) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not stale, f"TABLE entries with no route: {stale}"


def test_an_endpoint_missing_from_the_table_is_denied(app, db, login_as, monkeypatch):
    client, user = login_as("sys_admin")
    monkeypatch.delitem(TABLE, "admin.users")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert _last_denial_reason(db, user, "admin.users") == "not_in_table"


class Caller:
    """One role's way in: a logged-in client for HTML, a bearer token for /api/."""

    def __init__(self, app, db, role, create_user, bearer):
        self.app, self.db, self.role = app, db, role
        self.user = None
        self.client = app.test_client()
        self.headers = {}
        self._may_have_logged_out = False
        if role != ANONYMOUS:
            self.user = create_user(role)
            self.headers = bearer(self.user)
            self._login()

    def _login(self):
        response = login(self.client, self.user.username)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]

    def _still_logged_in(self):
        return self.db.session.scalar(
            select(func.count()).select_from(UserSession).where(
                UserSession.user_id == self.user.id, UserSession.revoked_at.is_(None))) > 0

    def request(self, method, path):
        if self.user is not None and not _is_api(path) and self._may_have_logged_out \
                and not self._still_logged_in():
            self.client = self.app.test_client()  # the previous call (e.g. logout) ended the session
            self._login()
        self._may_have_logged_out = method != "GET" and not _is_api(path)
        headers = self.headers if _is_api(path) else {}
        return self.client.open(path, method=method, headers=headers)


@pytest.mark.parametrize("role", [ANONYMOUS] + ALL_ROLES)
def test_routes_answer_as_the_table_says(app, db, create_user, bearer, role):
    caller = Caller(app, db, role, create_user, bearer)
    problems = []
    walked = 0
    for rule, method in _routes(app):
        table_rule = TABLE.get(rule.endpoint)
        if table_rule is None:
            continue  # reported by test_every_route_is_in_the_authorization_table
        path = _url(rule)
        public = table_rule.roles == PUBLIC
        allowed = public or (role != ANONYMOUS and table_rule.allows_role(role))
        before = _denials(db, caller.user, rule.endpoint) if not allowed and caller.user is not None else 0
        response = caller.request(method, path)
        walked += 1
        status = response.status_code
        where = f"{method} {path} ({rule.endpoint}) as {role}: {status}"

        if status >= 500:
            problems.append(f"{where}: server error")
        elif allowed:
            if status == 401 or _is_login_redirect(response):
                problems.append(f"{where}: allowed by the table but treated as not logged in")
            elif status == 403:
                reason = _last_denial_reason(db, caller.user, rule.endpoint) if caller.user else None
                scoped = table_rule.scope is not None and reason == f"scope:{table_rule.scope}"
                if not scoped:
                    problems.append(f"{where}: allowed by the table but refused (reason {reason!r})")
        elif role == ANONYMOUS:
            if _is_api(path):
                body = response.get_json(silent=True) or {}
                if status != 401 or set(body) < {"code", "message", "field"}:
                    problems.append(f"{where}: anonymous API call should get a 401 JSON error, got {body}")
            elif not _is_login_redirect(response):
                problems.append(f"{where}: anonymous should be sent to the login form")
        else:
            if status != 403:
                problems.append(f"{where}: the table denies this role, expected 403")
            elif _denials(db, caller.user, rule.endpoint) != before + 1:
                problems.append(f"{where}: the denial wrote no audit row with result 'denied'")
            elif _is_api(path) and (response.get_json(silent=True) or {}).get("code") != "forbidden":
                problems.append(f"{where}: API denial is not a JSON error")
    assert walked > 0
    assert not problems, "\n".join(problems)


def test_denial_audit_row_names_actor_endpoint_and_ip(app, db, login_as):
    client, user = login_as("provider_admin")
    assert client.get("/audit/").status_code == 403
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "authz.denied")
                             .order_by(AuditLog.seq.desc())).first()
    assert row.result == "denied"
    assert row.actor_id == user.id and row.actor_name == user.username and row.actor_role == "provider_admin"
    assert row.object_type == "endpoint" and row.object_id == "audit.index"
    assert row.ip == "127.0.0.1" and row.created_at is not None
    assert row.details["path"] == "/audit/" and row.details["reason"] == "role"


def test_denied_request_changes_nothing(app, db, login_as, create_user):
    """A refused POST rolls back whatever the view might have done; only the audit row stays."""
    from registry.auth.models import User

    client, _auditor = login_as("auditor")
    target = create_user("county_reviewer")
    response = client.post(f"/admin/users/{target.id}/disable")
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, target.id).disabled_at is None

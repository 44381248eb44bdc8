"""docs/domain.md "Audit": what the audit log records, the hash chain, audit-verify, and the auditor's view."""
from sqlalchemy import delete, select, text, update

from registry.audit import services as audit
from registry.audit.models import AuditLog
from registry.auth.models import User
from registry.config import load_config
from tests.fixtures.accounts import NEW_PASSWORD, PASSWORD, login, user_form


def rows(db, **where):
    stmt = select(AuditLog).order_by(AuditLog.seq)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditLog, name) == value)
    db.session.expire_all()
    return db.session.scalars(stmt).all()


def assert_complete(row):
    assert row.created_at is not None and row.action and row.result in ("success", "failure", "denied")
    assert row.ip == "127.0.0.1"
    assert len(row.hash) == 64 and len(row.prev_hash) == 64


def test_logins_are_recorded(app, db, create_user):
    user = create_user("auditor")
    login(app.test_client(), user.username, "Wrong#Passw0rd")
    login(app.test_client(), "ghost_user", "Wrong#Passw0rd")
    client = app.test_client()
    login(client, user.username)
    client.post("/logout")
    logins = rows(db, action="login")
    assert [(r.actor_name, r.result, r.details.get("reason")) for r in logins] == [
        (user.username, "failure", "bad_password"),
        ("ghost_user", "failure", "unknown_user"),
        (user.username, "success", None),
    ]
    assert logins[0].actor_id == user.id and logins[0].actor_role == "auditor"
    assert logins[1].actor_id is None
    for row in logins:
        assert_complete(row)
    (logout,) = rows(db, action="logout")
    assert logout.actor_id == user.id and logout.result == "success"


def test_authorization_failures_are_recorded(app, db, login_as):
    client, user = login_as("school_admin")
    client.get("/admin/users")
    (row,) = rows(db, action="authz.denied")
    assert row.result == "denied" and row.actor_id == user.id and row.object_id == "admin.users"
    assert_complete(row)


def test_user_state_changes_are_recorded(app, db, login_as, seeded_regions):
    client, admin = login_as("sys_admin")
    county = seeded_regions.get_by_code("360113")
    response = client.post("/admin/users/new", data=user_form("county_reviewer", username="new_reviewer",
                                                              region_id=county.id))
    assert response.status_code == 302
    target = db.session.scalar(select(User).where(User.username == "new_reviewer"))
    city = seeded_regions.get_by_code("360100")
    steps = [
        (f"/admin/users/{target.id}/disable", {}),
        (f"/admin/users/{target.id}/enable", {}),
        (f"/admin/users/{target.id}/password", {"new_password": "Mv4$kR8n@Qz2"}),
        (f"/admin/users/{target.id}/role", {"role": "city_reviewer", "region_id": city.id}),
    ]
    for path, data in steps:
        assert client.post(path, data=data).status_code == 302, path
    changes = [r for r in rows(db, object_type="user") if r.object_id == str(target.id)]
    assert [r.action for r in changes] == [
        "user.create", "user.disable", "user.enable", "user.reset_password", "user.assign_role"]
    for row in changes:
        assert row.actor_id == admin.id and row.actor_role == "sys_admin" and row.result == "success"
        assert_complete(row)
    assert changes[-1].details == {"before": {"role": "county_reviewer", "region_id": county.id},
                                   "after": {"role": "city_reviewer", "region_id": city.id}}
    # Passwords never go into the details.
    for row in rows(db):
        assert NEW_PASSWORD not in str(row.details) and "Mv4$kR8n@Qz2" not in str(row.details)


def test_a_failed_change_leaves_no_audit_row(app, db, login_as):
    """The row is written in the same transaction as the change, so a refused change leaves neither."""
    client, _admin = login_as("sys_admin")
    before = len(rows(db))
    response = client.post("/admin/users/new", data=user_form(password="weak"))
    assert response.status_code == 422
    assert len(rows(db)) == before


def test_rows_form_a_hash_chain(app, db, create_user):
    create_user("auditor")
    create_user("sys_admin")
    chain = rows(db)
    assert [r.seq for r in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == "0" * 64
    for earlier, later in zip(chain, chain[1:], strict=False):
        assert later.prev_hash == earlier.hash
    assert audit.verify_chain().ok


def test_retention_is_at_least_six_months():
    assert load_config()["AUDIT_RETENTION_DAYS"] >= 183


# ---------------------------------------------------------------- audit-verify

def verify_cli(app):
    result = app.test_cli_runner().invoke(args=["registry", "audit-verify"])
    return result.exit_code, result.output + (getattr(result, "stderr", "") or "")


def make_chain(db, n=5):
    for i in range(n):
        audit.record("test.event", object_type="thing", object_id=i, details={"n": i, "名称": "南昌"})
    db.session.commit()


def test_audit_verify_passes_on_a_clean_chain(app, db):
    make_chain(db)
    code, output = verify_cli(app)
    assert code == 0, output
    assert "audit chain OK: 5 rows verified" in output


def test_audit_verify_names_the_row_changed_by_raw_sql(app, db):
    make_chain(db)
    db.session.execute(text("UPDATE audit_log SET result = 'failure' WHERE seq = 3"))
    db.session.commit()
    code, output = verify_cli(app)
    assert code == 1
    assert "BROKEN at row 3" in output and "2 rows verified" in output


def test_audit_verify_names_the_row_whose_details_changed(app, db):
    make_chain(db)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("UPDATE audit_log SET details = CAST(:d AS JSON) WHERE seq = 4"), {"d": '{"n": 99}'})
    else:
        db.session.execute(text("UPDATE audit_log SET details = :d WHERE seq = 4"), {"d": '{"n": 99}'})
    db.session.commit()
    code, output = verify_cli(app)
    assert code == 1 and "BROKEN at row 4" in output


def test_audit_verify_detects_a_rewritten_hash(app, db):
    """Recomputing a row's own hash does not help: the next row's prev_hash no longer matches."""
    make_chain(db)
    row = db.session.get(AuditLog, 2)
    forged = {name: getattr(row, name) for name in audit.HASHED_FIELDS}
    forged["result"] = "failure"
    new_hash = audit.compute_hash(row.prev_hash, forged)
    db.session.execute(update(AuditLog).where(AuditLog.seq == 2).values(result="failure", hash=new_hash))
    db.session.commit()
    code, output = verify_cli(app)
    assert code == 1 and "BROKEN at row 3" in output


def test_audit_verify_detects_a_deleted_row(app, db):
    make_chain(db)
    db.session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    db.session.commit()
    code, output = verify_cli(app)
    assert code == 1 and "BROKEN at row 2" in output


def test_audit_verify_detects_a_deleted_last_row(app, db):
    make_chain(db)
    db.session.execute(delete(AuditLog).where(AuditLog.seq == 5))
    db.session.commit()
    code, output = verify_cli(app)
    assert code == 1 and "BROKEN at row 5" in output


def test_audit_verify_on_an_empty_log(app, db):
    code, output = verify_cli(app)
    assert code == 0 and "0 rows verified" in output


# ---------------------------------------------------------------- the auditor's view

def test_auditor_lists_and_filters_the_log(app, db, login_as, create_user):
    victim = create_user("provider_admin")
    login(app.test_client(), victim.username, "Wrong#Passw0rd")
    client, auditor = login_as("auditor")
    page = client.get("/audit/").get_data(as_text=True)
    assert "审计日志" in page and "user.create" in page and "login" in page

    failures = client.get("/audit/", query_string={"action": "login", "result": "failure"})
    assert failures.status_code == 200
    body = failures.get_data(as_text=True).split("<tbody>", 1)[1]
    assert victim.username in body and "原因：密码错误" in body  # issue 19: reasons in words
    assert "user.create" not in body

    by_actor = client.get("/audit/", query_string={"actor": auditor.username}).get_data(as_text=True)
    assert ">登录</a>" in by_actor and "密码错误" not in by_actor

    by_type = client.get("/audit/", query_string={"object_type": "user"}).get_data(as_text=True)
    assert "user.create" in by_type and "密码错误" not in by_type

    nothing = client.get("/audit/", query_string={"from": "2000-01-01", "to": "2000-01-02"}).get_data(as_text=True)
    nothing = nothing.split("<tbody>", 1)[1]
    assert "user.create" not in nothing

    junk = client.get("/audit/", query_string={"from": "not-a-date", "result": "nonsense", "page": "x"})
    assert junk.status_code == 200


def test_auditor_runs_the_verification_from_the_ui(app, db, login_as):
    client, _auditor = login_as("auditor")
    page = client.post("/audit/verify").get_data(as_text=True)
    assert "校验通过" in page
    db.session.execute(text("UPDATE audit_log SET actor_name = 'someone_else' WHERE seq = 1"))
    db.session.commit()
    page = client.post("/audit/verify").get_data(as_text=True)
    assert "校验失败" in page and "第 1 条" in page


def test_auditor_changes_nothing(app, db, login_as, create_user):
    client, _auditor = login_as("auditor")
    target = create_user("county_reviewer")
    for path, data in [
        (f"/admin/users/{target.id}/disable", {}),
        (f"/admin/users/{target.id}/password", {"new_password": NEW_PASSWORD}),
        (f"/admin/users/{target.id}/role", {"role": "auditor"}),
        ("/admin/users/new", {"username": "sneaky", "display_name": "x", "role": "sys_admin", "password": PASSWORD}),
    ]:
        assert client.post(path, data=data).status_code == 403, path
    db.session.expire_all()
    stored = db.session.get(User, target.id)
    assert stored.disabled_at is None and stored.role.value == "county_reviewer"
    assert db.session.scalar(select(User).where(User.username == "sneaky")) is None


def test_the_log_paginates(app, db, login_as):
    client, _auditor = login_as("auditor")
    for i in range(60):
        audit.record("test.event", object_type="thing", object_id=i)
    first = client.get("/audit/")
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "第 1 / 2 页" in page and "page=2" in page
    second = client.get("/audit/", query_string={"page": 2, "action": "test"}).get_data(as_text=True)
    assert "第 2 / 2 页" in second and "page=1" in second and "action=test" in second

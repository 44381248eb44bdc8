"""docs/domain.md "Roles and jurisdiction" (separation of duties): sys_admin manages users but never its own role; the
auditor only reads."""
import pytest
from sqlalchemy import select

from registry.audit.models import AuditLog
from registry.auth.models import User
from tests.fixtures.accounts import NEW_PASSWORD, login, user_form


def fresh(db, user_id):
    db.session.expire_all()
    return db.session.get(User, user_id)


@pytest.mark.parametrize("role, region_code", [
    ("city_reviewer", "360100"), ("county_reviewer", "360113"), ("inspector", "360113"), ("auditor", None)])
def test_sys_admin_cannot_change_its_own_role(login_as, db, seeded_regions, role, region_code):
    client, admin = login_as("sys_admin")
    data = {"role": role}
    if region_code:
        data["region_id"] = seeded_regions.get_by_code(region_code).id
    response = client.post(f"/admin/users/{admin.id}/role", data=data)
    assert response.status_code == 403
    assert "不能修改自己的角色或权限范围" in response.get_data(as_text=True)
    assert fresh(db, admin.id).role.value == "sys_admin"
    assert client.get("/admin/users").status_code == 200, "a refused self-grant keeps the admin logged in"


def test_sys_admin_cannot_disable_or_reset_itself(login_as, db):
    client, admin = login_as("sys_admin")
    assert client.post(f"/admin/users/{admin.id}/disable").status_code == 403
    assert fresh(db, admin.id).disabled_at is None


def test_self_grant_is_refused_through_the_api_of_services_too(db, create_user, seeded_regions):
    from registry.auth import services as auth
    from registry.core.errors import NotAllowed

    admin = create_user("sys_admin")
    with pytest.raises(NotAllowed):
        auth.assign_role(admin, role="city_reviewer", region_id=seeded_regions.get_by_code("360100").id, actor=admin)


def test_sys_admin_manages_other_users(login_as, db, seeded_regions):
    client, admin = login_as("sys_admin")
    county = seeded_regions.get_by_code("360113")
    response = client.post("/admin/users/new", data=user_form("county_reviewer", username="hg_reviewer",
                                                              region_id=county.id))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "hg_reviewer"))
    assert user.role.value == "county_reviewer" and user.region_id == county.id
    assert user.must_change_password and user.created_by_id == admin.id
    # The new user must change the temporary password before anything else.
    new_client = client.application.test_client()
    response = login(new_client, "hg_reviewer", NEW_PASSWORD)
    assert response.headers["Location"].endswith("/account/password")
    assert new_client.get("/dashboard").headers["Location"].endswith("/account/password")
    response = new_client.post("/account/password", data={
        "current_password": NEW_PASSWORD, "new_password": "Mv4$kR8n@Qz2", "confirm_password": "Mv4$kR8n@Qz2"})
    assert response.status_code == 302
    assert new_client.get("/account/").status_code == 200


def test_region_roles_need_a_region_of_the_right_level(login_as, seeded_regions):
    client, _admin = login_as("sys_admin")
    city = seeded_regions.get_by_code("360100")
    response = client.post("/admin/users/new", data=user_form("county_reviewer", region_id=city.id))
    assert response.status_code == 422
    assert "该角色的所属区划必须是县（市、区）" in response.get_data(as_text=True)


def test_duplicate_username_is_a_clear_error(login_as, create_user):
    client, _admin = login_as("sys_admin")
    existing = create_user("auditor")
    response = client.post("/admin/users/new", data=user_form(username=existing.username))
    assert response.status_code == 422
    assert "该用户名已被使用" in response.get_data(as_text=True)


def test_user_list_filters(login_as, create_user):
    client, _admin = login_as("sys_admin")
    reviewer = create_user("city_reviewer", display_name="赣州审核员甲", region_code="360700")
    auditor = create_user("auditor")
    page = client.get("/admin/users", query_string={"q": "赣州审核员"}).get_data(as_text=True)
    assert reviewer.username in page and auditor.username not in page
    page = client.get("/admin/users", query_string={"role": "auditor"}).get_data(as_text=True)
    assert auditor.username in page and reviewer.username not in page


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new"])
def test_auditor_cannot_open_admin_pages(login_as, db, path):
    client, auditor = login_as("auditor")
    assert client.get(path).status_code == 403
    assert client.post(path if path.endswith("new") else "/admin/users/new", data={}).status_code == 403
    denied = db.session.scalars(select(AuditLog).where(AuditLog.action == "authz.denied",
                                                       AuditLog.actor_id == auditor.id)).all()
    assert len(denied) == 2


def test_auditor_sees_the_audit_log_and_nothing_to_change(login_as):
    client, _auditor = login_as("auditor")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "审计日志" in page and "用户管理" not in page
    assert client.get("/audit/").status_code == 200
    # Its own account: it may change its password, but not touch other records.
    assert client.get("/account/").status_code == 200


def test_sys_admin_does_not_read_the_audit_log(login_as):
    client, _admin = login_as("sys_admin")
    assert client.get("/audit/").status_code == 403
    page = client.get("/dashboard").get_data(as_text=True)
    assert "用户管理" in page and "审计日志" not in page


def test_missing_user_is_404(login_as):
    client, _admin = login_as("sys_admin")
    response = client.get("/admin/users/999999")
    assert response.status_code == 404 and "不存在" in response.get_data(as_text=True)


def test_user_list_paginates(login_as, create_user):
    client, _admin = login_as("sys_admin")
    for _ in range(21):
        create_user("auditor")
    response = client.get("/admin/users", query_string={"role": "auditor"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "第 1 / 2 页" in page and "role=auditor" in page

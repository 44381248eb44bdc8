"""Schools management: sys_admin everywhere, county reviewers only in their county (404 elsewhere); school
admins; terms; the school's own after-school projects and the third-party share."""
from datetime import date

from sqlalchemy import select

from registry.audit.models import AuditLog
from registry.auth.models import User
from registry.schools.models import School, SchoolProject, Term
from tests.fixtures.accounts import NEW_PASSWORD
from tests.fixtures.schools import make_school_row, make_term


def _school_form(**fields):
    data = {"name": "南昌市红谷滩区凤凰城小学", "code": "3601130101", "county_code": "360113", "school_type": "primary",
            "address": "凤凰中大道 100 号", "student_count": "1500"}
    data.update(fields)
    return data


def test_sys_admin_registers_a_school(db, login_as):
    client, _admin = login_as("sys_admin")
    response = client.post("/schools/new", data=_school_form())
    assert response.status_code == 302
    school = db.session.scalar(select(School).where(School.code == "3601130101"))
    assert school.name == "南昌市红谷滩区凤凰城小学" and school.county.code == "360113"
    assert school.city.code == "360100" and school.student_count == 1500 and school.type_label == "小学"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3601130101" in page and "红谷滩区" in page
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "school.create",
                                                    AuditLog.object_id == str(school.id))) is not None


def test_code_must_be_ten_digits_and_unique_and_nothing_typed_is_lost(db, login_as):
    client, _admin = login_as("sys_admin")
    response = client.post("/schools/new", data=_school_form(code="36011301"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "学校标识码应为 10 位数字" in page
    assert "南昌市红谷滩区凤凰城小学" in page and "凤凰中大道 100 号" in page
    existing = make_school_row(db)
    response = client.post("/schools/new", data=_school_form(code=existing.code))
    assert response.status_code == 422
    assert f"学校标识码 {existing.code} 已被“{existing.name}”使用" in response.get_data(as_text=True)


def test_county_reviewer_works_only_in_their_county(db, login_as):
    client, reviewer = login_as("county_reviewer", region_code="360113")
    own = make_school_row(db, county_code="360113")
    other = make_school_row(db, county_code="360102", name="南昌市东湖区第一小学")
    listing = client.get("/schools").get_data(as_text=True)
    assert own.name in listing and other.name not in listing
    assert client.get(f"/schools/{own.id}").status_code == 200
    # Another county's school does not exist for this reviewer: reading, editing, adding admins.
    assert client.get(f"/schools/{other.id}").status_code == 404
    assert client.get(f"/schools/{other.id}/edit").status_code == 404
    response = client.post(f"/schools/{other.id}/edit", data=_school_form(name="改名", code=other.code,
                                                                           county_code="360102"))
    assert response.status_code == 404
    db.session.refresh(other)
    assert other.name == "南昌市东湖区第一小学"
    assert client.post(f"/schools/{other.id}/admins", data={"username": "x_admin", "display_name": "某",
                                                            "password": NEW_PASSWORD}).status_code == 404
    # Nor can it register a school in (or move one of its own to) another county.
    response = client.post("/schools/new", data=_school_form(county_code="360102"))
    assert response.status_code == 422 and "只能登记本辖区（红谷滩区）的学校" in response.get_data(as_text=True)
    response = client.post(f"/schools/{own.id}/edit", data=_school_form(code=own.code, county_code="360102"))
    assert response.status_code == 422
    db.session.refresh(own)
    assert own.county.code == "360113"


def test_county_reviewer_edits_a_school_of_their_county(db, login_as):
    client, _reviewer = login_as("county_reviewer", region_code="360113")
    school = make_school_row(db)
    response = client.post(f"/schools/{school.id}/edit", data=_school_form(code=school.code, name="新校名",
                                                                            school_type="nine_year"))
    assert response.status_code == 302
    db.session.refresh(school)
    assert school.name == "新校名" and school.type_label == "九年一贯制" and school.stage_mask == 7


def test_school_admin_account(db, login_as):
    client, _admin = login_as("sys_admin")
    school = make_school_row(db)
    response = client.post(f"/schools/{school.id}/admins", data={
        "username": "fenghuang_admin", "display_name": "凤凰城小学管理员", "password": NEW_PASSWORD})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "fenghuang_admin"))
    assert user.role.value == "school_admin" and user.school_id == school.id and user.must_change_password
    response = client.post(f"/schools/{school.id}/admins", data={
        "username": "fenghuang_admin", "display_name": "重复", "password": NEW_PASSWORD})
    assert response.status_code == 422 and "该用户名已被使用" in response.get_data(as_text=True)


def test_other_roles_cannot_manage_schools(db, login_as):
    school = make_school_row(db)
    for role in ("school_admin", "city_reviewer", "provider_admin", "inspector"):
        client, _user = login_as(role)
        assert client.get("/schools").status_code == 403, role
        assert client.get(f"/schools/{school.id}").status_code == 403, role


def test_sys_admin_manages_terms(db, login_as):
    client, _admin = login_as("sys_admin")
    response = client.post("/terms", data={"name": "2026—2027学年第一学期", "starts_on": "2026-09-01",
                                           "ends_on": "2027-01-22"})
    assert response.status_code == 302
    term = db.session.scalar(select(Term).where(Term.name == "2026—2027学年第一学期"))
    assert term.starts_on == date(2026, 9, 1)
    response = client.post("/terms", data={"name": "反了", "starts_on": "2026-09-01", "ends_on": "2026-08-01"})
    assert response.status_code == 422 and "学期结束日期须晚于开始日期" in response.get_data(as_text=True)
    response = client.post(f"/terms/{term.id}/edit", data={"name": term.name, "starts_on": "2026-08-31",
                                                            "ends_on": "2027-01-22"})
    assert response.status_code == 302
    db.session.refresh(term)
    assert term.starts_on == date(2026, 8, 31)
    reviewer, _user = login_as("county_reviewer")
    assert reviewer.get("/terms").status_code == 403


def test_own_projects_and_share(db, client, whitelisted, ordering_school):
    from registry.orders import services as orders
    from tests.fixtures.orders import order_fields
    from tests.fixtures.reviews import client_as

    school, term, admin = ordering_school["school"], ordering_school["term"], ordering_school["admin"]
    orders.create_order(school, actor=admin, **order_fields(whitelisted["entry"], term))
    browser = client_as(client.application, admin)
    page = browser.get(f"/school/projects?term_id={term.id}").get_data(as_text=True)
    assert "合唱团" in page and "书法社" in page
    assert "本校自有课后服务项目 3 个，第三方项目 1 个，第三方占比 25%，本市上限 30%" in page
    response = browser.post("/school/projects", data={"term_id": term.id, "name": "围棋社", "category": "clubs",
                                                      "teacher": "李老师"})
    assert response.status_code == 302
    assert "本校自有课后服务项目 4 个，第三方项目 1 个，第三方占比 20%" in browser.get(
        f"/school/projects?term_id={term.id}").get_data(as_text=True)
    response = browser.post("/school/projects", data={"term_id": term.id, "name": "围棋社", "category": "clubs",
                                                      "teacher": "王老师"})
    assert response.status_code == 422 and "已有名为“围棋社”的项目" in response.get_data(as_text=True)
    # Removing own projects down to 2 (1/3 = 33%) would exceed the limit: refused with the numbers.
    mine = db.session.scalars(select(SchoolProject).where(SchoolProject.school_id == school.id)
                              .order_by(SchoolProject.id)).all()
    assert browser.post(f"/school/projects/{mine[0].id}/delete").status_code == 302
    response = browser.post(f"/school/projects/{mine[1].id}/delete")
    assert response.status_code == 422
    assert "第三方项目将占课后服务项目的 33%（1/3），超过本市上限 30%，不能删除" in response.get_data(as_text=True)


def test_own_projects_of_another_school_are_not_found(db, client, ordering_school, create_user):
    from tests.fixtures.reviews import client_as
    other = make_school_row(db)
    project = SchoolProject(school_id=other.id, term_id=ordering_school["term"].id, name="别校项目",
                            category="arts", teacher="某")
    db.session.add(project)
    db.session.flush()
    browser = client_as(client.application, ordering_school["admin"])
    assert browser.post(f"/school/projects/{project.id}/delete").status_code == 404
    assert db.session.get(SchoolProject, project.id) is not None


def test_school_and_term_api(db, client, create_user, bearer):
    admin = create_user("sys_admin")
    headers = bearer(admin)
    response = client.post("/api/v1/schools", json={"name": "南昌市红谷滩区凤凰城小学", "code": "3601130102",
                                                    "county_code": "360113", "school_type": "nine_year"},
                           headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["county"]["name"] == "红谷滩区" and body["type_label"] == "九年一贯制"
    response = client.patch(f"/api/v1/schools/{body['id']}", json={"student_count": 900}, headers=headers)
    assert response.status_code == 200 and response.json["student_count"] == 900
    response = client.post("/api/v1/schools", json={"name": "x", "code": "123", "county_code": "360113",
                                                    "school_type": "primary"}, headers=headers)
    assert response.status_code == 422 and response.json["field"] == "code"
    assert "10 位数字" in response.json["message"]
    response = client.post(f"/api/v1/schools/{body['id']}/admins", json={
        "username": "api_school_admin", "display_name": "接口管理员", "password": NEW_PASSWORD}, headers=headers)
    assert response.status_code == 201 and response.json["must_change_password"] is True
    make_term(db, name="2027—2028学年第一学期", starts_on=date(2027, 9, 1), ends_on=date(2028, 1, 20))
    names = [t["name"] for t in client.get("/api/v1/schools/terms", headers=headers).json]
    assert "2027—2028学年第一学期" in names

    reviewer = create_user("county_reviewer", region_code="360102")
    other_headers = bearer(reviewer)
    assert client.get(f"/api/v1/schools/{body['id']}", headers=other_headers).status_code == 404
    response = client.patch(f"/api/v1/schools/{body['id']}", json={"name": "改名"}, headers=other_headers)
    assert response.status_code == 404 and response.json["code"] == "not_found"
    assert client.get("/api/v1/schools", headers=other_headers).json["total"] == 0

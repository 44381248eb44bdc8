"""Service project pages: the form keeps what was typed and names each broken rule in Chinese."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from registry.policy.models import CityPolicy
from registry.projects.models import Project
from tests.fixtures.accounts import login
from tests.fixtures.providers import PROJECT_DEFAULTS, add_cleared_person, add_project


def _form(**overrides):
    data = {**PROJECT_DEFAULTS, **overrides}
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(app, db, complete_dossier):
    client = app.test_client()
    assert login(client, complete_dossier["admin"].username).status_code == 302
    return client, complete_dossier


def _count(db, provider):
    return db.session.scalar(select(func.count()).select_from(Project).where(Project.provider_id == provider.id))


def test_index_lists_projects_with_price_staff_and_state(admin_client):
    client, d = admin_client
    page = client.get("/provider/projects").get_data(as_text=True)
    assert "花样跳绳" in page and "体育" in page and "3.00 元/人·课时" in page
    assert "1 人，其中今日准入 1 人" in page and "草稿" in page
    assert "上限为 5.00 元/人·课时" in page


def test_new_project_is_created_and_staff_assigned(admin_client, db):
    client, d = admin_client
    response = client.post("/provider/projects/new",
                           data=_form(title="校园足球", staff_ids=[str(d["person"].id)]))
    assert response.status_code == 302
    project = db.session.scalar(select(Project).where(Project.title == "校园足球"))
    assert [link.person_id for link in project.staff] == [d["person"].id]
    assert response.headers["Location"].endswith(f"/provider/projects/{project.id}")


def test_form_shows_city_cap_and_each_persons_clearance(admin_client):
    client, d = admin_client
    page = client.get(f"/provider/projects/{d['project'].id}").get_data(as_text=True)
    assert "本市公益性收费上限为 5.00 元/人·课时" in page
    assert "王老师1" in page and "已准入" in page
    page = client.get("/provider/projects/new").get_data(as_text=True)
    assert "王老师1" in page  # clearance shown against any valid qualification until a type is chosen


@pytest.mark.parametrize("field, text, word", [
    ("title", "小学数学思维训练", "数学"),
    ("title", "英语口语角", "英语"),
    ("description", "每周一次作文指导", "作文"),
    ("description", "奥数竞赛入门", "奥数"),
])
def test_subject_tutoring_is_refused_naming_the_field(admin_client, db, field, text, word):
    client, d = admin_client
    before = _count(db, d["provider"])
    response = client.post("/provider/projects/new", data=_form(**{field: text}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    label = {"title": "项目名称", "description": "项目简介"}[field]
    assert f"{label}含有学科类内容“{word}”" in page
    assert text in page  # what was typed is kept
    assert _count(db, d["provider"]) == before


def test_category_outside_the_list_is_refused(admin_client, db):
    client, d = admin_client
    response = client.post("/provider/projects/new", data=_form(category="subject_tutoring"))
    assert response.status_code == 422
    assert "活动类别无效" in response.get_data(as_text=True)


def test_price_above_the_default_cap_is_refused_and_at_the_cap_accepted(admin_client, db):
    client, d = admin_client
    response = client.post("/provider/projects/new", data=_form(title="篮球", price="5.01"))
    assert response.status_code == 422
    assert "收费标准 5.01 元/人·课时 超过本市公益性收费上限 5.00 元/人·课时" in response.get_data(as_text=True)
    assert client.post("/provider/projects/new", data=_form(title="篮球", price="5.00")).status_code == 302


def test_the_citys_own_cap_applies(admin_client, db):
    client, d = admin_client
    db.session.add(CityPolicy(city_id=d["provider"].city_id, price_cap=Decimal("3.50")))
    db.session.flush()
    response = client.post("/provider/projects/new", data=_form(title="排球", price="3.60"))
    assert response.status_code == 422
    assert "超过本市公益性收费上限 3.50 元/人·课时" in response.get_data(as_text=True)
    assert client.post("/provider/projects/new", data=_form(title="排球", price="3.50")).status_code == 302
    assert "上限为 3.50 元/人·课时" in client.get("/provider/projects").get_data(as_text=True)


def test_staff_of_another_provider_is_refused(admin_client, db, create_user):
    client, d = admin_client
    other_admin = create_user("provider_admin")
    stranger = add_cleared_person(other_admin.provider, other_admin, n=9, name="外机构老师")
    response = client.post(f"/provider/projects/{d['project'].id}",
                           data=_form(staff_ids=[str(d["person"].id), str(stranger.id)]))
    assert response.status_code == 422
    assert "只能指派本机构登记的在册人员" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [link.person_id for link in db.session.get(Project, d["project"].id).staff] == [d["person"].id]


def test_missing_fields_are_named(admin_client):
    client, _d = admin_client
    response = client.post("/provider/projects/new", data={"title": "科学实验"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请至少选择一个学段" in page and "此项为必填项" in page and "科学实验" in page


def test_edit_saves_and_clears_optional_text(admin_client, db):
    client, d = admin_client
    response = client.post(f"/provider/projects/{d['project'].id}",
                           data=_form(syllabus="", class_max="25", staff_ids=[str(d["person"].id)]))
    assert response.status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, d["project"].id)
    assert project.syllabus == "" and project.class_max == 25


def test_other_providers_project_is_404(app, db, complete_dossier, login_as):
    client, _user = login_as("provider_admin")
    pid = complete_dossier["project"].id
    assert client.get(f"/provider/projects/{pid}").status_code == 404
    assert client.post(f"/provider/projects/{pid}", data=_form(title="被篡改")).status_code == 404
    db.session.expire_all()
    assert db.session.get(Project, pid).title == "花样跳绳"
    assert "花样跳绳" not in client.get("/provider/projects").get_data(as_text=True)


def test_reviewer_cannot_use_project_pages(login_as, complete_dossier):
    client, _user = login_as("county_reviewer")
    assert client.get("/provider/projects").status_code == 403


def test_project_shows_applying_after_submission(admin_client):
    from registry.applications import services as applications
    client, d = admin_client
    add_project(d["provider"], d["admin"], title="趣味田径", staff=[d["person"]])
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    applications.submit(app, actor=d["admin"])
    page = client.get("/provider/projects").get_data(as_text=True)
    row = page[page.index("花样跳绳"):page.index("趣味田径")]
    assert "申报中" in row
    assert "草稿" in page[page.index("趣味田径"):]

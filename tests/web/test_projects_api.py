"""JSON API for projects: the same schema and services as the form; errors as {code, message, field}."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from registry.policy.models import CityPolicy
from registry.projects.models import Project
from tests.fixtures.providers import PROJECT_DEFAULTS, add_cleared_person


@pytest.fixture
def api(app, db, complete_dossier, bearer):
    return app.test_client(), bearer(complete_dossier["admin"]), complete_dossier


def _body(**overrides):
    return {**PROJECT_DEFAULTS, "sessions_per_term": 16, **overrides}


def _count(db):
    return db.session.scalar(select(func.count()).select_from(Project))


def test_list_and_get_own_projects(api):
    client, headers, d = api
    listed = client.get("/api/v1/projects", headers=headers).get_json()
    assert [p["title"] for p in listed] == ["花样跳绳"]
    one = client.get(f"/api/v1/projects/{d['project'].id}", headers=headers).get_json()
    assert one["price"] == "3.00" and one["category"] == "sports" and one["category_label"] == "体育"
    assert one["stages"] == ["lower_primary", "upper_primary"]
    assert one["staff"] == [{"id": d["person"].id, "name": "王老师1", "staff_role": "teacher"}]


def test_create_and_patch(api, db):
    client, headers, d = api
    response = client.post("/api/v1/projects", json=_body(title="少儿合唱", category="arts", price=4.5,
                                                         staff_ids=[d["person"].id]), headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["price"] == "4.50" and created["staff"][0]["id"] == d["person"].id
    response = client.patch(f"/api/v1/projects/{created['id']}", json={"price": "2.00", "staff_ids": []},
                            headers=headers)
    assert response.status_code == 200
    assert response.get_json()["price"] == "2.00" and response.get_json()["staff"] == []
    assert response.get_json()["title"] == "少儿合唱"


@pytest.mark.parametrize("field, text", [("title", "初中物理实验"), ("description", "数学拓展课"),
                                         ("title", "英语绘本"), ("description", "奥数思维")])
def test_subject_words_get_422_naming_the_field(api, db, field, text):
    client, headers, _d = api
    before = _count(db)
    response = client.post("/api/v1/projects", json=_body(**{field: text}), headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid" and body["field"] == field and "学科类内容" in body["message"]
    assert _count(db) == before


def test_category_is_constrained(api):
    client, headers, _d = api
    response = client.post("/api/v1/projects", json=_body(category="math"), headers=headers)
    assert response.status_code == 422
    assert response.get_json()["field"] == "category" and "活动类别无效" in response.get_json()["message"]


def test_price_cap_default_and_per_city(api, db):
    client, headers, d = api
    response = client.post("/api/v1/projects", json=_body(price="5.50"), headers=headers)
    assert response.status_code == 422
    assert response.get_json()["field"] == "price" and "上限 5.00" in response.get_json()["message"]
    assert client.post("/api/v1/projects", json=_body(price="5.00"), headers=headers).status_code == 201
    db.session.add(CityPolicy(city_id=d["provider"].city_id, price_cap=Decimal("8.00")))
    db.session.flush()
    assert client.post("/api/v1/projects", json=_body(price="7.99"), headers=headers).status_code == 201
    response = client.patch(f"/api/v1/projects/{d['project'].id}", json={"price": "8.01"}, headers=headers)
    assert response.status_code == 422 and "上限 8.00" in response.get_json()["message"]


def test_staff_from_another_provider_is_refused(api, db, create_user):
    client, headers, d = api
    other = create_user("provider_admin")
    stranger = add_cleared_person(other.provider, other, n=7)
    response = client.patch(f"/api/v1/projects/{d['project'].id}", json={"staff_ids": [stranger.id]},
                            headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "staff_ids"
    db.session.expire_all()
    assert [s.person_id for s in db.session.get(Project, d["project"].id).staff] == [d["person"].id]


def test_unknown_fields_are_refused(api, db):
    client, headers, _d = api
    before = _count(db)
    response = client.post("/api/v1/projects", json=_body(provider_id=1), headers=headers)
    assert response.status_code == 400 and response.get_json()["field"] == "provider_id"
    assert _count(db) == before


def test_other_providers_project_is_404(app, db, complete_dossier, create_user, bearer):
    client = app.test_client()
    headers = bearer(create_user("provider_admin"))
    pid = complete_dossier["project"].id
    assert client.get(f"/api/v1/projects/{pid}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/projects/{pid}", json={"title": "x"}, headers=headers).status_code == 404
    assert client.get("/api/v1/projects", headers=headers).get_json() == []

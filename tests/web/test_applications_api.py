"""JSON API for applications: checklist, submit, withdraw, 409 on illegal moves, no mass assignment, no IDOR."""
import pytest
from sqlalchemy import func, select

from registry.applications.models import Application, ApplicationStatus
from registry.projects import services as projects
from tests.fixtures.providers import add_cleared_person


@pytest.fixture
def api(app, db, complete_dossier, bearer):
    return app.test_client(), bearer(complete_dossier["admin"]), complete_dossier


def _count(db):
    return db.session.scalar(select(func.count()).select_from(Application))


def _create(client, headers, d):
    response = client.post("/api/v1/applications", json={"project_ids": [d["project"].id]}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_check_submit_read(api):
    client, headers, d = api
    created = _create(client, headers, d)
    assert created["status"] == "draft" and created["snapshot"] is None
    assert created["projects"] == [{"id": d["project"].id, "title": "花样跳绳"}]
    checklist = client.get(f"/api/v1/applications/{created['id']}/checklist", headers=headers).get_json()
    assert checklist == {"application_id": created["id"], "status": "draft", "ready": True, "missing": []}
    response = client.post(f"/api/v1/applications/{created['id']}/submit", headers=headers)
    assert response.status_code == 200
    body = client.get(f"/api/v1/applications/{created['id']}", headers=headers).get_json()
    assert body["status"] == "county_review" and body["status_label"] == "县级初审中"
    assert body["snapshot_number"] == 1
    assert body["snapshot"]["projects"][0]["price"] == "3.00"
    assert body["snapshot"]["people"][0]["id_masked"] == d["person"].id_masked
    listed = client.get("/api/v1/applications", headers=headers).get_json()
    assert [a["id"] for a in listed] == [created["id"]] and "snapshot" not in listed[0]


def test_submit_refused_names_each_missing_item(api, db):
    client, headers, d = api
    lacking = add_cleared_person(d["provider"], d["admin"], n=3, consent=False, name="赵老师")
    projects.update_project(d["project"], actor=d["admin"], staff_ids=[lacking.id])
    created = _create(client, headers, d)
    checklist = client.get(f"/api/v1/applications/{created['id']}/checklist", headers=headers).get_json()
    assert checklist["ready"] is False
    assert checklist["missing"] == [{"area": "people", "key": f"person:{lacking.id}",
                                     "message": "赵老师：缺少本人签署的查询授权同意书"}]
    response = client.post(f"/api/v1/applications/{created['id']}/submit", headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid" and body["field"] == f"person:{lacking.id}"
    assert body["errors"] == {f"person:{lacking.id}": ["赵老师：缺少本人签署的查询授权同意书"]}
    assert "还有 1 项未满足" in body["message"]
    db.session.expire_all()
    assert db.session.get(Application, created["id"]).status == ApplicationStatus.draft


def test_set_projects_only_while_draft(api):
    client, headers, d = api
    created = _create(client, headers, d)
    response = client.put(f"/api/v1/applications/{created['id']}/projects", json={"project_ids": []},
                          headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "project_ids"
    client.post(f"/api/v1/applications/{created['id']}/submit", headers=headers)
    response = client.put(f"/api/v1/applications/{created['id']}/projects",
                          json={"project_ids": [d["project"].id]}, headers=headers)
    assert response.status_code == 409 and "县级初审中" in response.get_json()["message"]


def test_illegal_transitions_are_409_naming_the_state(api):
    client, headers, d = api
    created = _create(client, headers, d)
    assert client.post(f"/api/v1/applications/{created['id']}/submit", headers=headers).status_code == 200
    response = client.post(f"/api/v1/applications/{created['id']}/submit", headers=headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "invalid_transition" and "“县级初审中”" in response.get_json()["message"]
    response = client.post(f"/api/v1/applications/{created['id']}/withdraw", json={"reason": "暂缓"},
                           headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    response = client.post(f"/api/v1/applications/{created['id']}/withdraw", json={}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "invalid_transition" and "“已撤回”" in response.get_json()["message"]


def test_one_open_application_per_provider(api, db):
    client, headers, d = api
    _create(client, headers, d)
    before = _count(db)
    response = client.post("/api/v1/applications", json={"project_ids": [d["project"].id]}, headers=headers)
    assert response.status_code == 409 and response.get_json()["code"] == "open_application_exists"
    assert _count(db) == before


def test_withdraw_draft_and_reapply(api):
    client, headers, d = api
    first = _create(client, headers, d)
    assert client.post(f"/api/v1/applications/{first['id']}/withdraw", headers=headers).status_code == 200
    second = _create(client, headers, d)
    assert second["id"] != first["id"]


@pytest.mark.parametrize("extra", [{"status": "approved"}, {"reviewer_id": 1}, {"provider_id": 1}])
def test_mass_assignment_is_refused(api, db, extra):
    client, headers, d = api
    before = _count(db)
    response = client.post("/api/v1/applications", json={"project_ids": [d["project"].id], **extra},
                           headers=headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "unknown_field" and body["field"] == next(iter(extra))
    assert _count(db) == before


def test_submit_takes_no_fields(api, db):
    client, headers, d = api
    created = _create(client, headers, d)
    response = client.post(f"/api/v1/applications/{created['id']}/submit", json={"status": "approved"},
                           headers=headers)
    assert response.status_code == 400 and response.get_json()["field"] == "status"
    db.session.expire_all()
    assert db.session.get(Application, created["id"]).status == ApplicationStatus.draft


def test_projects_of_another_provider_cannot_be_chosen(api, db, create_user, bearer):
    client, headers, d = api
    other = create_user("provider_admin")
    response = client.post("/api/v1/applications", json={"project_ids": [d["project"].id]}, headers=bearer(other))
    assert response.status_code == 422 and response.get_json()["field"] == "project_ids"


def test_another_provider_gets_404(api, db, create_user, bearer):
    client, headers, d = api
    created = _create(client, headers, d)
    stranger = bearer(create_user("provider_admin"))
    base = f"/api/v1/applications/{created['id']}"
    assert client.get(base, headers=stranger).status_code == 404
    assert client.get(f"{base}/checklist", headers=stranger).status_code == 404
    assert client.put(f"{base}/projects", json={"project_ids": [1]}, headers=stranger).status_code == 404
    assert client.post(f"{base}/submit", headers=stranger).status_code == 404
    assert client.post(f"{base}/withdraw", headers=stranger).status_code == 404
    assert client.get("/api/v1/applications", headers=stranger).get_json() == []
    db.session.expire_all()
    assert db.session.get(Application, created["id"]).status == ApplicationStatus.draft


def test_reviewers_cannot_use_the_provider_api(api, create_user, bearer):
    client, _headers, d = api
    reviewer = bearer(create_user("county_reviewer"))
    assert client.get("/api/v1/applications", headers=reviewer).status_code == 403

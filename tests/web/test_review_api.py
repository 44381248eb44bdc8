"""/api/v1/reviews: the queue, one application's review, decisions and verification, with
{code, message, field} errors and 409 naming the current state."""
import pytest

from registry.applications import services as applications
from registry.applications.models import Application
from registry.applications.models import ApplicationStatus as S
from registry.projects import services as projects
from tests.fixtures.reviews import to_city_review, verify_all


@pytest.fixture
def api(app, db):
    return app.test_client()


def _status(db, a):
    db.session.expire_all()
    return db.session.get(Application, a.id).status


def test_queue(api, submitted, reviewers, bearer):
    a = submitted["application"]
    body = api.get("/api/v1/reviews/queue", headers=bearer(reviewers["county"])).get_json()
    assert [row["application"]["id"] for row in body] == [a.id]
    row = body[0]
    assert row["waiting_days"] == 0 and row["waiting_working_days"] == 0 and row["decision_problem"] is None
    assert row["application"]["provider"]["name"] == submitted["provider"].name and row["projects"] == ["花样跳绳"]
    assert api.get("/api/v1/reviews/queue", headers=bearer(reviewers["city"])).get_json() == []
    assert api.get("/api/v1/reviews/queue?kind=annual", headers=bearer(reviewers["county"])).get_json() == []


def test_queue_refuses_bad_arguments(api, submitted, reviewers, bearer):
    headers = bearer(reviewers["county"])
    response = api.get("/api/v1/reviews/queue?sort=sideways", headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "sort"
    response = api.get("/api/v1/reviews/queue?stage=approved", headers=headers)
    assert response.status_code == 422 and "审核阶段应为县级初审或市级复审" in response.get_json()["message"]


def test_review_of_one_application(api, submitted, reviewers, bearer):
    a = submitted["application"]
    body = api.get(f"/api/v1/reviews/applications/{a.id}", headers=bearer(reviewers["county"])).get_json()
    assert body["application"]["status"] == "county_review" and body["application"]["version"] == a.version
    assert body["snapshot_number"] == 1 and body["snapshot"]["organisation"]["uscc"] == submitted["provider"].uscc
    assert body["diff"] == [] and body["comments"] == [] and body["decision_problem"] is None
    assert body["decisions"] == ["pass", "return", "reject"]
    assert {d["id"] for d in body["documents"]} == {d.id for d in submitted["documents"]}
    assert all(c["verification_status"] == "pending" for c in body["checks"])
    other = api.get(f"/api/v1/reviews/applications/{a.id}", headers=bearer(reviewers["city"])).get_json()
    assert other["decision_problem"].startswith("该申报处于县级初审阶段")


def test_pass_and_stale_version(api, db, submitted, reviewers, bearer, create_user):
    a = submitted["application"]
    verify_all(a, reviewers["county"])
    seen = a.version
    response = api.post(f"/api/v1/reviews/applications/{a.id}/pass", json={"version": seen, "note": "齐全"},
                        headers=bearer(reviewers["county"]))
    assert response.status_code == 200 and response.get_json()["status"] == "city_review"
    again = bearer(create_user("county_reviewer", region_code="360113"))
    response = api.post(f"/api/v1/reviews/applications/{a.id}/pass", json={"version": seen}, headers=again)
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "concurrent_update" and "当前状态为“市级复审中”" in body["message"]


def test_illegal_transition_is_409_naming_the_state(api, submitted, reviewers, bearer):
    a = to_city_review(submitted, reviewers)
    response = api.post(f"/api/v1/reviews/applications/{a.id}/pass", json={}, headers=bearer(reviewers["county"]))
    assert response.status_code == 409
    assert response.get_json() == {"code": "invalid_transition", "field": None,
                                   "message": "当前状态为“市级复审中”，不能报送市级复审"}


def test_approve_in_principle(api, db, submitted, reviewers, bearer):
    a = to_city_review(submitted, reviewers)
    version = a.version
    response = api.post(f"/api/v1/reviews/applications/{a.id}/approve-in-principle", json={"version": version},
                        headers=bearer(reviewers["city"]))
    assert response.status_code == 200
    assert response.get_json()["status"] == "city_review" and response.get_json()["version"] == version + 1
    body = api.get(f"/api/v1/reviews/applications/{a.id}", headers=bearer(reviewers["city"])).get_json()
    assert body["batch"].endswith("（待公示）")


def test_return_then_resubmit_shows_diff_and_comments(api, db, submitted, reviewers, bearer):
    a, d = submitted["application"], submitted
    headers = bearer(reviewers["county"])
    response = api.post(f"/api/v1/reviews/applications/{a.id}/return", headers=headers, json={
        "version": a.version, "comments": {f"project:{d['project'].id}": "收费偏高"}, "general": "请修改"})
    assert response.status_code == 200 and response.get_json()["status"] == "draft"
    projects.update_project(d["project"], actor=d["admin"], price="1.50")
    applications.submit(db.session.get(Application, a.id), actor=d["admin"])
    body = api.get(f"/api/v1/reviews/applications/{a.id}", headers=headers).get_json()
    assert body["snapshot_number"] == 2
    assert {"area": "projects", "item_key": f"project:{d['project'].id}", "item": "花样跳绳",
            "field": "收费标准（元/人·课时）", "before": "3.00", "after": "1.50"} in body["diff"]
    comments = {c["item_key"]: (c["snapshot_number"], c["text"]) for c in body["comments"]}
    assert comments == {f"project:{d['project'].id}": (1, "收费偏高"), "general": (1, "请修改")}


def test_reject_needs_a_reason(api, submitted, reviewers, bearer):
    a = submitted["application"]
    response = api.post(f"/api/v1/reviews/applications/{a.id}/reject", json={"version": a.version},
                        headers=bearer(reviewers["county"]))
    assert response.status_code == 422
    assert response.get_json()["field"] == "reason" and response.get_json()["message"] == "不予通过时必须填写理由"


def test_verify_document_and_check(api, db, submitted, reviewers, bearer):
    a = submitted["application"]
    headers = bearer(reviewers["county"])
    doc = submitted["documents"][0]
    response = api.post(f"/api/v1/reviews/documents/{doc.id}/verify", headers=headers,
                        json={"application_id": a.id, "decision": "verified"})
    assert response.status_code == 200 and response.get_json()["verification_status"] == "verified"
    check = submitted["person"].checks[0]
    response = api.post(f"/api/v1/reviews/checks/{check.id}/verify", headers=headers,
                        json={"application_id": a.id, "decision": "adverse"})
    assert response.status_code == 422 and response.get_json()["field"] == "note"
    response = api.post(f"/api/v1/reviews/checks/{check.id}/verify", headers=headers,
                        json={"application_id": a.id, "decision": "verified", "note": "与原件一致"})
    assert response.get_json()["verification_status"] == "verified" and response.get_json()["result"] == "clear"
    response = api.post(f"/api/v1/reviews/documents/{doc.id}/verify", headers=headers, json={"decision": "verified"})
    assert response.status_code == 422 and response.get_json()["field"] == "application_id"


@pytest.mark.parametrize("role", ["sys_admin", "auditor"])
def test_sys_admin_and_auditor_cannot_decide(api, db, submitted, create_user, bearer, role):
    a = submitted["application"]
    headers = bearer(create_user(role))
    for decision in ("pass", "return", "reject", "approve-in-principle"):
        response = api.post(f"/api/v1/reviews/applications/{a.id}/{decision}", json={"reason": "x"}, headers=headers)
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    assert api.get("/api/v1/reviews/queue", headers=headers).status_code == 403
    assert _status(db, a) == S.county_review


def test_other_jurisdiction_is_404(api, db, submitted, reviewers, bearer):
    a = submitted["application"]
    for who in ("other_county", "other_city"):
        headers = bearer(reviewers[who])
        assert api.get(f"/api/v1/reviews/applications/{a.id}", headers=headers).status_code == 404
        assert api.post(f"/api/v1/reviews/applications/{a.id}/reject", json={"reason": "x"},
                        headers=headers).status_code == 404
    assert _status(db, a) == S.county_review

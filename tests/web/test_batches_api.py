"""/api/v1/batches, /api/v1/objections and the public /api/v1/publicity: the same services as the pages."""
import json
import re
from datetime import date

from sqlalchemy import select

from registry.applications.models import ApplicationStatus as S
from registry.batches import services as batches
from registry.batches.models import ReleaseBatch
from registry.whitelist.models import WhitelistEntry
from tests.fixtures.reviews import OBJECTION, at, batch_in_publicity, to_city_review

ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def test_whole_flow_through_the_api(app, db, submitted, reviewers, bearer):
    at(date(2026, 3, 2))
    application = to_city_review(submitted, reviewers)
    client, headers = app.test_client(), bearer(reviewers["city"])

    assert client.get("/api/v1/batches", headers=headers).get_json() == []
    response = client.post("/api/v1/batches", json={}, headers=headers)
    assert response.status_code == 201
    batch = response.get_json()
    assert batch["name"] == "2026年第1批" and batch["status"] == "draft" and batch["issuer"] == "南昌市教育局"
    assert batch["items"] == [] and batch["publish_problem"]

    response = client.post(f"/api/v1/batches/{batch['id']}/items", json={"application_id": application.id},
                           headers=headers)
    assert response.status_code == 201
    items = response.get_json()["items"]
    assert [(i["application_id"], i["provider_name"]) for i in items] == [(application.id, submitted["provider"].name)]
    assert items[0]["projects"][0]["price"] == "3.00"

    response = client.post(f"/api/v1/batches/{batch['id']}/publicity", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["publicity_start"], body["publicity_end"]) == ("publicity", "2026-03-02", "2026-03-09")
    assert body["calendar_warning"] is None
    assert body["publish_problem"] == "公示期至 2026-03-09 结束，2026-03-10 起方可发布"

    public = app.test_client()
    listed = public.get("/api/v1/publicity").get_json()
    assert [b["id"] for b in listed] == [batch["id"]]
    provider = listed[0]["providers"][0]
    assert set(provider) == {"application_id", "name", "uscc", "org_type", "org_type_label", "county", "projects"}
    assert set(provider["projects"][0]) == {"title", "category", "category_label", "stages", "stage_labels", "level",
                                            "level_label", "price"}
    response = public.post(f"/api/v1/publicity/{batch['id']}/objections",
                           json={"application_id": application.id, **OBJECTION})
    assert response.status_code == 201 and response.get_json()["status"] == "open"
    objection_id = response.get_json()["id"]

    objections = client.get(f"/api/v1/batches/{batch['id']}/objections", headers=headers).get_json()
    assert [(o["id"], o["name"], o["contact"], o["status"]) for o in objections] == [
        (objection_id, OBJECTION["name"], OBJECTION["contact"], "open")]

    at(date(2026, 3, 10))
    headers = bearer(reviewers["city"])
    response = client.post(f"/api/v1/batches/{batch['id']}/publish", headers=headers)
    assert response.status_code == 409 and response.get_json()["message"] == "还有 1 条异议未处理，处理完毕后方可发布"

    response = client.post(f"/api/v1/objections/{objection_id}/resolve", json={"upheld": False, "resolution": ""},
                           headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "resolution"
    response = client.post(f"/api/v1/objections/{objection_id}/resolve",
                           json={"upheld": False, "resolution": "经核查，未发现收费行为"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "dismissed"

    response = client.post(f"/api/v1/batches/{batch['id']}/publish", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["status"] == "published" and response.get_json()["published_on"] == "2026-03-10"
    db.session.expire_all()
    assert application.status == S.approved
    assert db.session.scalars(select(WhitelistEntry.provider_id)).all() == [submitted["provider"].id]
    assert public.get("/api/v1/publicity").get_json() == []


def test_publishing_too_early_is_a_409_giving_the_date(app, db, submitted, reviewers, bearer):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    response = app.test_client().post(f"/api/v1/batches/{batch.id}/publish", headers=bearer(reviewers["city"]))
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "cannot_publish" and "2026-03-10 起方可发布" in body["message"]


def test_illegal_transition_is_a_409_naming_the_state(app, db, submitted, reviewers, bearer):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    at(date(2026, 3, 4))
    response = app.test_client().post(f"/api/v1/batches/{batch.id}/publicity", headers=bearer(reviewers["city"]))
    assert response.status_code == 409
    assert response.get_json()["code"] == "invalid_transition" and "公示中" in response.get_json()["message"]
    db.session.expire_all()
    assert batch.publicity_start == date(2026, 3, 2)


def test_items_are_removed_while_draft_only(app, db, submitted, reviewers, bearer):
    at(date(2026, 3, 2))
    application = to_city_review(submitted, reviewers)
    client, headers = app.test_client(), bearer(reviewers["city"])
    batch_id = client.post("/api/v1/batches", json={"application_ids": [application.id]},
                           headers=headers).get_json()["id"]
    assert client.delete(f"/api/v1/batches/{batch_id}/items/{application.id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/batches/{batch_id}", headers=headers).get_json()["items"] == []
    client.post(f"/api/v1/batches/{batch_id}/items", json={"application_id": application.id}, headers=headers)
    client.post(f"/api/v1/batches/{batch_id}/publicity", headers=headers)
    response = client.delete(f"/api/v1/batches/{batch_id}/items/{application.id}", headers=headers)
    assert response.status_code == 409 and "处理异议" in response.get_json()["message"]


def test_upheld_objection_through_the_api_rejects_the_application(app, db, submitted, reviewers, bearer):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    application = submitted["application"]
    objection = batches.file_objection(batch, application_id=application.id, **OBJECTION)
    client, headers = app.test_client(), bearer(reviewers["city"])
    response = client.post(f"/api/v1/objections/{objection.id}/resolve",
                           json={"upheld": True, "resolution": "经核查属实", "outcome": "withdraw"}, headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "outcome"
    response = client.post(f"/api/v1/objections/{objection.id}/resolve",
                           json={"upheld": True, "resolution": "经核查属实", "outcome": "reject"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "upheld"
    db.session.expire_all()
    assert application.status == S.rejected
    item = client.get(f"/api/v1/batches/{batch.id}", headers=headers).get_json()["items"][0]
    assert item["removed_at"] is not None and item["removed_reason"] == "经核查属实"
    assert app.test_client().get(f"/api/v1/publicity/{batch.id}").get_json()["providers"] == []


def test_jurisdiction_and_roles(app, db, submitted, reviewers, bearer, create_user):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    objection = batches.file_objection(batch, application_id=submitted["application"].id, **OBJECTION)
    client = app.test_client()
    stranger = bearer(reviewers["other_city"])
    assert client.get(f"/api/v1/batches/{batch.id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/batches/{batch.id}/objections", headers=stranger).status_code == 404
    assert client.post(f"/api/v1/objections/{objection.id}/resolve", json={"upheld": False, "resolution": "x"},
                       headers=stranger).status_code == 404
    assert client.get("/api/v1/batches", headers=stranger).get_json() == []
    for user in (reviewers["county"], create_user("sys_admin"), submitted["admin"]):
        response = client.get(f"/api/v1/batches/{batch.id}", headers=bearer(user))
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_unknown_fields_are_refused(app, db, reviewers, bearer):
    response = app.test_client().post("/api/v1/batches", json={"status": "published"},
                                      headers=bearer(reviewers["city"]))
    assert response.status_code == 400 and response.get_json()["field"] == "status"
    assert db.session.scalars(select(ReleaseBatch)).all() == []


def test_2027_publicity_reports_the_calendar_fallback(app, db, submitted, reviewers, bearer):
    at(date(2027, 3, 1))
    application = to_city_review(submitted, reviewers)
    client, headers = app.test_client(), bearer(reviewers["city"])
    batch_id = client.post("/api/v1/batches", json={"application_ids": [application.id]},
                           headers=headers).get_json()["id"]
    body = client.post(f"/api/v1/batches/{batch_id}/publicity", headers=headers).get_json()
    assert body["publicity_end"] == "2027-03-08" and "仅按周一至周五计算" in body["calendar_warning"]


def test_public_api_never_carries_id_numbers_or_phones(app, db, submitted, reviewers):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    batches.file_objection(batch, application_id=submitted["application"].id, **OBJECTION)
    client = app.test_client()
    for path in ("/api/v1/publicity", f"/api/v1/publicity/{batch.id}"):
        text = json.dumps(client.get(path).get_json(), ensure_ascii=False)
        assert submitted["provider"].name in text
        assert not ID_NUMBER.search(text)
        for secret in (submitted["provider"].contact_phone, submitted["person"].phone, OBJECTION["contact"],
                       OBJECTION["name"], submitted["provider"].address):
            assert secret not in text

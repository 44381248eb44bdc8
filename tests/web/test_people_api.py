"""/api/v1/people: the same rules as the pages, {code, message, field} errors, masked output, own provider only."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from registry.audit.models import AuditLog
from registry.core import clock
from registry.people.models import Consent, Person, PersonCheck, Qualification
from tests.fixtures.providers import add_cleared_person, pdf_bytes

FULL_ID = re.compile(r"\d{17}[\dXx]")
VALID = "360102199003071236"
BODY = {"name": "王老师", "id_number": VALID, "gender": "female", "phone": "13900000000", "staff_role": "teacher",
        "specialties": "花样跳绳"}


@pytest.fixture
def api(app, db, create_user, bearer):
    """(client, headers, user) for a provider admin calling the API with a bearer token."""
    user = create_user("provider_admin")
    return app.test_client(), bearer(user), user


@pytest.fixture
def person(db, api):
    _client, _headers, user = api
    p = add_cleared_person(user.provider, user, n=7, id_number=VALID)
    db.session.flush()
    return p


def test_create_returns_masked_person_with_clearance(db, api):
    client, headers, user = api
    response = client.post("/api/v1/people", json=BODY, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id_masked"] == "360102********1236"
    assert "id_number" not in body and not FULL_ID.search(response.get_data(as_text=True))
    assert body["staff_role_label"] == "授课教师" and body["has_consent"] is False
    assert body["clearance"]["cleared"] is False
    assert "未登记违法犯罪记录查询" in body["clearance"]["reasons"]
    assert db.session.get(Person, body["id"]).provider_id == user.provider_id


@pytest.mark.parametrize("value, message", [
    ("360102199003071235", "身份证号码校验位不正确"),
    ("360102199002301239", "身份证号码中的出生日期或地区码无效"),
    ("3601021990030712", "身份证号码应为 18 位"),
])
def test_bad_id_number_is_422_naming_the_field(db, api, value, message):
    client, headers, user = api
    response = client.post("/api/v1/people", json={**BODY, "id_number": value}, headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid" and body["field"] == "id_number" and message in body["message"]
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_unknown_and_duplicate(db, api, person):
    client, headers, _user = api
    response = client.post("/api/v1/people", json={**BODY, "id_number": "36010219900307105X", "salary": 1},
                           headers=headers)
    assert response.status_code == 400 and response.get_json()["field"] == "salary"
    response = client.post("/api/v1/people", json=BODY, headers=headers)
    assert response.status_code == 409
    assert response.get_json() == {"code": "duplicate_person", "field": "id_number",
                                   "message": "本机构已登记过该身份证号码的人员"}


def test_list_and_detail_are_masked(db, api, person):
    client, headers, _user = api
    listing = client.get("/api/v1/people", headers=headers)
    assert listing.status_code == 200
    [row] = listing.get_json()
    assert row["id_masked"] == person.id_masked and row["clearance"]["cleared"] is True
    assert not FULL_ID.search(listing.get_data(as_text=True))
    detail = client.get(f"/api/v1/people/{person.id}", headers=headers)
    body = detail.get_json()
    assert {c["check_type"] for c in body["checks"]} == {"criminal", "sexual_offence", "health", "moral"}
    assert body["qualifications"][0]["qual_type"] == "coach"
    assert body["consents"][0]["file"]["download_url"] == f"/files/{body['consents'][0]['file']['id']}"
    assert not FULL_ID.search(detail.get_data(as_text=True))


def test_patch(db, api, person):
    client, headers, _user = api
    response = client.patch(f"/api/v1/people/{person.id}", json={"phone": "13922223333"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["phone"] == "13922223333"
    response = client.patch(f"/api/v1/people/{person.id}", json={"id_number": "36010219900307105X"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["field"] == "id_number"
    response = client.patch(f"/api/v1/people/{person.id}", json={"name": " "}, headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "name"


def test_checks_json_and_multipart(db, api, person):
    client, headers, _user = api
    day = (clock.today() - timedelta(days=2)).isoformat()
    response = client.post(f"/api/v1/people/{person.id}/checks", headers=headers, json={
        "check_type": "health", "result": "pending", "check_date": day, "authority": "南昌市第一医院"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["result_label"] == "待出结果" and body["file"] is None
    assert body["valid_until"] == (clock.today() - timedelta(days=2) + timedelta(days=365)).isoformat()
    clearance = client.get(f"/api/v1/people/{person.id}/clearance", headers=headers).get_json()
    assert clearance["cleared"] is False and clearance["reasons"] == ["健康证明结果待出"]

    response = client.post(f"/api/v1/people/{person.id}/checks/multipart", headers=headers, data={
        "check_type": "health", "result": "clear", "check_date": day, "authority": "南昌市第一医院",
        "file": (io.BytesIO(pdf_bytes()), "体检报告.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["file"]["name"] == "体检报告.pdf"

    response = client.post(f"/api/v1/people/{person.id}/checks", headers=headers, json={
        "check_type": "dna", "result": "clear", "check_date": day, "authority": "x"})
    assert response.status_code == 422 and response.get_json()["field"] == "check_type"
    assert "查询类型应为" in response.get_json()["message"]


def test_qualification_json(db, api, person):
    client, headers, _user = api
    response = client.post(f"/api/v1/people/{person.id}/qualifications", headers=headers, json={
        "qual_type": "teacher", "number": "2024-001", "issuer": "南昌市教育局", "issue_date": "2024-01-01",
        "expiry_date": "2023-01-01"})
    assert response.status_code == 422 and response.get_json()["field"] == "expiry_date"
    response = client.post(f"/api/v1/people/{person.id}/qualifications", headers=headers, json={
        "qual_type": "teacher", "number": "2024-001", "issuer": "南昌市教育局", "issue_date": "2024-01-01"})
    assert response.status_code == 201 and response.get_json()["qual_type_label"] == "教师资格证"
    result = client.get(f"/api/v1/people/{person.id}/clearance?required_qualification=teacher", headers=headers)
    assert result.get_json()["cleared"] is True


def test_consent_needs_the_signed_form(db, api, person):
    client, headers, _user = api
    before = db.session.scalar(select(func.count()).select_from(Consent).where(Consent.person_id == person.id))
    day = clock.today().isoformat()
    response = client.post(f"/api/v1/people/{person.id}/consent", headers=headers, data={"consent_date": day},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and response.get_json()["field"] == "file"
    response = client.post(f"/api/v1/people/{person.id}/consent", headers=headers, data={
        "consent_date": day, "file": (io.BytesIO(pdf_bytes()), "同意书.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 201
    assert response.get_json()["file"]["name"] == "同意书.pdf"
    after = db.session.scalar(select(func.count()).select_from(Consent).where(Consent.person_id == person.id))
    assert after == before + 1


def test_reveal(db, api, person):
    client, headers, user = api
    response = client.post(f"/api/v1/people/{person.id}/reveal", json={}, headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "reason"
    response = client.post(f"/api/v1/people/{person.id}/reveal", json={"reason": "核对保险投保名单"}, headers=headers)
    assert response.status_code == 200 and response.get_json() == {"id_number": VALID}
    [row] = db.session.scalars(select(AuditLog).where(AuditLog.action == "person.reveal_id")).all()
    assert row.actor_id == user.id and row.object_id == str(person.id) and row.details["reason"] == "核对保险投保名单"


def test_clearance_for_a_date(db, api, person):
    client, headers, _user = api
    later = clock.today() + timedelta(days=340)  # the checks were 30 days old today
    response = client.get(f"/api/v1/people/{person.id}/clearance?date={later.isoformat()}", headers=headers)
    body = response.get_json()
    assert response.status_code == 200 and body["date"] == later.isoformat() and body["cleared"] is False
    checked = (clock.today() - timedelta(days=30)).isoformat()
    last = (clock.today() + timedelta(days=335)).isoformat()  # a date still ahead: future tense (issue 19)
    assert f"违法犯罪记录查询将于{last}后超过 365 天（查询日期 {checked}），届时须重新查询" in body["reasons"]
    soon = clock.today() + timedelta(days=320)
    body = client.get(f"/api/v1/people/{person.id}/clearance?date={soon.isoformat()}", headers=headers).get_json()
    assert body["cleared"] is True
    assert {"item": "健康证明", "date": (clock.today() + timedelta(days=335)).isoformat()} in body["expiring"]
    response = client.get(f"/api/v1/people/{person.id}/clearance?date=2026-02-30", headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "date"


def test_other_provider_gets_404_and_changes_nothing(db, api, person, create_user, bearer):
    client, _headers, _user = api
    intruder = bearer(create_user("provider_admin"))
    base = f"/api/v1/people/{person.id}"
    day = clock.today().isoformat()
    assert client.get(base, headers=intruder).status_code == 404
    assert client.get(base + "/clearance", headers=intruder).status_code == 404
    assert client.patch(base, json={"name": "改名"}, headers=intruder).status_code == 404
    assert client.post(base + "/checks", headers=intruder, json={
        "check_type": "criminal", "result": "adverse", "check_date": day, "authority": "x"}).status_code == 404
    assert client.post(base + "/qualifications", headers=intruder, json={
        "qual_type": "coach", "number": "1", "issuer": "x", "issue_date": day}).status_code == 404
    assert client.post(base + "/consent", headers=intruder, data={
        "consent_date": day, "file": (io.BytesIO(pdf_bytes()), "c.pdf")},
        content_type="multipart/form-data").status_code == 404
    response = client.post(base + "/reveal", json={"reason": "想看看别家的人"}, headers=intruder)
    assert response.status_code == 404 and VALID not in response.get_data(as_text=True)
    assert client.get("/api/v1/people", headers=intruder).get_json() == []
    db.session.expire_all()
    assert db.session.get(Person, person.id).name == "王老师7"
    assert db.session.scalar(select(func.count()).select_from(PersonCheck).where(
        PersonCheck.person_id == person.id)) == 4
    assert db.session.scalar(select(func.count()).select_from(Qualification).where(
        Qualification.person_id == person.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "person.reveal_id")) == 0

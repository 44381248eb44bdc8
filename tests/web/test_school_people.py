"""Issue 14, item 1: people engaged by a school itself (退休教师、家长、志愿者、非遗传承人、教练) are vetted like a
provider's staff: the same checks and clearance, the same registry-wide ban by blind index (refused at once
with the reason, 409 banned_person), the same encryption and masking; a person belongs to a provider or to a
school, never both; another school's person answers 404."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from registry.core import clock
from registry.people import queries, services
from registry.people.models import EngagementKind, Person
from tests.fixtures.providers import add_cleared_person, id_number_for, pdf_bytes

FULL_ID = re.compile(r"\d{17}[\dXx]")
VALID = "360102199003071236"
BANNED = "该身份证号码对应人员存在禁入记录，不能登记"
FORM = {"name": "刘老师", "id_number": VALID, "gender": "male", "phone": "13900000002", "engagement": "retired_teacher",
        "specialties": "书法"}


def add_cleared_school_person(school, actor, n=1, day=None, qual_type="coach", engagement="coach", **kwargs):
    """A school-engaged person with every check clear, a valid qualification and a consent (issue 14)."""
    day = day or clock.today()
    person = services.create_school_person(school, actor=actor, name=kwargs.get("name", f"赵教练{n}"),
                                           id_number=kwargs.get("id_number", id_number_for(500 + n)),
                                           gender="male", phone="13900000003", engagement=engagement)
    checked = day - timedelta(days=kwargs.get("check_age_days", 30))
    for check_type in ("criminal", "sexual_offence", "health", "moral"):
        services.add_check(person, actor=actor, check_type=check_type, result="clear", check_date=checked,
                           authority="南昌市公安局红谷滩分局")
    services.add_qualification(person, actor=actor, qual_type=qual_type, number=f"S{n}", issuer="江西省体育局",
                               issue_date=day - timedelta(days=400))
    services.record_consent(person, actor=actor, consent_date=checked, upload=("同意书.pdf", pdf_bytes()))
    return person


@pytest.fixture
def admin(login_as):
    return login_as("school_admin")


def test_school_person_is_encrypted_masked_and_cleared_like_staff(db, school_admin):
    person = add_cleared_school_person(school_admin.school, school_admin)
    assert person.school_id == school_admin.school_id and person.provider_id is None
    assert person.engagement == EngagementKind.coach and person.engagement_label == "教练"
    assert VALID.encode() not in person.id_enc and "*" in person.id_masked
    assert services.clearance(person).cleared
    rows = queries.school_clearances(school_admin.school)
    assert [(p.id, c.cleared) for p, c in rows] == [(person.id, True)]
    # The criminal check's 365th day passed: not cleared, naming the check.
    later = services.clearance(person, clock.today() + timedelta(days=340))
    assert not later.cleared and any("违法犯罪记录查询" in r and "超过 365 天" in r for r in later.reasons)


def test_person_has_exactly_one_owner(db, school_admin, create_user):
    provider_user = create_user("provider_admin")
    person = add_cleared_person(provider_user.provider, provider_user)
    person.school_id = school_admin.school_id
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.flush()


def test_page_registers_lists_and_records_checks(db, admin):
    client, user = admin
    response = client.post("/school/people/new", data=FORM)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    person = db.session.scalar(select(Person).where(Person.school_id == user.school_id))
    assert person.engagement == EngagementKind.retired_teacher
    page = client.get("/school/people").get_data(as_text=True)
    assert "刘老师" in page and "退休教师" in page and "未准入" in page and not FULL_ID.search(page)
    response = client.post(f"/school/people/{person.id}/checks", data={
        "check_type": "criminal", "result": "clear", "check_date": clock.today().isoformat(), "authority": "公安局"})
    assert response.status_code == 302
    detail = client.get(f"/school/people/{person.id}").get_data(as_text=True)
    assert "违法犯罪记录查询" in detail and not FULL_ID.search(detail)


def test_banned_id_number_is_refused_at_once_on_page_and_api(db, admin, create_user, bearer, app):
    client, user = admin
    provider_user = create_user("provider_admin")
    other = add_cleared_person(provider_user.provider, provider_user, id_number=VALID)
    services.add_check(other, actor=provider_user, check_type="sexual_offence", result="adverse",
                       check_date=clock.today(), authority="南昌市公安局")
    response = client.post("/school/people/new", data=FORM)
    assert response.status_code == 422 or response.status_code == 409
    assert BANNED in response.get_data(as_text=True)
    api = app.test_client().post("/api/v1/people/school", json=FORM, headers=bearer(user))
    assert api.status_code == 409
    assert api.get_json() == {"code": "banned_person", "message": BANNED, "field": "id_number"}
    assert db.session.scalar(select(func.count()).select_from(Person).where(Person.school_id == user.school_id)) == 0


def test_api_registers_and_isolates_schools(db, app, create_user, bearer):
    a, b = create_user("school_admin"), create_user("school_admin")
    response = app.test_client().post("/api/v1/people/school", json=FORM, headers=bearer(a))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["engagement"] == "retired_teacher" and body["school_id"] == a.school_id
    assert not FULL_ID.search(response.get_data(as_text=True))
    assert app.test_client().get(f"/api/v1/people/{body['id']}", headers=bearer(b)).status_code == 404
    assert app.test_client().get(f"/school/people/{body['id']}").status_code in (302, 401)
    listed = app.test_client().get("/api/v1/people/school", headers=bearer(a)).get_json()
    assert [p["id"] for p in listed] == [body["id"]]
    clearance = app.test_client().get(f"/api/v1/people/{body['id']}/clearance", headers=bearer(a)).get_json()
    assert clearance["cleared"] is False and "未登记违法犯罪记录查询" in clearance["reasons"]
    # The same ID number twice at one school: duplicate_person.
    again = app.test_client().post("/api/v1/people/school", json=FORM, headers=bearer(a))
    assert again.status_code == 409 and again.get_json()["code"] == "duplicate_person"

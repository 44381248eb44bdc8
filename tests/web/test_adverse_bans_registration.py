"""An adverse check bans at once, over HTTP: provider A records an adverse 性侵 check (through its own API);
provider B then registers the same ID number through the page, the API or the Excel import, and is refused
at once (no sweep, no reviewer) with a reason that names no other provider, field id_number."""
import io

import pytest
from sqlalchemy import func, select

from registry.people.models import Person
from tests.fixtures.providers import add_cleared_person
from tests.web.test_people_import import HEADERS, xlsx

VALID = "360102199003071236"
MESSAGE = "该身份证号码对应人员存在禁入记录，不能登记"
FORM = {"name": "李老师", "id_number": VALID, "gender": "male", "phone": "13900000001", "staff_role": "teacher",
        "specialties": ""}


@pytest.fixture
def provider_a_adverse(app, db, create_user, bearer):
    """Provider A's person with the ID number VALID, and an adverse sexual-offence check A just recorded."""
    user = create_user("provider_admin")
    person = add_cleared_person(user.provider, user, n=7, id_number=VALID)
    db.session.flush()
    response = app.test_client().post(f"/api/v1/people/{person.id}/checks", headers=bearer(user), json={
        "check_type": "sexual_offence", "result": "adverse", "check_date": "2026-01-05", "authority": "南昌市公安局"})
    assert response.status_code == 201, response.get_json()
    return user


def _count(db, provider_id):
    return db.session.scalar(select(func.count()).select_from(Person).where(Person.provider_id == provider_id))


def test_api_registration_at_provider_b_is_refused(app, db, provider_a_adverse, create_user, bearer):
    b = create_user("provider_admin")
    response = app.test_client().post("/api/v1/people", json=FORM, headers=bearer(b))
    assert response.status_code == 409
    body = response.get_json()
    assert body == {"code": "banned_person", "message": MESSAGE, "field": "id_number"}
    assert provider_a_adverse.provider.name not in response.get_data(as_text=True)
    assert _count(db, b.provider_id) == 0


def test_page_registration_at_provider_b_is_refused(db, provider_a_adverse, login_as):
    client, b = login_as("provider_admin")
    response = client.post("/provider/people/new", data=FORM)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert MESSAGE in page and provider_a_adverse.provider.name not in page
    assert _count(db, b.provider_id) == 0


def test_import_at_provider_b_is_refused(db, provider_a_adverse, login_as):
    client, b = login_as("provider_admin")
    data = xlsx([["李老师", VALID, "男", "13900000001", "授课教师", ""]], headers=HEADERS)
    response = client.post("/provider/people/import", data={"file": (io.BytesIO(data), "人员名单.xlsx")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and MESSAGE in page and provider_a_adverse.provider.name not in page
    assert _count(db, b.provider_id) == 0

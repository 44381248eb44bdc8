"""The public publicity pages (no login): what they show, what they never show, and the objection form."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from registry.batches import services as batches
from registry.batches.models import Objection
from tests.fixtures.reviews import OBJECTION, at, batch_in_publicity

ID_NUMBER = re.compile(r"\d{17}[\dXx]")


@pytest.fixture
def publicised(db, submitted, reviewers):
    """A batch under publicity from Monday 2026-03-02 to 2026-03-09; the clock stays at 03-02."""
    return {**submitted, "batch": batch_in_publicity(submitted, reviewers, date(2026, 3, 2))}


def _objections(db):
    return db.session.scalar(select(func.count()).select_from(Objection))


def test_publicity_page_shows_the_public_fields(client, publicised):
    batch, provider, project = publicised["batch"], publicised["provider"], publicised["project"]
    index = client.get("/publicity").get_data(as_text=True)
    assert "南昌市" in index and "2026年第1批" in index and "2026-03-02 至 2026-03-09" in index
    response = client.get(f"/publicity/{batch.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for shown in ("南昌市教育局", "2026-03-02 至 2026-03-09", provider.name, provider.uscc, provider.org_type_label,
                  provider.county.name, project.title, project.category_label, "小学低年级", project.level_label,
                  "3.00 元/人·课时", "提交异议"):
        assert shown in page, shown


def test_publicity_page_never_shows_id_numbers_phones_or_objectors(client, publicised):
    batch, provider, person = publicised["batch"], publicised["provider"], publicised["person"]
    batches.file_objection(batch, application_id=publicised["application"].id, **OBJECTION)
    for path in ("/publicity", f"/publicity/{batch.id}"):
        page = client.get(path).get_data(as_text=True)
        assert not ID_NUMBER.search(page), path
        for secret in (provider.contact_phone, person.phone, person.name, provider.contact_name, provider.address,
                       provider.legal_representative, OBJECTION["name"], OBJECTION["contact"], OBJECTION["content"]):
            assert secret not in page, (path, secret)


def test_a_draft_batch_is_not_public(client, db, reviewers):
    draft = batches.create_batch(actor=reviewers["city"])
    assert client.get(f"/publicity/{draft.id}").status_code == 404
    assert client.post(f"/publicity/{draft.id}/objections", data=OBJECTION).status_code == 404
    assert "2026年" not in client.get("/publicity").get_data(as_text=True).split("<tbody>")[1]


def test_objection_is_filed_and_acknowledged(client, db, publicised):
    batch = publicised["batch"]
    response = client.post(f"/publicity/{batch.id}/objections",
                           data={"application_id": publicised["application"].id, **OBJECTION})
    assert response.status_code == 302
    objection = db.session.scalars(select(Objection)).one()
    assert (objection.name, objection.contact, objection.application_id) == (
        OBJECTION["name"], OBJECTION["contact"], publicised["application"].id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"编号 #{objection.id}" in page


@pytest.mark.parametrize("missing, message", [("name", "请填写真实姓名"), ("contact", "请填写联系电话或电子邮箱")])
def test_objection_without_name_or_contact_is_refused_keeping_what_was_typed(client, db, publicised, missing,
                                                                           message):
    data = {"application_id": publicised["application"].id, **OBJECTION, missing: ""}
    response = client.post(f"/publicity/{publicised['batch'].id}/objections", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert OBJECTION["content"] in page  # the text is still in the form
    kept = "contact" if missing == "name" else "name"
    assert f'value="{OBJECTION[kept]}"' in page
    assert _objections(db) == 0


def test_objection_outside_the_window_is_refused_with_the_period(client, db, publicised):
    at(date(2026, 3, 10))
    batch = publicised["batch"]
    page = client.get(f"/publicity/{batch.id}").get_data(as_text=True)
    assert "公示期已结束" in page and "提交异议" not in page
    response = client.post(f"/publicity/{batch.id}/objections",
                           data={"application_id": publicised["application"].id, **OBJECTION})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "公示期为 2026-03-02 至 2026-03-09，当前不在公示期内，不能提出异议" in page
    assert OBJECTION["content"] in page
    assert _objections(db) == 0


def test_objection_about_a_provider_not_in_the_batch_is_refused(client, db, publicised):
    response = client.post(f"/publicity/{publicised['batch'].id}/objections",
                           data={"application_id": 999999, **OBJECTION})
    assert response.status_code == 422 and "请选择本批次公示的机构" in response.get_data(as_text=True)


# ---------------------------------------------------------------- rate limit

def test_objections_are_rate_limited_per_address_across_form_and_api(ratelimited_app, db, publicised):
    batch, application = publicised["batch"], publicised["application"]
    client = ratelimited_app.test_client()
    data = {"application_id": application.id, **OBJECTION}
    for n in range(4):
        assert client.post(f"/publicity/{batch.id}/objections", data=data).status_code == 302, n
    assert client.post(f"/api/v1/publicity/{batch.id}/objections", json=data).status_code == 201  # the fifth
    response = client.post(f"/publicity/{batch.id}/objections", data={**data, "content": "第六条异议，内容仍需保留。"})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "同一网络地址每小时最多提交 5 条异议" in page and "第六条异议，内容仍需保留。" in page
    response = client.post(f"/api/v1/publicity/{batch.id}/objections", json=data)
    assert response.status_code == 429 and response.get_json()["code"] == "rate_limited"
    assert _objections(db) == 5
    # Reading is not limited, and another address still gets through.
    assert client.get(f"/publicity/{batch.id}").status_code == 200
    other = ratelimited_app.test_client()
    response = other.post(f"/publicity/{batch.id}/objections", data=data, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 302

"""Review needs verification, over HTTP: the API answers 409 {code, message, field} with the missing items
listed (errors.items), the review screen lists them and keeps the pass button off, and the HTML pass is
refused with the same list."""
import pytest

from registry.applications.models import Application
from registry.applications.models import ApplicationStatus as S
from registry.batches import services as batches
from registry.reviews import services as reviews
from tests.fixtures.reviews import client_as, to_city_review, verify_all

MISSING = ["资质材料「营业执照」未核验", "资质材料「公众责任保险」未核验", "资质材料「安全管理制度及应急预案」未核验",
           "王老师1 的 违法犯罪记录查询 未核验", "王老师1 的 性侵违法犯罪信息查询 未核验", "王老师1 的 健康证明 未核验",
           "王老师1 的 品德考察 未核验"]


@pytest.fixture
def api(app, db):
    return app.test_client()


def _status(db, a):
    db.session.expire_all()
    return db.session.get(Application, a.id).status


def test_api_pass_is_refused_with_the_missing_items(api, db, submitted, reviewers, bearer):
    a = submitted["application"]
    headers = bearer(reviewers["county"])
    response = api.post(f"/api/v1/reviews/applications/{a.id}/pass", json={"version": a.version}, headers=headers)
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "unverified_items" and body["field"] == "items"
    assert body["errors"]["items"] == MISSING
    assert all(item in body["message"] for item in MISSING)
    assert _status(db, a) == S.county_review
    review = api.get(f"/api/v1/reviews/applications/{a.id}", headers=headers).get_json()
    assert review["unverified"] == MISSING
    for doc in submitted["documents"]:
        response = api.post(f"/api/v1/reviews/documents/{doc.id}/verify",
                            json={"application_id": a.id, "decision": "verified"}, headers=headers)
        assert response.status_code == 200
    review = api.get(f"/api/v1/reviews/applications/{a.id}", headers=headers).get_json()
    assert review["unverified"] == MISSING[3:]
    for check in submitted["person"].checks:
        assert api.post(f"/api/v1/reviews/checks/{check.id}/verify",
                        json={"application_id": a.id, "decision": "verified"}, headers=headers).status_code == 200
    assert api.get(f"/api/v1/reviews/applications/{a.id}", headers=headers).get_json()["unverified"] == []
    response = api.post(f"/api/v1/reviews/applications/{a.id}/pass", json={"version": a.version}, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "city_review"


def test_api_approval_and_batch_item_are_refused_while_an_item_is_rejected(api, db, submitted, reviewers, bearer):
    a = to_city_review(submitted, reviewers)
    city = reviewers["city"]
    insurance = next(d for d in submitted["documents"] if d.doc_type.value == "liability_insurance")
    reviews.verify_document(insurance, actor=city, ok=False, note="保单已过期")
    headers = bearer(city)
    response = api.post(f"/api/v1/reviews/applications/{a.id}/approve-in-principle", json={"version": a.version},
                        headers=headers)
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "unverified_items" and body["errors"]["items"] == ["资质材料「公众责任保险」已驳回"]
    assert "请退回修改" in body["message"]
    batch = batches.create_batch(actor=city)
    response = api.post(f"/api/v1/batches/{batch.id}/items", json={"application_id": a.id}, headers=headers)
    assert response.status_code == 409 and response.get_json()["errors"]["items"] == ["资质材料「公众责任保险」已驳回"]
    assert _status(db, a) == S.city_review


def test_review_screen_lists_what_is_missing_and_the_html_pass_is_refused(app, db, submitted, reviewers):
    a = submitted["application"]
    client = client_as(app, reviewers["county"])
    page = client.get(f"/review/applications/{a.id}").get_data(as_text=True)
    decide = page.partition('id="decide"')[2].split("</section>")[0]
    assert "以下 7 项尚未核验通过" in decide
    for item in MISSING:
        assert f"<li>{item}</li>" in decide
    assert 'class="primary" disabled>初审通过，报送市级复审' in decide
    response = client.post(f"/review/applications/{a.id}/pass", data={"version": a.version})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "资质材料「公众责任保险」未核验" in body and "王老师1 的 性侵违法犯罪信息查询 未核验" in body
    assert _status(db, a) == S.county_review
    verify_all(a, reviewers["county"])
    page = client.get(f"/review/applications/{a.id}").get_data(as_text=True)
    decide = page.partition('id="decide"')[2].split("</section>")[0]
    assert "尚未核验通过" not in decide and "disabled" not in decide
    assert client.post(f"/review/applications/{a.id}/pass", data={"version": a.version}).status_code == 302
    assert _status(db, a) == S.city_review

"""Review needs verification: no pass (county pass, approval into a batch, a batch's publicity) while any
document or check of the submission is unverified, rejected or adverse; the refusal names every item."""
import pytest

from registry.applications.models import ApplicationStatus as S
from registry.batches import services as batches
from registry.batches.models import BatchItem
from registry.policy.models import CityPolicy
from registry.regions import services as regions
from registry.reviews import services as reviews
from registry.reviews.services import decide
from tests.fixtures.reviews import to_city_review, verify_all

ALL_ITEMS = ["资质材料「营业执照」未核验", "资质材料「公众责任保险」未核验",
             "资质材料「安全管理制度及应急预案」未核验",
             "王老师1 的 违法犯罪记录查询 未核验", "王老师1 的 性侵违法犯罪信息查询 未核验",
             "王老师1 的 健康证明 未核验", "王老师1 的 品德考察 未核验"]


def _doc(submitted, doc_type):
    return next(d for d in submitted["documents"] if d.doc_type.value == doc_type)


def _check(submitted, check_type):
    return next(c for c in submitted["person"].checks if c.check_type.value == check_type)


@pytest.fixture
def city_only(db, complete_dossier):
    """南昌 without a county stage: the application goes straight to the city reviewer (the reported case)."""
    from registry.applications import services as applications
    db.session.add(CityPolicy(city_id=regions.get_by_code("360100").id, county_review_required=False))
    db.session.flush()
    d = complete_dossier
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    applications.submit(app, actor=d["admin"])
    assert app.status == S.city_review
    return {**d, "application": app}


def test_city_reviewer_cannot_approve_with_one_document_of_three_and_no_check_verified(db, city_only, reviewers):
    """The reported case: 1 of 3 documents and 0 of 4 checks verified; the approval is refused, names the six
    missing items, and the application stays out of any batch (so nothing can be published)."""
    app, city = city_only["application"], reviewers["city"]
    reviews.verify_document(_doc(city_only, "business_license"), actor=city, ok=True)
    with pytest.raises(reviews.Unverified) as refused:
        decide(app, "approve", {"version": app.version}, city)
    assert refused.value.status == 409 and refused.value.code == "unverified_items" and refused.value.field == "items"
    assert refused.value.items == ALL_ITEMS[1:]
    assert "资质材料「公众责任保险」未核验" in refused.value.message
    assert "王老师1 的 性侵违法犯罪信息查询 未核验" in refused.value.message
    assert app.status == S.city_review and db.session.query(BatchItem).count() == 0
    verify_all(app, city)
    decide(app, "approve", {"version": app.version}, city)
    assert db.session.query(BatchItem).filter_by(application_id=app.id).count() == 1


def test_county_pass_needs_every_item_verified(db, submitted, reviewers):
    app, county = submitted["application"], reviewers["county"]
    with pytest.raises(reviews.Unverified) as refused:
        reviews.pass_to_city(app, actor=county)
    assert refused.value.items == ALL_ITEMS
    for doc in submitted["documents"]:
        reviews.verify_document(doc, actor=county, ok=True)
    for check in submitted["person"].checks[:-1]:
        reviews.verify_check(check, actor=county, ok=True)
    with pytest.raises(reviews.Unverified) as refused:
        reviews.pass_to_city(app, actor=county)
    last = submitted["person"].checks[-1]
    assert refused.value.items == [f"王老师1 的 {last.check_type_label} 未核验"]
    assert app.status == S.county_review
    reviews.verify_check(last, actor=county, ok=True)
    reviews.pass_to_city(app, actor=county)
    assert app.status == S.city_review


def test_a_rejected_document_forces_a_return(db, submitted, reviewers):
    app, county = submitted["application"], reviewers["county"]
    verify_all(app, county)
    reviews.verify_document(_doc(submitted, "liability_insurance"), actor=county, ok=False, note="保单已过期")
    with pytest.raises(reviews.Unverified, match="请退回修改") as refused:
        decide(app, "pass", {"version": app.version}, county)
    assert refused.value.items == ["资质材料「公众责任保险」已驳回"]
    decide(app, "return", {"version": app.version, "comments": {f"doc:{_doc(submitted, 'liability_insurance').id}":
                                                                 "请上传有效保单"}}, county)
    assert app.status == S.draft


def test_an_adverse_check_forces_a_return(db, submitted, reviewers):
    app, county = submitted["application"], reviewers["county"]
    verify_all(app, county)
    reviews.verify_check(_check(submitted, "sexual_offence"), actor=county, ok=False, note="公安机关反馈有记录")
    with pytest.raises(reviews.Unverified) as refused:
        reviews.pass_to_city(app, actor=county)
    assert refused.value.items == ["王老师1 的 性侵违法犯罪信息查询 有不良记录"]
    assert app.status == S.county_review


def test_adding_to_a_batch_directly_needs_every_item_verified(db, submitted, reviewers):
    """The batch page's own "add an application" path is a pass too."""
    app = to_city_review(submitted, reviewers)
    city = reviewers["city"]
    reviews.verify_document(_doc(submitted, "safety_plan"), actor=city, ok=False, note="预案缺少疏散路线")
    batch = batches.create_batch(actor=city)
    with pytest.raises(reviews.Unverified) as refused:
        batches.add_to_batch(batch, app, actor=city)
    assert refused.value.items == ["资质材料「安全管理制度及应急预案」已驳回"]
    assert batch.items == []


def test_publicity_does_not_start_when_an_item_was_rejected_after_batching(db, submitted, reviewers):
    app = to_city_review(submitted, reviewers)
    city = reviewers["city"]
    batch = batches.create_batch(actor=city)
    batches.add_to_batch(batch, app, actor=city)
    reviews.verify_document(_doc(submitted, "liability_insurance"), actor=city, ok=False, note="保单已退保")
    with pytest.raises(reviews.Unverified) as refused:
        batches.start_publicity(batch, actor=city)
    assert refused.value.items == [f"{submitted['provider'].name}：资质材料「公众责任保险」已驳回"]
    assert app.status == S.city_review and batch.status.value == "draft"

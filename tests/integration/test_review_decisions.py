"""Review decisions at service level: four-eyes and jurisdiction, the version the reviewer saw, approval in
principle into a batch, return with per-item comments -> resubmission -> what changed, reject with reasons,
verification of documents and checks."""
from datetime import date

import pytest

from registry.applications import queries as application_queries
from registry.applications import services as applications
from registry.applications.models import ApplicationStatus as S
from registry.batches.models import BatchItem, ReleaseBatch
from registry.core.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from registry.providers import services as providers
from registry.reviews import queries as presenters
from registry.reviews import services as reviews
from registry.reviews.services import decide, verify_check_for, verify_document_for
from tests.fixtures.providers import pdf_bytes
from tests.fixtures.reviews import to_city_review, verify_all

# ---------------------------------------------------------------- four-eyes and jurisdiction

def test_the_submitter_cannot_decide(db, submitted, reviewers):
    app = submitted["application"]
    reviewer = reviewers["county"]
    app.submitted_by_id = reviewer.id  # a reviewer who also submitted it
    db.session.flush()
    assert "四眼" in reviews.decision_problem(reviewer, app)
    for decision, data in (("pass", {}), ("return", {"general": "请补充"}), ("reject", {"reason": "不符合"})):
        with pytest.raises(NotAllowed, match="不能审核自己提交的申报") as err:
            decide(app, decision, data, reviewer)
        assert err.value.code == "four_eyes"
    assert app.status == S.county_review


def test_a_member_of_the_provider_cannot_decide(db, submitted, reviewers):
    app = submitted["application"]
    reviewer = reviewers["county"]
    # Reviewer accounts cannot belong to a provider (a CHECK constraint), so the rule is a second line of
    # defence: exercise it in memory only.
    with db.session.no_autoflush:
        reviewer.provider_id = app.provider_id
        try:
            with pytest.raises(NotAllowed, match="本人所属机构"):
                decide(app, "pass", {}, reviewer)
        finally:
            reviewer.provider_id = None


@pytest.mark.parametrize("who", ["other_county", "other_city", "city"])
def test_only_the_countys_reviewer_decides_at_the_county_stage(db, submitted, reviewers, who):
    app = submitted["application"]
    assert reviews.decision_problem(reviewers[who], app)
    with pytest.raises(NotAllowed):
        decide(app, "pass", {}, reviewers[who])
    with pytest.raises(NotAllowed):
        decide(app, "reject", {"reason": "不符合要求"}, reviewers[who])
    assert app.status == S.county_review and reviews.decision_problem(reviewers["county"], app) is None


@pytest.mark.parametrize("who", ["county", "other_county", "other_city"])
def test_only_the_citys_reviewer_decides_at_the_city_stage(db, submitted, reviewers, who):
    app = to_city_review(submitted, reviewers)
    with pytest.raises(NotAllowed):
        decide(app, "approve", {}, reviewers[who])
    with pytest.raises(NotAllowed):
        decide(app, "return", {"general": "请补充"}, reviewers[who])
    assert app.status == S.city_review
    assert reviews.decision_problem(reviewers["city"], app) is None


# ---------------------------------------------------------------- the state and version the reviewer saw

def test_an_illegal_decision_names_the_current_state(db, submitted, reviewers):
    app = to_city_review(submitted, reviewers)
    with pytest.raises(InvalidTransition, match="当前状态为“市级复审中”，不能报送市级复审"):
        decide(app, "pass", {}, reviewers["county"])
    applications.withdraw(app, actor=submitted["admin"])
    for decision in ("approve", "return", "reject"):
        with pytest.raises(InvalidTransition, match="当前状态为“已撤回”"):
            decide(app, decision, {"reason": "x", "general": "x"}, reviewers["city"])


def test_a_stale_version_is_refused_with_the_current_state(db, submitted, reviewers):
    app = submitted["application"]
    verify_all(app, reviewers["county"])
    seen = app.version
    reviews.pass_to_city(app, actor=reviewers["county"])
    with pytest.raises(Conflict, match="已被他人处理，当前状态为“市级复审中”") as err:
        decide(app, "return", {"version": seen, "general": "请补充"}, reviewers["city"])
    assert err.value.status == 409 and err.value.code == "concurrent_update"
    decide(app, "return", {"version": app.version, "general": "请补充"}, reviewers["city"])
    assert app.status == S.draft


def test_a_stale_object_loses_to_the_conditional_update(db, submitted, reviewers):
    """Two sessions read the same row: the second writer's UPDATE matches no row and gets a 409."""
    app = submitted["application"]
    verify_all(app, reviewers["county"])
    from sqlalchemy import update

    from registry.applications.models import Application
    db.session.execute(update(Application).where(Application.id == app.id)
                       .values(status=S.city_review, version=Application.version + 1)
                       .execution_options(synchronize_session=False))  # another session decided; ours is stale
    assert app.status == S.county_review
    with pytest.raises(Conflict, match="已被他人处理，当前状态为“市级复审中”"):
        reviews.pass_to_city(app, actor=reviewers["county"])


# ---------------------------------------------------------------- approval in principle (city stage)

def test_approve_in_principle_puts_the_application_into_a_new_draft_batch(db, submitted, reviewers):
    app = to_city_review(submitted, reviewers)
    version = app.version
    item = decide(app, "approve", {"version": version}, reviewers["city"])
    assert item.batch.status.value == "draft" and item.batch.city_id == app.city_id
    assert app.status == S.city_review and app.version == version + 1
    with pytest.raises(Conflict):  # the second reviewer's page showed the old version
        decide(app, "approve", {"version": version}, reviewers["city"])
    with pytest.raises(Conflict, match="另一个待发布的批次"):
        decide(app, "approve", {}, reviewers["city"])
    assert db.session.query(BatchItem).filter_by(application_id=app.id).count() == 1


def test_approve_into_a_chosen_batch_of_the_city(db, submitted, reviewers, create_user):
    from registry.batches import services as batches
    app = to_city_review(submitted, reviewers)
    batch = batches.create_batch(actor=reviewers["city"])
    foreign = batches.create_batch(actor=reviewers["other_city"])
    with pytest.raises(ValidationFailed) as err:
        decide(app, "approve", {"batch_id": foreign.id}, reviewers["city"])
    assert "batch_id" in err.value.errors
    decide(app, "approve", {"batch_id": batch.id}, reviewers["city"])
    assert [i.application_id for i in batch.items] == [app.id]
    assert db.session.query(ReleaseBatch).filter_by(city_id=app.city_id).count() == 1


def test_returning_an_application_takes_it_out_of_its_draft_batch(db, submitted, reviewers):
    app = to_city_review(submitted, reviewers)
    item = decide(app, "approve", {}, reviewers["city"])
    batch = item.batch
    decide(app, "return", {"comments": {f"project:{submitted['project'].id}": "请补充场地证明"}}, reviewers["city"])
    assert app.status == S.draft
    db.session.expire_all()
    assert db.session.query(BatchItem).filter_by(batch_id=batch.id).count() == 0


# ---------------------------------------------------------------- return -> fix -> resubmit -> what changed

def test_return_with_comments_per_item_then_resubmission_shows_what_changed(db, submitted, reviewers):
    d = submitted
    app, project, person = d["application"], d["project"], d["person"]
    insurance = next(x for x in d["documents"] if x.doc_type.value == "liability_insurance")
    comments = {
        "organisation:address": "地址与营业执照不一致",
        f"doc:{insurance.id}": "保险单不清晰，请重新上传",
        f"person:{person.id}": "请补充健康证明原件扫描件",
        f"project:{project.id}": "收费依据不足，请下调",
    }
    decide(app, "return", {"version": app.version, "comments": comments, "general": "请按逐项意见修改"},
           reviewers["county"])
    assert app.status == S.draft and app.latest_snapshot.number == 1
    # The provider sees every comment with its item, and where to fix it.
    rows = application_queries.provider_comments(app)
    texts = {view.key: (view.item, view.comment.text) for view, _url, _changed in rows}
    assert texts["organisation:address"] == ("机构信息 · 地址", "地址与营业执照不一致")
    assert texts[f"doc:{insurance.id}"][0] == "资质材料 · 公众责任保险"
    assert texts[f"project:{project.id}"] == ("服务项目 · 花样跳绳", "收费依据不足，请下调")
    assert texts["general"][1] == "请按逐项意见修改"
    # The provider fixes the items and resubmits.
    providers.update_profile(d["provider"], actor=d["admin"], address="南昌市红谷滩区赣江中大道1号")
    from registry.projects import services as projects
    projects.update_project(project, actor=d["admin"], price="2.00")
    new_doc = providers.upload_document(d["provider"], actor=d["admin"], doc_type="liability_insurance",
                                        number="PICC-2026-NEW", issuer="中国人保南昌分公司",
                                        issue_date=date(2026, 3, 1), expiry_date=date(2027, 2, 28),
                                        filename="保险单-清晰版.pdf", data=pdf_bytes("new"), replaces_id=insurance.id)
    # issue 19: every flagged item must change before the application can go back (the person too)
    from registry.people import services as people
    people.update_person(person, actor=d["admin"], specialties="花样跳绳、健康证明已补")
    applications.submit(app, actor=d["admin"])
    assert app.status == S.county_review and [s.number for s in app.snapshots] == [1, 2]
    rows = presenters.diff_rows(app)
    changed = {(r.item, r.field): (r.before, r.after) for r in rows}
    assert changed[("机构信息", "地址")] == ("南昌市红谷滩区测试路1号", "南昌市红谷滩区赣江中大道1号")
    assert changed[("花样跳绳", "收费标准（元/人·课时）")] == ("3.00", "2.00")
    # The replaced insurance is compared with its new version field by field.
    assert changed[("公众责任保险（已换新版本）", "编号")] == ("NO-liability_insurance", "PICC-2026-NEW")
    assert changed[("公众责任保险（已换新版本）", "文件")] == ("liability_insurance.pdf", "保险单-清晰版.pdf")
    assert {r.item_key for r in rows if r.area == "documents"} == {f"doc:{new_doc.id}"}
    assert {r.field for r in rows if r.item_key.startswith("person:")} == {"特长"}  # the one change there
    # The previous round's comments sit next to the items of the new snapshot; the replaced document's
    # comment moves to its new version.
    views = presenters.comment_views(app, 1)
    placed = presenters.place_comments(views, app.snapshots[0].data, app.snapshots[1].data)
    assert [v.comment.text for v in placed[f"doc:{new_doc.id}"]] == ["保险单不清晰，请重新上传"]
    assert [v.comment.text for v in placed[f"project:{project.id}"]] == ["收费依据不足，请下调"]


def test_unknown_items_cannot_be_commented(db, submitted, reviewers):
    app = submitted["application"]
    with pytest.raises(ValidationFailed, match="无法识别的审核项：project:999999"):
        decide(app, "return", {"comments": {"project:999999": "?"}}, reviewers["county"])
    with pytest.raises(ValidationFailed):
        decide(app, "return", {"comments": {"doc:1": "  "}, "general": ""}, reviewers["county"])
    assert app.status == S.county_review


def test_reject_needs_a_reason(db, submitted, reviewers):
    app = submitted["application"]
    with pytest.raises(ValidationFailed) as err:
        decide(app, "reject", {"reason": "  "}, reviewers["county"])
    assert err.value.errors == {"reason": ["不予通过时必须填写理由"]}
    decide(app, "reject", {"reason": "项目内容属于学科类培训"}, reviewers["county"])
    assert app.status == S.rejected and app.open_marker is None


# ---------------------------------------------------------------- verification on the review screen

def test_verify_a_document_of_the_application(db, submitted, reviewers):
    app, doc = submitted["application"], submitted["documents"][0]
    data = {"application_id": app.id, "decision": "rejected", "note": ""}
    with pytest.raises(ValidationFailed):
        verify_document_for(doc.id, data, reviewers["county"])
    verify_document_for(doc.id, {**data, "note": "证照已注销"}, reviewers["county"])
    assert doc.verification_status.value == "rejected" and doc.verification_note == "证照已注销"
    with pytest.raises(NotAllowed):  # not the reviewer of this stage
        verify_document_for(doc.id, {**data, "decision": "verified"}, reviewers["city"])
    with pytest.raises(NotFound):  # not in the reviewer's jurisdiction
        verify_document_for(doc.id, {**data, "decision": "verified"}, reviewers["other_county"])
    assert doc.verification_status.value == "rejected"


def test_a_document_outside_the_application_is_not_found(db, submitted, reviewers, create_user):
    from tests.fixtures.providers import add_documents
    other = create_user("provider_admin")
    foreign = add_documents(other.provider, other)[0]
    with pytest.raises(NotFound):
        verify_document_for(foreign.id, {"application_id": submitted["application"].id, "decision": "verified"},
                            reviewers["county"])


def test_marking_a_check_adverse_bans_the_person(db, submitted, reviewers):
    from registry.people import services as people
    app, person = submitted["application"], submitted["person"]
    check = next(c for c in person.checks if c.check_type.value == "criminal")
    with pytest.raises(ValidationFailed):
        verify_check_for(check.id, {"application_id": app.id, "decision": "adverse", "note": ""}, reviewers["county"])
    verify_check_for(check.id, {"application_id": app.id, "decision": "adverse", "note": "公安机关反馈有记录"},
                     reviewers["county"])
    assert check.result.value == "adverse"
    assert any("禁入名单" in r for r in people.clearance(person).reasons)


def test_the_order_of_records_is_not_a_change(db, submitted, reviewers):
    d = submitted
    app = d["application"]
    reviews.return_for_revision(app, actor=reviewers["county"], comments={}, general="请核对")
    applications.submit(app, actor=d["admin"])
    first = app.snapshots[0]
    data = dict(first.data)
    data["people"] = [{**p, "checks": list(reversed(p["checks"]))} for p in data["people"]]
    first.data = data
    db.session.flush()
    assert presenters.diff_rows(app) == []

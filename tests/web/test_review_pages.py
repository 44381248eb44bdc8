"""The reviewer's pages: the queue, the review screen with its checklist, and the decision forms."""
import re

import pytest

from registry.applications import queries as application_queries
from registry.applications import services as applications
from registry.applications.models import Application
from registry.applications.models import ApplicationStatus as S
from registry.batches.models import BatchItem
from registry.policy.models import CityPolicy
from registry.providers.models import ProviderDocument
from registry.regions import services as regions
from registry.reviews import services as reviews
from tests.fixtures.reviews import client_as, to_city_review, verify_all

ID_PATTERN = re.compile(r"\d{17}[\dXx]")


def _status(db, app):
    db.session.expire_all()
    return db.session.get(Application, app.id).status


# ---------------------------------------------------------------- the queue

def test_county_queue_lists_the_waiting_application_with_its_waiting_time(app, db, submitted, reviewers):
    a = submitted["application"]
    page = client_as(app, reviewers["county"]).get("/review/applications").get_data(as_text=True)
    assert "待我审核" in page and submitted["provider"].name in page
    assert "0 天" in page and "0 个工作日" in page and "待您审核" in page
    assert f'href="/review/applications/{a.id}"' in page


def test_city_queue_waits_for_the_county_stage(app, db, submitted, reviewers):
    a = submitted["application"]
    client = client_as(app, reviewers["city"])
    page = client.get("/review/applications").get_data(as_text=True)
    queue, _sep, others = page.partition("辖区内其他办理中的申报")
    assert submitted["provider"].name not in queue and submitted["provider"].name in others
    verify_all(a, reviewers["county"])
    reviews.pass_to_city(a, actor=reviewers["county"])
    queue = client.get("/review/applications").get_data(as_text=True).partition("辖区内其他办理中的申报")[0]
    assert submitted["provider"].name in queue


def test_city_without_county_stage_says_so_and_lists_everything(app, db, complete_dossier, reviewers):
    db.session.add(CityPolicy(city_id=regions.get_by_code("360100").id, county_review_required=False))
    d = complete_dossier
    a = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    applications.submit(a, actor=d["admin"])
    page = client_as(app, reviewers["city"]).get("/review/applications").get_data(as_text=True)
    assert "本市不设县级初审" in page
    assert d["provider"].name in page.partition("辖区内其他办理中的申报")[0]
    county_page = client_as(app, reviewers["county"]).get("/review/applications").get_data(as_text=True)
    assert d["provider"].name not in county_page.partition("辖区内其他办理中的申报")[0]


def test_queue_filters_and_bad_filter_values(app, db, submitted, reviewers):
    client = client_as(app, reviewers["county"])
    name = submitted["provider"].name
    assert name in client.get("/review/applications?kind=admission&sort=newest").get_data(as_text=True)
    queue = client.get("/review/applications?kind=annual").get_data(as_text=True).partition("辖区内其他")[0]
    assert name not in queue
    queue = client.get("/review/applications?q=不存在的机构").get_data(as_text=True).partition("辖区内其他")[0]
    assert name not in queue
    response = client.get("/review/applications?sort=sideways")
    assert response.status_code == 200 and "排序应为等待最久或最新提交" in response.get_data(as_text=True)


# ---------------------------------------------------------------- the review screen

def test_review_screen_shows_the_checklist(app, db, submitted, reviewers):
    a, d = submitted["application"], submitted
    verify_all(a, reviewers["county"])  # a pass needs every item verified (the button is off until then)
    page = client_as(app, reviewers["county"]).get(f"/review/applications/{a.id}").get_data(as_text=True)
    for doc in d["documents"]:
        assert f'href="/files/{doc.file_id}"' in page
        assert f'action="/review/documents/{doc.id}/verify"' in page
    for check in d["person"].checks:
        assert f'action="/review/checks/{check.id}/verify"' in page
    assert d["person"].id_masked in page and not ID_PATTERN.search(page)
    assert "本市上限 5.00 元/人·课时" in page and "未超过上限" in page and "非学科类" in page
    assert "持教练员/社会体育指导员证书" in page and "提交时已准入" in page
    assert "类别、收费、人员均符合" in page
    assert f'name="version" value="{a.version}"' in page
    for key in ("organisation:address", f"doc:{d['documents'][0].id}", f"person:{d['person'].id}",
                f"project:{d['project'].id}"):
        assert f'name="comment:{key}" form="return-form"' in page
    assert ("初审通过，报送市级复审" in page
            and "disabled" not in page.partition('id="decide"')[2].split("</section>")[0])


def test_the_reviewer_who_may_not_decide_sees_why_and_disabled_buttons(app, db, submitted, reviewers):
    a = submitted["application"]
    page = client_as(app, reviewers["city"]).get(f"/review/applications/{a.id}").get_data(as_text=True)
    assert "您不能对该申报作出审核决定：该申报处于县级初审阶段" in page
    decide = page.partition('id="decide"')[2]
    assert re.search(r'<button type="submit" class="primary" disabled>初审通过', decide)


def test_four_eyes_is_shown_and_enforced(app, db, submitted, reviewers):
    a = submitted["application"]
    a.submitted_by_id = reviewers["county"].id
    db.session.flush()
    client = client_as(app, reviewers["county"])
    page = client.get(f"/review/applications/{a.id}").get_data(as_text=True)
    assert "不能审核自己提交的申报（四眼原则）" in page
    response = client.post(f"/review/applications/{a.id}/pass", data={"version": a.version})
    assert response.status_code == 403 and "四眼原则" in response.get_data(as_text=True)
    assert _status(db, a) == S.county_review


def test_document_verification_from_the_screen(app, db, submitted, reviewers):
    a, doc = submitted["application"], submitted["documents"][0]
    client = client_as(app, reviewers["county"])
    response = client.post(f"/review/documents/{doc.id}/verify",
                           data={"application_id": a.id, "decision": "rejected", "note": ""})
    assert response.status_code == 422 and "驳回材料时必须填写原因" in response.get_data(as_text=True)
    response = client.post(f"/review/documents/{doc.id}/verify",
                           data={"application_id": a.id, "decision": "rejected", "note": "营业执照已过期"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#doc-{doc.id}")
    db.session.expire_all()
    assert db.session.get(ProviderDocument, doc.id).verification_status.value == "rejected"
    page = client.get(f"/review/applications/{a.id}").get_data(as_text=True)
    assert "已驳回" in page and "营业执照已过期" in page


def test_verification_outside_the_jurisdiction_is_not_found(app, db, submitted, reviewers):
    a, doc = submitted["application"], submitted["documents"][0]
    response = client_as(app, reviewers["other_county"]).post(
        f"/review/documents/{doc.id}/verify", data={"application_id": a.id, "decision": "verified"})
    assert response.status_code == 404


# ---------------------------------------------------------------- decisions

def test_county_pass_then_city_approves_into_a_batch(app, db, submitted, reviewers):
    a = submitted["application"]
    verify_all(a, reviewers["county"])
    response = client_as(app, reviewers["county"]).post(f"/review/applications/{a.id}/pass",
                                                         data={"version": a.version, "note": "材料齐全"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/applications")
    assert _status(db, a) == S.city_review
    client = client_as(app, reviewers["city"])
    a = db.session.get(Application, a.id)
    page = client.get(f"/review/applications/{a.id}").get_data(as_text=True)
    assert "同意，纳入公示批次" in page and "新建批次" in page
    response = client.post(f"/review/applications/{a.id}/approve", data={"version": a.version, "batch_id": ""})
    assert response.status_code == 302
    item = db.session.query(BatchItem).filter_by(application_id=a.id).one()
    assert item.batch.status.value == "draft"
    page = client.get(f"/review/applications/{a.id}").get_data(as_text=True)
    assert f"已纳入{item.batch.name}" in page and "同意，纳入公示批次" not in page


def test_a_stale_form_gets_409_with_the_current_state(app, db, submitted, reviewers, create_user):
    a = submitted["application"]
    verify_all(a, reviewers["county"])
    seen = a.version
    first = client_as(app, reviewers["county"])
    second = client_as(app, create_user("county_reviewer", region_code="360113"))
    assert first.post(f"/review/applications/{a.id}/pass", data={"version": seen}).status_code == 302
    response = second.post(f"/review/applications/{a.id}/reject", data={"version": seen, "reason": "材料不全"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "该申报已被他人处理，当前状态为“市级复审中”" in body and "材料不全" in body  # what was typed is kept
    assert _status(db, a) == S.city_review


def test_an_illegal_decision_gets_409_naming_the_state(app, db, submitted, reviewers):
    a = to_city_review(submitted, reviewers)
    response = client_as(app, reviewers["county"]).post(f"/review/applications/{a.id}/pass", data={})
    assert response.status_code == 409
    assert "当前状态为“市级复审中”，不能报送市级复审" in response.get_data(as_text=True)


def test_return_keeps_the_per_item_comments(app, db, submitted, reviewers):
    a, d = submitted["application"], submitted
    client = client_as(app, reviewers["county"])
    response = client.post(f"/review/applications/{a.id}/return", data={"version": a.version, "general": ""})
    assert response.status_code == 422 and "退回修改时请至少对一项内容填写修改意见" in response.get_data(as_text=True)
    response = client.post(f"/review/applications/{a.id}/return", data={
        "version": a.version, "general": "请修改后重新提交", f"comment:project:{d['project'].id}": "收费偏高",
        "comment:organisation:address": "地址不详", f"comment:person:{d['person'].id}": ""})
    assert response.status_code == 302
    assert _status(db, a) == S.draft
    keys = sorted((c.item_type, c.item_key, c.text) for c in application_queries.comments_for(a))
    assert keys == sorted([("general", "-", "请修改后重新提交"), ("project", str(d["project"].id), "收费偏高"),
                           ("organisation", "address", "地址不详")])


def test_return_refuses_unknown_fields_and_items(app, db, submitted, reviewers):
    a = submitted["application"]
    client = client_as(app, reviewers["county"])
    response = client.post(f"/review/applications/{a.id}/return",
                           data={"version": a.version, "comment:project:999999": "?"})
    assert response.status_code == 422 and "无法识别的审核项：project:999999" in response.get_data(as_text=True)
    response = client.post(f"/review/applications/{a.id}/return", data={"version": a.version, "status": "approved"})
    assert response.status_code == 422 and "未知字段" in response.get_data(as_text=True)
    assert _status(db, a) == S.county_review


def test_reject_needs_a_reason(app, db, submitted, reviewers):
    a = submitted["application"]
    client = client_as(app, reviewers["county"])
    response = client.post(f"/review/applications/{a.id}/reject", data={"version": a.version, "reason": ""})
    assert response.status_code == 422 and "不予通过时必须填写理由" in response.get_data(as_text=True)
    assert client.post(f"/review/applications/{a.id}/reject",
                       data={"version": a.version, "reason": "含学科类内容"}).status_code == 302
    assert _status(db, a) == S.rejected


@pytest.mark.parametrize("role", ["sys_admin", "auditor", "inspector", "provider_admin", "school_admin"])
def test_roles_that_cannot_decide_get_403_by_the_table(app, db, submitted, login_as, role):
    a = submitted["application"]
    client, _user = login_as(role)
    for path in (f"/review/applications/{a.id}/pass", f"/review/applications/{a.id}/return",
                 f"/review/applications/{a.id}/reject", f"/review/applications/{a.id}/approve",
                 f"/review/documents/{submitted['documents'][0].id}/verify"):
        assert client.post(path, data={"version": a.version, "reason": "x"}).status_code == 403
    assert _status(db, a) == S.county_review


def test_reviewer_of_another_county_or_city_gets_404(app, db, submitted, reviewers):
    a = submitted["application"]
    for who in ("other_county", "other_city"):
        client = client_as(app, reviewers[who])
        assert client.get(f"/review/applications/{a.id}").status_code == 404
        assert client.post(f"/review/applications/{a.id}/pass", data={"version": a.version}).status_code == 404
    assert _status(db, a) == S.county_review


def test_old_snapshot_is_read_only(app, db, submitted, reviewers):
    a, d = submitted["application"], submitted
    reviews.return_for_revision(a, actor=reviewers["county"], comments={}, general="请补充")
    applications.submit(a, actor=d["admin"])
    page = client_as(app, reviewers["county"]).get(f"/review/applications/{a.id}?n=1").get_data(as_text=True)
    assert "您正在查看第 1 次提交（历史版本）" in page and 'id="decide"' not in page

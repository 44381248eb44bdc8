"""The provider's side of a review: comments next to their items after a return, resubmission (snapshot 2)
and the reviewer then seeing what changed; choosing the kind of a new application."""
from datetime import date

from registry.adjustments import services as adjustments
from registry.applications.models import Application
from registry.applications.models import ApplicationStatus as S
from registry.people import services as people
from registry.projects import services as projects
from registry.providers import services as providers
from tests.fixtures.reviews import at, client_as


def test_provider_sees_the_comments_resubmits_and_the_reviewer_sees_the_changes(app, db, submitted, reviewers):
    a, d = submitted["application"], submitted
    reviewer = client_as(app, reviewers["county"])
    response = reviewer.post(f"/review/applications/{a.id}/return", data={
        "version": a.version, "general": "请按意见修改", f"comment:project:{d['project'].id}": "收费偏高，请说明依据",
        f"comment:person:{d['person'].id}": "请补充健康证明扫描件", "comment:organisation:address": "地址不完整"})
    assert response.status_code == 302

    provider = client_as(app, d["admin"])
    page = provider.get("/provider/application").get_data(as_text=True)
    assert "审核员退回修改意见" in page
    for text in ("请按意见修改", "收费偏高，请说明依据", "请补充健康证明扫描件", "地址不完整"):
        assert text in page
    assert "服务项目 · 花样跳绳" in page and "机构信息 · 地址" in page
    assert f'<a href="/provider/projects/{d["project"].id}">去修改</a>' in page
    assert f'<a href="/provider/people/{d["person"].id}">去修改</a>' in page
    # On the frozen snapshot each comment sits with its item.
    detail = provider.get(f"/provider/applications/{a.id}").get_data(as_text=True)
    project_part = detail.partition("服务项目（")[2]
    assert "收费偏高，请说明依据" in project_part and "请补充健康证明扫描件" not in project_part
    person_part = detail.partition("从业人员（")[2].partition("服务项目（")[0]
    assert "请补充健康证明扫描件" in person_part

    projects.update_project(d["project"], actor=d["admin"], price="2.50")
    # issue 19: the person and the address were flagged too and have not changed yet
    assert provider.post(f"/provider/applications/{a.id}/submit").status_code == 422
    people.update_person(d["person"], actor=d["admin"], specialties="健康证明扫描件已补充")
    providers.update_profile(d["provider"], actor=d["admin"], address="南昌市红谷滩区赣江中大道1号")
    response = provider.post(f"/provider/applications/{a.id}/submit")
    assert response.status_code == 302
    db.session.expire_all()
    a = db.session.get(Application, a.id)
    assert a.status == S.county_review and [s.number for s in a.snapshots] == [1, 2]
    assert "审核员退回修改意见" not in provider.get("/provider/application").get_data(as_text=True)

    page = reviewer.get(f"/review/applications/{a.id}").get_data(as_text=True)
    changes = page.partition('id="changes"')[2].partition("</section>")[0]
    assert "与第 1 次提交相比的变化" in changes and "收费标准（元/人·课时）" in changes
    assert "3.00" in changes and "2.50" in changes
    assert "上次退回意见" in page and "收费偏高，请说明依据" in page.partition('id="projects"')[2]
    queue = reviewer.get("/review/applications").get_data(as_text=True)
    assert "第 2 次提交" in queue


def test_a_new_provider_may_only_apply_for_admission(app, db, complete_dossier):
    client = client_as(app, complete_dossier["admin"])
    page = client.get("/provider/application").get_data(as_text=True)
    assert 'name="kind" value="admission" checked' in page
    assert 'name="kind" value="change" disabled' in page and "变更申报仅适用于白名单内有效的机构" in page
    assert 'name="kind" value="annual" disabled' in page


def test_a_whitelisted_provider_chooses_among_the_allowed_kinds(app, db, whitelisted):
    d = whitelisted
    at(date(2026, 4, 6))
    client = client_as(app, d["admin"])
    page = client.get("/provider/application").get_data(as_text=True)
    assert 'name="kind" value="admission" disabled' in page
    assert 'name="kind" value="change" checked' in page
    assert "年审于 2026-07-02 起开放" in page
    response = client.post("/provider/applications", data={"kind": "annual", "project_ids": [str(d["project"].id)]})
    assert response.status_code == 422 and "年审于 2026-07-02 起开放" in response.get_data(as_text=True)
    response = client.post("/provider/applications", data={"kind": "change", "project_ids": [str(d["project"].id)]})
    assert response.status_code == 302
    assert db.session.query(Application).filter_by(provider_id=d["provider"].id, kind="change").count() == 1


def test_a_banned_provider_is_told_until_when(app, db, whitelisted):
    d = whitelisted
    at(date(2026, 4, 6))
    adjustments.ban(d["provider"], actor=d["reviewers"]["city"], reason_category="illegal_fees", reason="违规收费",
                    ends_on=date(2029, 4, 5))
    client = client_as(app, d["admin"])
    page = client.get("/provider/application").get_data(as_text=True)
    assert "本机构被禁入至 2029-04-05" in page and 'value="change" disabled' in page
    response = client.post("/provider/applications", data={"kind": "reinstatement",
                                                           "project_ids": [str(d["project"].id)]})
    assert response.status_code == 403 and "2029-04-05" in response.get_data(as_text=True)
    assert db.session.query(Application).filter_by(provider_id=d["provider"].id).count() == 1

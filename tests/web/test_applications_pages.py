"""The provider's application page, its frozen snapshot, and the reviewers' read views."""
import re

import pytest
from sqlalchemy import func, select

from registry.applications import services as applications
from registry.applications.models import OPEN_STATUSES, Application, ApplicationStatus
from registry.projects import services as projects
from tests.fixtures.accounts import login
from tests.fixtures.providers import add_cleared_person, add_project

ID_PATTERN = re.compile(r"\d{17}[\dXx]")


@pytest.fixture
def provider_client(app, db, complete_dossier):
    client = app.test_client()
    assert login(client, complete_dossier["admin"].username).status_code == 302
    return client, complete_dossier


def _open(db, provider):
    return db.session.scalar(select(Application).where(Application.provider_id == provider.id,
                                                       Application.status.in_(OPEN_STATUSES)))


def _submitted(d):
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    applications.submit(app, actor=d["admin"])
    return app


def test_start_an_application_by_choosing_projects(provider_client, db):
    client, d = provider_client
    page = client.get("/provider/application").get_data(as_text=True)
    assert "创建申报草稿" in page and "花样跳绳" in page
    response = client.post("/provider/applications", data={"project_ids": [str(d["project"].id)]})
    assert response.status_code == 302
    app = _open(db, d["provider"])
    assert app.status == ApplicationStatus.draft and [p.project_id for p in app.projects] == [d["project"].id]
    page = client.get("/provider/application").get_data(as_text=True)
    assert "材料已齐全，可以提交申报" in page and "草稿" in page
    assert re.search(r'<button type="submit" class="primary">提交申报</button>', page)


def test_starting_without_projects_is_refused(provider_client, db):
    client, d = provider_client
    response = client.post("/provider/applications", data={})
    assert response.status_code == 422
    assert "请至少选择一个申报项目" in response.get_data(as_text=True)
    assert _open(db, d["provider"]) is None


def test_checklist_is_grouped_and_links_to_the_fix_and_submit_is_refused(provider_client, db):
    client, d = provider_client
    bare = add_project(d["provider"], d["admin"], title="趣味折纸", category="traditional_culture")
    lacking = add_cleared_person(d["provider"], d["admin"], n=2, consent=False, name="赵老师")
    projects.update_project(d["project"], actor=d["admin"], staff_ids=[d["person"].id, lacking.id])
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id, bare.id])
    page = client.get("/provider/application").get_data(as_text=True)
    assert "<h3>人员" in page and "<h3>项目" in page
    assert "赵老师：缺少本人签署的查询授权同意书" in page
    assert "项目“趣味折纸”尚未指派授课人员" in page
    assert f'href="/provider/projects/{bare.id}"' in page
    assert f'href="/provider/people/{lacking.id}"' in page
    # issue 19: the submit button appears only once everything is there
    assert not re.search(r"<button[^>]*>提交申报</button>", page)
    assert "还有 2 项未满足" in page and "全部满足后这里会出现提交按钮" in page

    response = client.post(f"/provider/applications/{app.id}/submit")
    assert response.status_code == 422
    assert "申报材料不完整，还有 2 项未满足" in response.get_data(as_text=True)
    db.session.expire_all()
    app = db.session.get(Application, app.id)
    assert app.status == ApplicationStatus.draft and app.snapshots == []


def test_set_projects_while_draft(provider_client, db):
    client, d = provider_client
    other = add_project(d["provider"], d["admin"], title="趣味田径", staff=[d["person"]])
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    response = client.post(f"/provider/applications/{app.id}/projects",
                           data={"project_ids": [str(d["project"].id), str(other.id)]})
    assert response.status_code == 302
    db.session.expire_all()
    assert sorted(p.project_id for p in db.session.get(Application, app.id).projects) == \
        sorted([d["project"].id, other.id])


def test_submit_freezes_and_shows_the_snapshot_read_only(provider_client, db):
    client, d = provider_client
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    response = client.post(f"/provider/applications/{app.id}/submit")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/provider/applications/{app.id}")
    client.post(f"/provider/projects/{d['project'].id}", data={})  # a failed edit changes nothing either
    projects.update_project(d["project"], actor=d["admin"], title="花样跳绳（第二版）")
    page = client.get(f"/provider/applications/{app.id}").get_data(as_text=True)
    assert "县级初审中" in page and "第 1 次提交" in page
    assert "花样跳绳" in page and "花样跳绳（第二版）" not in page
    assert d["person"].id_masked in page and not ID_PATTERN.search(page)
    assert "提交申报" in page and "转县级初审" in page  # history
    assert "<form" not in page.split("</header>", 1)[1]  # read only: no form besides the logout button


def test_withdraw_with_reason_then_start_again(provider_client, db):
    client, d = provider_client
    app = _submitted(d)
    page = client.get("/provider/application").get_data(as_text=True)
    assert "撤回申报" in page
    response = client.post(f"/provider/applications/{app.id}/withdraw", data={"reason": "项目调整"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, app.id).status == ApplicationStatus.withdrawn
    page = client.get("/provider/application").get_data(as_text=True)
    assert "以往申报" in page and "已撤回" in page and "创建申报草稿" in page
    response = client.post(f"/provider/applications/{app.id}/withdraw", data={})
    assert response.status_code == 409
    assert "当前状态为“已撤回”" in response.get_data(as_text=True)
    assert "项目调整" in client.get(f"/provider/applications/{app.id}").get_data(as_text=True)


def test_second_open_application_is_refused(provider_client, db):
    client, d = provider_client
    _submitted(d)
    response = client.post("/provider/applications", data={"project_ids": [str(d["project"].id)]})
    assert response.status_code == 409
    assert "已有一份未办结的申报" in response.get_data(as_text=True)
    count = db.session.scalar(select(func.count()).select_from(Application)
                              .where(Application.provider_id == d["provider"].id))
    assert count == 1


def test_submit_twice_is_409_naming_the_state(provider_client, db):
    client, d = provider_client
    app = _submitted(d)
    response = client.post(f"/provider/applications/{app.id}/submit")
    assert response.status_code == 409
    assert "当前状态为“县级初审中”" in response.get_data(as_text=True)


def test_another_provider_gets_404(app, db, complete_dossier, login_as):
    d = complete_dossier
    submitted = _submitted(d)
    client, _user = login_as("provider_admin")
    assert client.get(f"/provider/applications/{submitted.id}").status_code == 404
    assert client.post(f"/provider/applications/{submitted.id}/withdraw", data={}).status_code == 404
    assert client.post(f"/provider/applications/{submitted.id}/submit").status_code == 404
    assert client.post(f"/provider/applications/{submitted.id}/projects",
                       data={"project_ids": [str(d["project"].id)]}).status_code == 404
    assert "花样跳绳" not in client.get("/provider/application").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Application, submitted.id).status == ApplicationStatus.county_review


# ---------------------------------------------------------------- reviewers

def test_reviewer_in_the_county_reads_the_snapshot(db, complete_dossier, login_as):
    d = complete_dossier
    app = _submitted(d)
    client, _user = login_as("county_reviewer")  # 360113, the provider's county
    page = client.get("/review/applications").get_data(as_text=True)
    assert d["provider"].name in page and "县级初审中" in page and "0 天" in page
    page = client.get(f"/review/applications/{app.id}").get_data(as_text=True)
    assert d["provider"].uscc in page and "公众责任保险" in page
    doc_file = d["documents"][0].file_id
    assert f'href="/files/{doc_file}"' in page
    assert d["person"].id_masked in page and not ID_PATTERN.search(page)
    assert "违法犯罪记录查询" in page and "无异常" in page and "提交时已准入" in page
    assert "3.00 元/人·课时" in page and "花样跳绳" in page


def test_city_reviewer_sees_the_citys_applications(db, complete_dossier, login_as):
    app = _submitted(complete_dossier)
    client, _user = login_as("city_reviewer")  # 南昌市
    assert f"/review/applications/{app.id}" in client.get("/review/applications").get_data(as_text=True)
    assert client.get(f"/review/applications/{app.id}").status_code == 200


@pytest.mark.parametrize("role, region", [("county_reviewer", "360111"), ("city_reviewer", "360700")])
def test_reviewer_outside_the_jurisdiction_sees_nothing(db, complete_dossier, login_as, role, region):
    d = complete_dossier
    app = _submitted(d)
    client, _user = login_as(role, region_code=region)
    for state in ("open", "closed", "all"):
        page = client.get(f"/review/applications?state={state}").get_data(as_text=True)
        assert d["provider"].name not in page and f"/review/applications/{app.id}" not in page
    assert client.get(f"/review/applications/{app.id}").status_code == 404


def test_drafts_never_submitted_are_not_shown_to_reviewers(db, complete_dossier, login_as):
    d = complete_dossier
    draft = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    client, _user = login_as("county_reviewer")
    assert d["provider"].name not in client.get("/review/applications?state=all").get_data(as_text=True)
    assert client.get(f"/review/applications/{draft.id}").status_code == 404


def test_withdrawn_is_listed_under_closed(db, complete_dossier, login_as):
    d = complete_dossier
    app = _submitted(d)
    applications.withdraw(app, actor=d["admin"], reason="调整")
    client, _user = login_as("county_reviewer")
    assert d["provider"].name not in client.get("/review/applications").get_data(as_text=True)
    page = client.get("/review/applications?state=closed").get_data(as_text=True)
    assert d["provider"].name in page and "已撤回" in page


def test_provider_cannot_use_reviewer_views(provider_client):
    client, d = provider_client
    app = _submitted(d)
    assert client.get("/review/applications").status_code == 403
    assert client.get(f"/review/applications/{app.id}").status_code == 403

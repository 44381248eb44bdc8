"""Issue 19, returned applications: a returned application reads 已退回; every reviewer comment shows next to its
item on the page where the item is fixed; the provider's message links there; the checklist and the dashboard
count unchanged flagged items as incomplete; the (re)submit button appears once every flagged item changed."""
import re

from sqlalchemy import select

from registry.applications import services as applications
from registry.applications.models import ApplicationStatus as S
from registry.notifications.models import Notification
from registry.projects import services as projects
from registry.providers import services as providers
from registry.reviews.services import decide
from tests.fixtures.accounts import login

SUBMIT = re.compile(r"<button[^>]*>(重新)?提交申报</button>")


def _returned(db, submitted, reviewers):
    d = submitted
    app, project = d["application"], d["project"]
    comments = {"organisation:address": "地址与营业执照不一致", f"project:{project.id}": "收费依据不足，请下调"}
    decide(app, "return", {"version": app.version, "comments": comments, "general": "请按逐项意见修改"},
           reviewers["county"])
    assert app.status == S.draft
    return d, app


def _client(app, d):
    client = app.test_client()
    assert login(client, d["admin"].username).status_code == 302
    return client


def test_a_returned_application_reads_returned_and_blocks_until_every_flagged_item_changed(app, db, submitted,
                                                                                            reviewers):
    d, application = _returned(db, submitted, reviewers)
    client = _client(app, d)
    assert application.returned and application.status_label == "已退回"

    page = client.get("/provider/application").get_data(as_text=True)
    assert "已退回" in page and ">草稿<" not in page
    assert "待修改" in page and "地址与营业执照不一致" in page
    # the checklist counts both flagged items as incomplete, and there is no submit button yet
    assert "还有 2 项未满足（含尚未修改的退回意见）" in page
    assert "审核员退回意见待处理（机构信息）：地址与营业执照不一致" in page
    assert not SUBMIT.search(page)
    assert "材料已齐全" not in page
    # the dashboard does not say everything is ready either, and lists the flagged items
    board = client.get("/provider").get_data(as_text=True)
    assert "材料已齐全" not in board and "审核员退回意见待处理" in board

    # the comment is on the page where the item is fixed
    profile = client.get("/provider/profile").get_data(as_text=True)
    assert "审核员退回意见" in profile and "地址与营业执照不一致" in profile and "待修改" in profile
    project_page = client.get(f"/provider/projects/{d['project'].id}").get_data(as_text=True)
    assert "收费依据不足，请下调" in project_page
    assert "/provider/application#review-comments" in project_page

    # the provider's message leads to that page, not the read-only copy
    link = db.session.scalar(select(Notification.link).where(Notification.user_id == d["admin"].id,
                                                             Notification.title == "申报被退回修改"))
    assert link == "/provider/application#review-comments"
    # the read-only copy says where to go
    copy = client.get(f"/provider/applications/{application.id}").get_data(as_text=True)
    assert "已退回" in copy and "/provider/application#review-comments" in copy

    # one item changed: still blocked
    providers.update_profile(d["provider"], actor=d["admin"], address="南昌市红谷滩区赣江中大道1号")
    page = client.get("/provider/application").get_data(as_text=True)
    assert "已修改" in page and "还有 1 项未满足" in page and not SUBMIT.search(page)
    assert "已修改，待重新提交" in client.get("/provider/profile").get_data(as_text=True)

    # both changed: the resubmit button appears and resubmission works
    projects.update_project(d["project"], actor=d["admin"], price="2.00")
    page = client.get("/provider/application").get_data(as_text=True)
    assert re.search(r"<button[^>]*>重新提交申报</button>", page)
    assert "可以重新提交申报" in client.get("/provider").get_data(as_text=True)
    response = client.post(f"/provider/applications/{application.id}/submit")
    assert response.status_code == 302
    db.session.refresh(application)
    assert application.status == S.county_review and len(application.snapshots) == 2


def test_the_service_refuses_a_resubmission_with_an_unchanged_flagged_item(app, db, submitted, reviewers):
    d, application = _returned(db, submitted, reviewers)
    found = {f.key: f.changed for f in applications.flags(application)}
    assert found == {"organisation:address": False, f"project:{d['project'].id}": False, "general": True}
    client = _client(app, d)
    response = client.post(f"/provider/applications/{application.id}/submit")
    assert response.status_code == 422
    assert "还有 2 项未满足" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status == S.draft and application.status_label == "已退回"


def test_an_untouched_person_stays_flagged_whatever_order_their_records_load_in(app, db, submitted, reviewers):
    d = submitted
    application = d["application"]
    person = d["person"]
    decide(application, "return", {"version": application.version, "comments": {f"person:{person.id}": "请补充"}},
           reviewers["county"])
    assert [f.changed for f in applications.flags(application)] == [False]
    then = application.latest_snapshot.data["people"][0]
    shuffled = {**then, "checks": list(reversed(then["checks"])), "cleared": not then["cleared"]}
    assert applications._normal(shuffled) == applications._normal(then)
    assert applications._normal({**then, "phone": then["phone"] + "9"}) != applications._normal(then)

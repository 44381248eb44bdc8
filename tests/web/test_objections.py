"""Resolving objections on the batch page: upheld (the provider leaves, the application is returned or
rejected) or dismissed with a reason; an open objection blocks publishing."""
from datetime import date

import pytest

from registry.applications.models import ApplicationStatus as S
from registry.batches import services as batches
from registry.batches.models import BatchStatus, ObjectionStatus
from tests.fixtures.reviews import OBJECTION, at, batch_in_publicity, client_as


@pytest.fixture
def objected(db, submitted, reviewers):
    """A batch under publicity since Monday 2026-03-02 (ends 03-09) with one open objection."""
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    objection = batches.file_objection(batch, application_id=submitted["application"].id, **OBJECTION)
    return {"batch": batch, "objection": objection, "application": submitted["application"]}


@pytest.mark.parametrize("outcome, status, label",
                         [("return", S.draft, "退回修改"), ("reject", S.rejected, "不予通过")])
def test_upheld_objection_removes_the_provider_and_returns_or_rejects(app, db, objected, reviewers, outcome, status,
                                                                      label):
    batch, objection, application = objected["batch"], objected["objection"], objected["application"]
    city = client_as(app, reviewers["city"])
    response = city.post(f"/review/objections/{objection.id}/resolve",
                         data={"upheld": "true", "outcome": outcome, "resolution": "经核查，确有违规收费"},
                         follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"已移出批次，申报{label}" in page and "已移出" in page and "经核查，确有违规收费" in page
    db.session.expire_all()
    assert objection.status == ObjectionStatus.upheld
    assert application.status == status
    assert batch.items[0].removed_at is not None
    public = app.test_client().get(f"/publicity/{batch.id}").get_data(as_text=True)
    assert application.provider.name not in public


def test_dismissing_needs_a_reason_and_nothing_changes_without_one(app, db, objected, reviewers):
    objection = objected["objection"]
    city = client_as(app, reviewers["city"])
    response = city.post(f"/review/objections/{objection.id}/resolve", data={"upheld": "false", "resolution": " "})
    assert response.status_code == 422
    assert "请填写处理意见" in response.get_data(as_text=True)
    db.session.expire_all()
    assert objection.status == ObjectionStatus.open and objection.resolution is None


def test_a_refused_upheld_form_keeps_the_chosen_outcome(app, db, objected, reviewers):
    objection = objected["objection"]
    city = client_as(app, reviewers["city"])
    response = city.post(f"/review/objections/{objection.id}/resolve",
                         data={"upheld": "true", "outcome": "reject", "resolution": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="reject" checked' in page and "请填写处理意见" in page


def test_resolving_twice_is_refused_naming_the_state_and_keeps_the_first_resolution(app, db, objected, reviewers):
    objection = objected["objection"]
    city = client_as(app, reviewers["city"])
    city.post(f"/review/objections/{objection.id}/resolve", data={"upheld": "false", "resolution": "查无实据"})
    response = city.post(f"/review/objections/{objection.id}/resolve",
                         data={"upheld": "false", "resolution": "第二次处理"}, follow_redirects=True)
    assert "当前状态为“异议不成立”" in response.get_data(as_text=True)
    db.session.expire_all()
    assert objection.resolution == "查无实据"


def test_an_open_objection_blocks_publishing(app, db, objected, reviewers):
    batch, objection = objected["batch"], objected["objection"]
    at(date(2026, 3, 10))
    city = client_as(app, reviewers["city"])
    page = city.get(f"/review/batches/{batch.id}").get_data(as_text=True)
    assert "还有 1 条异议未处理，处理完毕后方可发布" in page
    response = city.post(f"/review/batches/{batch.id}/publish", data={"confirmed": "1"}, follow_redirects=True)
    assert "还有 1 条异议未处理" in response.get_data(as_text=True)
    db.session.expire_all()
    assert batch.status == BatchStatus.publicity
    city.post(f"/review/objections/{objection.id}/resolve", data={"upheld": "false", "resolution": "查无实据"})
    assert city.post(f"/review/batches/{batch.id}/publish", data={"confirmed": "1"}).status_code == 302
    db.session.expire_all()
    assert batch.status == BatchStatus.published


def test_another_citys_reviewer_cannot_resolve(app, db, objected, reviewers):
    objection = objected["objection"]
    stranger = client_as(app, reviewers["other_city"])
    response = stranger.post(f"/review/objections/{objection.id}/resolve",
                             data={"upheld": "false", "resolution": "查无实据"})
    assert response.status_code == 404
    county = client_as(app, reviewers["county"])
    assert county.post(f"/review/objections/{objection.id}/resolve",
                       data={"upheld": "false", "resolution": "查无实据"}).status_code == 403
    db.session.expire_all()
    assert objection.status == ObjectionStatus.open

"""The city reviewer's batch pages: listing, drafts, illegal transitions, jurisdiction."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.applications.models import ApplicationStatus as S
from registry.batches import services as batches
from registry.batches.models import BatchItem, BatchStatus, ReleaseBatch
from tests.fixtures.reviews import OBJECTION, at, batch_in_publicity, client_as, to_city_review


def test_index_lists_batches_with_counts_and_the_applications_ready_for_a_batch(app, db, submitted, reviewers):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    batches.file_objection(batch, application_id=submitted["application"].id, **OBJECTION)
    city = client_as(app, reviewers["city"])
    page = city.get("/review/batches").get_data(as_text=True)
    assert "2026年第1批" in page and "公示中" in page and "2026-03-02 至 2026-03-09" in page
    assert "1 条" in page  # open objections
    assert "没有待纳入公示的申报" in page  # the only application is already in the batch


def test_ready_application_can_be_added_to_an_existing_draft_and_removed_again(app, db, submitted, reviewers):
    at(date(2026, 3, 2))
    application = to_city_review(submitted, reviewers)
    draft = batches.create_batch(actor=reviewers["city"])
    city = client_as(app, reviewers["city"])
    page = city.get("/review/batches").get_data(as_text=True)
    assert f"加入{draft.name}" in page and submitted["provider"].name in page

    response = city.post(f"/review/batches/{draft.id}/items", data={"application_id": application.id})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/review/batches/{draft.id}")
    assert db.session.scalars(select(BatchItem.application_id)).all() == [application.id]
    page = city.get(f"/review/batches/{draft.id}").get_data(as_text=True)
    assert f"/review/applications/{application.id}" in page and "花样跳绳" in page

    # Adding it twice is refused with the reason; nothing is duplicated.
    response = city.post(f"/review/batches/{draft.id}/items", data={"application_id": application.id},
                         follow_redirects=True)
    assert "已在另一个待发布的批次中" in response.get_data(as_text=True)

    response = city.post(f"/review/batches/{draft.id}/items/{application.id}/remove")
    assert response.status_code == 302
    assert db.session.scalars(select(BatchItem)).all() == []


def test_an_application_not_at_city_review_cannot_be_added(app, db, submitted, reviewers):
    draft = batches.create_batch(actor=reviewers["city"])
    city = client_as(app, reviewers["city"])
    response = city.post(f"/review/batches/{draft.id}/items", data={"application_id": submitted["application"].id},
                         follow_redirects=True)
    assert "该申报处于县级初审阶段" in response.get_data(as_text=True)
    assert db.session.scalars(select(BatchItem)).all() == []


def test_starting_an_empty_batch_is_refused_and_the_button_is_disabled(app, db, reviewers):
    draft = batches.create_batch(actor=reviewers["city"])
    city = client_as(app, reviewers["city"])
    assert "批次中还没有申报，不能开始公示" in city.get(f"/review/batches/{draft.id}").get_data(as_text=True)
    response = city.post(f"/review/batches/{draft.id}/publicity", data={"confirmed": "1"}, follow_redirects=True)
    assert "批次中还没有申报，不能开始公示" in response.get_data(as_text=True)
    db.session.expire_all()
    assert draft.status == BatchStatus.draft


def test_illegal_transition_is_flashed_naming_the_state_and_changes_nothing(app, db, submitted, reviewers):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    at(date(2026, 3, 4))
    city = client_as(app, reviewers["city"])
    response = city.post(f"/review/batches/{batch.id}/publicity", data={"confirmed": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/review/batches/{batch.id}")
    page = city.get(response.headers["Location"]).get_data(as_text=True)
    assert "当前状态为“公示中”，不能执行该操作" in page
    db.session.expire_all()
    # The service had already recomputed the dates in memory when the transition refused: rolled back.
    assert (batch.publicity_start, batch.publicity_end) == (date(2026, 3, 2), date(2026, 3, 9))


def test_items_cannot_be_removed_once_publicity_started(app, db, submitted, reviewers):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    city = client_as(app, reviewers["city"])
    application = submitted["application"]
    response = city.post(f"/review/batches/{batch.id}/items/{application.id}/remove", follow_redirects=True)
    assert "公示开始后只能通过处理异议移出申报" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [i.application_id for i in batch.items if i.removed_at is None] == [application.id]
    assert application.status == S.publicity


def test_publishing_too_early_is_refused_with_the_date_it_becomes_possible(app, db, submitted, reviewers):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    at(date(2026, 3, 9))  # the last day of publicity
    city = client_as(app, reviewers["city"])
    page = city.get(f"/review/batches/{batch.id}").get_data(as_text=True)
    assert "公示期至 2026-03-09 结束，2026-03-10 起方可发布" in page
    assert 'class="primary" disabled>发布' in page
    response = city.post(f"/review/batches/{batch.id}/publish", data={"confirmed": "1"}, follow_redirects=True)
    assert "2026-03-10 起方可发布" in response.get_data(as_text=True)
    db.session.expire_all()
    assert batch.status == BatchStatus.publicity and batch.published_on is None


def test_another_citys_reviewer_gets_404_on_the_batch(app, db, submitted, reviewers):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    stranger = client_as(app, reviewers["other_city"])
    assert stranger.get(f"/review/batches/{batch.id}").status_code == 404
    assert stranger.post(f"/review/batches/{batch.id}/publish", data={"confirmed": "1"}).status_code == 404
    assert stranger.post(f"/review/batches/{batch.id}/items",
                         data={"application_id": submitted["application"].id}).status_code == 404
    page = stranger.get("/review/batches").get_data(as_text=True)
    assert "2026年第1批" not in page and submitted["provider"].name not in page


@pytest.mark.parametrize("who", ["county", "other_county"])
def test_county_reviewers_cannot_manage_batches(app, db, submitted, reviewers, who):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    county = client_as(app, reviewers[who])
    assert county.get("/review/batches").status_code == 403
    assert county.post("/review/batches").status_code == 403
    assert county.get(f"/review/batches/{batch.id}").status_code == 403
    assert county.post(f"/review/batches/{batch.id}/publish", data={"confirmed": "1"}).status_code == 403


def test_a_city_reviewer_cannot_batch_an_application_of_another_city(app, db, submitted, reviewers):
    at(date(2026, 3, 2))
    application = to_city_review(submitted, reviewers)
    stranger = client_as(app, reviewers["other_city"])
    response = stranger.post("/review/batches", data={"application_ids": [str(application.id)]},
                             follow_redirects=True)
    assert "申报不存在" in response.get_data(as_text=True)
    assert db.session.scalars(select(ReleaseBatch)).all() == []  # the new batch was rolled back with it

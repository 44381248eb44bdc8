"""The whole publicity path through the HTML pages: city review -> batch -> publicity (public page, objection)
-> resolution -> publication into whitelist entries."""
from datetime import date

from sqlalchemy import select

from registry.applications.models import ApplicationStatus as S
from registry.batches.models import BatchStatus, Objection, ObjectionStatus, ReleaseBatch
from registry.whitelist.models import WhitelistEntry
from tests.fixtures.reviews import OBJECTION, at, client_as, to_city_review


def _batch(db):
    return db.session.scalars(select(ReleaseBatch)).one()


def test_reviewer_batches_publicises_and_publishes_through_the_pages(app, db, submitted, reviewers):
    at(date(2026, 3, 2))  # Monday
    application = to_city_review(submitted, reviewers)
    provider = submitted["provider"]
    city = client_as(app, reviewers["city"])

    page = city.get("/review/batches").get_data(as_text=True)
    assert provider.name in page and f"/review/applications/{application.id}" in page

    response = city.post("/review/batches", data={"application_ids": [str(application.id)]})
    assert response.status_code == 302
    batch = _batch(db)
    assert response.headers["Location"].endswith(f"/review/batches/{batch.id}")
    assert batch.status == BatchStatus.draft and [i.application_id for i in batch.items] == [application.id]

    page = city.get(f"/review/batches/{batch.id}").get_data(as_text=True)
    assert "2026年第1批" in page and "南昌市教育局" in page
    assert "2026-03-02 至 2026-03-09" in page  # the computed end date, shown before starting
    assert "仅按周一至周五" not in page

    response = city.post(f"/review/batches/{batch.id}/publicity", data={"confirmed": "1"}, follow_redirects=True)
    assert "2026-03-02 至 2026-03-09" in response.get_data(as_text=True)
    db.session.expire_all()
    assert batch.status == BatchStatus.publicity and application.status == S.publicity

    # The public sees it without logging in and files an objection.
    public = app.test_client()
    assert f"/publicity/{batch.id}" in public.get("/publicity").get_data(as_text=True)
    assert provider.name in public.get(f"/publicity/{batch.id}").get_data(as_text=True)
    response = public.post(f"/publicity/{batch.id}/objections", data={"application_id": application.id, **OBJECTION})
    assert response.status_code == 302
    objection = db.session.scalars(select(Objection)).one()

    # Too early, and an open objection: both reasons are on the page; the publish button is disabled.
    page = city.get(f"/review/batches/{batch.id}").get_data(as_text=True)
    assert OBJECTION["content"] in page and OBJECTION["contact"] in page
    assert "2026-03-10 起方可发布" in page
    response = city.post(f"/review/batches/{batch.id}/publish", data={"confirmed": "1"}, follow_redirects=True)
    assert "2026-03-10 起方可发布" in response.get_data(as_text=True)
    db.session.expire_all()
    assert batch.status == BatchStatus.publicity

    response = city.post(f"/review/objections/{objection.id}/resolve",
                         data={"upheld": "false", "resolution": "经核查，该机构未收取任何费用，异议不成立"})
    assert response.status_code == 302
    db.session.expire_all()
    assert objection.status == ObjectionStatus.dismissed

    at(date(2026, 3, 10))
    city = client_as(app, reviewers["city"])
    page = city.get(f"/review/batches/{batch.id}").get_data(as_text=True)
    assert "暂不能发布" not in page
    response = city.post(f"/review/batches/{batch.id}/publish", data={"confirmed": "1"}, follow_redirects=True)
    assert "已发布" in response.get_data(as_text=True)
    db.session.expire_all()
    assert batch.status == BatchStatus.published and batch.published_on == date(2026, 3, 10)
    assert application.status == S.approved
    entry = db.session.scalars(select(WhitelistEntry)).one()
    assert entry.provider_id == provider.id and entry.valid_until == date(2026, 8, 31)
    # Published batches leave the publicity list but stay readable; objections are closed.
    assert f"/publicity/{batch.id}\"" not in public.get("/publicity").get_data(as_text=True)
    page = public.get(f"/publicity/{batch.id}").get_data(as_text=True)
    assert "已发布" in page and "提交异议" not in page


def test_2027_publicity_without_entered_holidays_counts_monday_to_friday_and_says_so(app, db, submitted, reviewers):
    at(date(2027, 3, 1))
    application = to_city_review(submitted, reviewers)
    city = client_as(app, reviewers["city"])
    city.post("/review/batches", data={"application_ids": [str(application.id)]})
    batch = _batch(db)
    assert "仅按周一至周五计算" in city.get(f"/review/batches/{batch.id}").get_data(as_text=True)  # before starting
    city.post(f"/review/batches/{batch.id}/publicity", data={"confirmed": "1"})
    db.session.expire_all()
    assert batch.publicity_end == date(2027, 3, 8)
    assert "仅按周一至周五计算" in batch.calendar_warning
    page = city.get(f"/review/batches/{batch.id}").get_data(as_text=True)
    assert "公示期计算提示" in page and "仅按周一至周五计算" in page


def test_2027_publicity_with_entered_complete_holidays_uses_them_without_a_warning(app, db, submitted, reviewers,
                                                                                    create_user):
    at(date(2027, 3, 29))
    admin = client_as(app, create_user("sys_admin"))
    assert admin.post("/admin/calendar/days", data={"day": "2027-04-05", "is_workday": "false",
                                                    "note": "清明节"}).status_code == 302
    assert admin.post("/admin/calendar/years",
                      data={"year": "2027", "source": "国办发明电〔2026〕号"}).status_code == 302

    at(date(2027, 4, 1))  # Thursday: Fri 2, (Mon 5 is a holiday), Tue 6 .. Fri 9
    application = to_city_review(submitted, reviewers)
    city = client_as(app, reviewers["city"])
    city.post("/review/batches", data={"application_ids": [str(application.id)]})
    batch = _batch(db)
    city.post(f"/review/batches/{batch.id}/publicity", data={"confirmed": "1"})
    db.session.expire_all()
    assert batch.publicity_end == date(2027, 4, 9)
    assert batch.calendar_warning is None
    page = city.get(f"/review/batches/{batch.id}").get_data(as_text=True)
    assert "仅按周一至周五" not in page and "公示期计算提示" not in page

"""Review queues by stage and jurisdiction, with waiting time in calendar and working days."""
from datetime import date

import pytest

from registry.applications import services as applications
from registry.applications.models import ApplicationKind
from registry.applications.models import ApplicationStatus as S
from registry.policy.models import CityPolicy
from registry.regions import services as regions
from registry.reviews import services as reviews
from registry.reviews.queries import queue_rows
from tests.fixtures.providers import add_cleared_person, add_documents, add_project, id_number_for, make_provider_row
from tests.fixtures.reviews import at, verify_all


def _ids(user, **args):
    return [row.application.id for row in queue_rows(user, args)]


def submit_new(db, create_user, county_code="360113", name=None, n=1):
    """A new provider in `county_code` with a complete dossier, its application submitted today."""
    provider = make_provider_row(db, county_code=county_code, name=name)
    admin = create_user("provider_admin", provider_id=provider.id)
    add_documents(provider, admin)
    person = add_cleared_person(provider, admin, n=n, id_number=id_number_for(n))
    project = add_project(provider, admin, staff=[person])
    app = applications.create_application(provider, actor=admin, project_ids=[project.id])
    return applications.submit(app, actor=admin)


def test_county_stage_first_then_city(db, submitted, reviewers):
    app = submitted["application"]
    assert app.status == S.county_review
    assert _ids(reviewers["county"]) == [app.id]
    assert _ids(reviewers["other_county"]) == []
    assert _ids(reviewers["city"]) == []          # not before the county passed it
    assert _ids(reviewers["other_city"]) == []
    verify_all(app, reviewers["county"])
    reviews.pass_to_city(app, actor=reviewers["county"])
    assert _ids(reviewers["county"]) == []
    assert _ids(reviewers["city"]) == [app.id]
    assert _ids(reviewers["other_city"]) == []


def test_a_city_without_county_stage_sends_everything_to_the_city(db, complete_dossier, reviewers):
    nanchang = regions.get_by_code("360100")
    db.session.add(CityPolicy(city_id=nanchang.id, county_review_required=False))
    db.session.flush()
    d = complete_dossier
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    applications.submit(app, actor=d["admin"])
    assert app.status == S.city_review
    assert _ids(reviewers["city"]) == [app.id]
    assert _ids(reviewers["county"]) == []
    assert reviews.decision_problem(reviewers["city"], app) is None


def test_waiting_time_in_calendar_and_working_days(db, create_user, seeded_regions, frozen_clock):
    at(date(2026, 9, 25))  # a Friday; 2026-10-01..07 is the National Day holiday, 10-10 a make-up working day
    app = submit_new(db, create_user)
    county = create_user("county_reviewer", region_code="360113")
    at(date(2026, 10, 9))
    [row] = queue_rows(county, {})
    assert row.application.id == app.id
    assert row.waiting_days == 14
    # After 09-25: 09-28, 09-29, 09-30 and 10-08, 10-09 are working days (10-01..07 are holidays).
    assert row.waiting_working_days == 5


def test_filters_and_sorting(db, create_user, seeded_regions, frozen_clock):
    at(date(2026, 3, 2))
    older = submit_new(db, create_user, name="南昌甲乙科技服务中心", n=11)
    at(date(2026, 3, 5))
    newer = submit_new(db, create_user, name="南昌丙丁体育俱乐部", n=12)
    newer.kind = ApplicationKind.annual  # as a renewal would be
    db.session.flush()
    county = create_user("county_reviewer", region_code="360113")
    at(date(2026, 3, 9))
    assert _ids(county) == [older.id, newer.id]                 # the longest waiting first
    assert _ids(county, sort="newest") == [newer.id, older.id]
    assert _ids(county, kind="annual") == [newer.id]
    assert _ids(county, q="体育") == [newer.id]
    assert _ids(county, stage="city_review") == []
    assert _ids(county, stage="county_review") == [older.id, newer.id]


@pytest.mark.parametrize("role", ["sys_admin", "auditor", "inspector", "provider_admin", "school_admin"])
def test_other_roles_have_no_queue(db, submitted, create_user, role):
    assert _ids(create_user(role)) == []

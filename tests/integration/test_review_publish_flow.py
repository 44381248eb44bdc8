"""County review -> city review -> batch -> publicity -> objection -> publish, at service level."""
from datetime import date

import pytest

from registry.applications import queries as application_queries
from registry.applications.models import ApplicationStatus as S
from registry.batches import services as batches
from registry.core.errors import Conflict, NotAllowed, ValidationFailed
from registry.reviews import services as reviews
from registry.whitelist import services as whitelist
from registry.whitelist.models import ChangeFeedItem, EntryStatus, WhitelistEntry
from tests.fixtures.reviews import at, verify_all


def _to_city(submitted, reviewers):
    app = submitted["application"]
    verify_all(app, reviewers["county"])
    reviews.pass_to_city(app, actor=reviewers["county"])
    return app


def test_full_path_publishes_entries(db, submitted, reviewers, frozen_clock):
    at(date(2026, 3, 2))  # Monday
    app = _to_city(submitted, reviewers)
    assert app.status == S.city_review
    batch = batches.create_batch(actor=reviewers["city"])
    batches.add_to_batch(batch, app, actor=reviewers["city"])
    batches.start_publicity(batch, actor=reviewers["city"])
    assert batch.publicity_end == date(2026, 3, 9) and app.status == S.publicity
    at(date(2026, 3, 9))
    with pytest.raises(Conflict, match="2026-03-10 起方可发布"):
        batches.publish(batch, actor=reviewers["city"])
    at(date(2026, 3, 10))
    batches.publish(batch, actor=reviewers["city"])
    assert app.status == S.approved
    entry = db.session.query(WhitelistEntry).one()
    assert entry.status == EntryStatus.active and entry.valid_until == date(2026, 8, 31)
    assert [c.county.code for c in entry.counties] == ["360113"]
    assert db.session.query(ChangeFeedItem).one().kind.value == "added"
    from registry.whitelist.models import Certificate
    cert = db.session.query(Certificate).one()
    assert whitelist.certificate_status(cert)[0] == "valid"
    assert entry.effective_status(date(2026, 9, 1)) == EntryStatus.expired


def test_wrong_stage_and_jurisdiction_cannot_decide(db, submitted, reviewers):
    app = submitted["application"]
    for who in ("city", "other_county", "other_city"):
        with pytest.raises(NotAllowed):
            reviews.pass_to_city(app, actor=reviewers[who])
    assert app.status == S.county_review


def test_return_needs_a_comment_and_goes_back_to_draft(db, submitted, reviewers):
    app = submitted["application"]
    with pytest.raises(ValidationFailed):
        reviews.return_for_revision(app, actor=reviewers["county"], comments={})
    reviews.return_for_revision(app, actor=reviewers["county"],
                                comments={f"project:{submitted['project'].id}": "价格依据不足"})
    assert app.status == S.draft
    assert application_queries.comments_for(app)[0].text == "价格依据不足"


def test_objection_upheld_removes_provider_and_returns_application(db, submitted, reviewers, frozen_clock):
    at(date(2026, 3, 2))
    app = _to_city(submitted, reviewers)
    batch = batches.create_batch(actor=reviewers["city"])
    batches.add_to_batch(batch, app, actor=reviewers["city"])
    batches.start_publicity(batch, actor=reviewers["city"])
    with pytest.raises(ValidationFailed) as err:
        batches.file_objection(batch, application_id=app.id, name="", contact="", content="短")
    assert set(err.value.errors) == {"name", "contact", "content"}
    objection = batches.file_objection(batch, application_id=app.id, name="李明", contact="13812345678",
                                         content="该机构曾在我校违规收取资料费，请核查。")
    at(date(2026, 3, 10))
    with pytest.raises(Conflict, match="异议未处理"):
        batches.publish(batch, actor=reviewers["city"])
    batches.resolve_objection(objection, actor=reviewers["city"], upheld=True, resolution="经核查属实",
                              outcome="return")
    assert app.status == S.draft
    with pytest.raises(Conflict, match="已没有可发布的申报"):
        batches.publish(batch, actor=reviewers["city"])


def test_objection_outside_window_is_refused(db, submitted, reviewers, frozen_clock):
    at(date(2026, 3, 2))
    app = _to_city(submitted, reviewers)
    batch = batches.create_batch(actor=reviewers["city"])
    batches.add_to_batch(batch, app, actor=reviewers["city"])
    batches.start_publicity(batch, actor=reviewers["city"])
    at(date(2026, 3, 10))
    with pytest.raises(Conflict, match="不在公示期内"):
        batches.file_objection(batch, application_id=app.id, name="李明", contact="13812345678",
                                 content="该机构曾在我校违规收取资料费，请核查。")


def test_adverse_check_bans_person_everywhere(db, submitted, reviewers, create_user):
    from registry.people import services as people
    from tests.fixtures.providers import add_cleared_person, id_number_for
    person = submitted["person"]
    # Registered at another provider before the ban (a banned ID can no longer be registered anywhere).
    other = create_user("provider_admin")
    moved = add_cleared_person(other.provider, other, id_number=id_number_for(1))  # same ID at another provider
    check = next(c for c in person.checks if c.check_type.value == "sexual_offence")
    reviews.verify_check(check, actor=reviewers["city"], ok=False, note="公安机关反馈有记录")
    assert not people.clearance(person).cleared
    result = people.clearance(moved)
    assert not result.cleared and any("禁入名单（永久）" in r for r in result.reasons)


def test_withdrawn_application_leaves_the_draft_batch(db, submitted, reviewers, frozen_clock):
    from registry.applications import services as applications
    at(date(2026, 3, 2))
    app = _to_city(submitted, reviewers)
    batch = batches.create_batch(actor=reviewers["city"])
    batches.add_to_batch(batch, app, actor=reviewers["city"])
    applications.withdraw(app, actor=submitted["admin"])
    with pytest.raises(ValidationFailed, match="没有处于市级复审阶段的申报"):
        batches.start_publicity(batch, actor=reviewers["city"])
    assert batch.items == []

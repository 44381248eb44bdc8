"""The eligibility kept for lists (evaluate_for_listing, shared through Redis) is computed again when an
adverse check is recorded for the same ID number at ANOTHER provider: the live ban reads person_check by
blind index, and that table is among the ones whose commits invalidate the cached eligibility."""
from datetime import date

from registry.extensions import db as _db
from registry.whitelist.eligibility import ELIGIBILITY_TABLES
from tests.fixtures.providers import add_cleared_person
from tests.web.test_public_cache import cached_app, commit  # noqa: F401  (cached_app is a fixture)


def test_listing_eligibility_changes_when_another_provider_records_an_adverse_check(
        db, catalog_world, cached_app, create_user):  # noqa: F811
    from registry.people import services as people
    from registry.whitelist import eligibility
    assert {"person", "person_check", "person_ban"} <= set(ELIGIBILITY_TABLES)
    app = cached_app()
    entry = catalog_world["entry"]
    b_person = catalog_world["whitelisted"]["person"]
    other = create_user("provider_admin")
    a_person = add_cleared_person(other.provider, other, n=1)  # the same ID number as B's 王老师1
    assert a_person.id_bidx == b_person.id_bidx
    commit(app)
    day = date(2026, 3, 13)
    with app.app_context():
        first = eligibility.evaluate_for_listing([entry.id], day)[entry.id]
        assert first.ok and first.cleared_count == 1
        people.add_check(a_person, actor=other, check_type="sexual_offence", check_date=day, result="adverse",
                         authority="南昌市公安局")
        _db.session.commit()
        later = eligibility.evaluate_for_listing([entry.id], day)[entry.id]
        direct = eligibility.evaluate([entry], day)[entry.id]
    assert not later.ok and later.cleared_count == 0 and later.reasons == direct.reasons
    assert any("禁入名单（永久）" in reason for reason in later.reasons)

"""The eligibility kept for lists is cached per entry and day under its provider's scope (issue 20,
registry.whitelist.eligibility.SCOPE_RESOLVERS): a commit makes a miss only of the entries of the
providers its rows touch. Measured on the real Redis, by which entries a second read has to compute again:
- an order (created, then accepted) touches no eligibility at all: every entry and the catalog page stay;
- a check recorded for a person of one provider: only that provider's entries;
- an adverse check of an ID number that another provider's teacher shares: both providers' entries;
- a whitelist change (a suspension, written by the lifecycle's UPDATE) and a city's rules: every entry.
Each time, what is served again equals evaluate() on the records."""
from datetime import date, timedelta

import pytest

from registry.core import cache, clock
from registry.extensions import db as _db
from registry.orders import services as orders
from registry.whitelist import eligibility
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import add_cleared_person
from tests.web.test_public_cache import CATALOG, cached_app, commit  # noqa: F401  (cached_app is a fixture)


def computed_again(entries):
    """The ids of `entries` whose cached eligibility is a miss now (they are computed and stored again)."""
    missed = []

    def build(keys):
        missed.extend(int(k) for k in keys)
        found = _db.session.scalars(_db.select(eligibility.WhitelistEntry)
                                    .where(eligibility.WhitelistEntry.id.in_([int(k) for k in keys]))).all()
        return {str(e.id): {"ok": r.ok, "reasons": r.reasons, "causes": sorted(r.causes),
                            "cleared": len(r.cleared_staff)} for e, r in
                ((e, eligibility.evaluate([e], clock.today())[e.id]) for e in found)}

    cache.cached_scoped_values("eligibility", clock.today(), {str(e.id): e.provider_id for e in entries}, build)
    return set(missed)


@pytest.fixture
def scoped(db, catalog_world, cached_app):  # noqa: F811
    app = cached_app()
    w = catalog_world
    entries = [w["entry"], w["go"], w["suspended"], w["donghu"], w["junior"], w["lapsed"]]
    commit(app)
    with app.app_context():
        eligibility.evaluate_for_listing([e.id for e in entries], clock.today())   # all cached
        assert computed_again(entries) == set()
    return app, w, entries


def same_as_records(entries):
    listed = eligibility.evaluate_for_listing([e.id for e in entries], clock.today())
    direct = eligibility.evaluate(entries, clock.today())
    assert {i: (r.ok, r.reasons) for i, r in listed.items()} == {i: (r.ok, r.reasons) for i, r in direct.items()}


def test_an_order_and_its_acceptance_leave_every_entry_and_the_catalog_page_cached(scoped, bearer):
    app, w, entries = scoped
    headers = bearer(w["admin"])
    client = app.test_client()
    first = client.get(CATALOG, headers=headers)
    assert first.status_code == 200 and first.get_json()["items"]
    with app.app_context():
        order = orders.create_order(w["school"], actor=w["admin"], **order_fields(w["entry"], w["term"]))
        _db.session.commit()
        assert computed_again(entries) == set()
        orders.accept_order(order, actor=w["whitelisted"]["admin"], person_ids=[w["whitelisted"]["person"].id])
        _db.session.commit()
        assert computed_again(entries) == set()
    # the page is served from the cache: the very bytes, and no eligibility is computed for it
    assert client.get(CATALOG, headers=headers).get_data() == first.get_data()


def test_a_check_recorded_at_one_provider_misses_only_that_providers_entries(scoped):
    from registry.people import services as people
    app, w, entries = scoped
    with app.app_context():
        people.add_check(w["whitelisted"]["person"], actor=w["whitelisted"]["admin"], check_type="health",
                         check_date=clock.today(), result="clear", authority="南昌市第一医院")
        _db.session.commit()
        assert computed_again(entries) == {w["entry"].id}
        same_as_records(entries)


def test_an_adverse_check_of_a_shared_id_number_misses_both_providers_entries(scoped, create_user):
    from registry.people import services as people
    app, w, entries = scoped
    other = create_user("provider_admin")
    twin = add_cleared_person(other.provider, other, n=1)   # the same ID number as the whitelisted teacher
    assert twin.id_bidx == w["whitelisted"]["person"].id_bidx
    commit(app)
    with app.app_context():
        assert computed_again(entries) == {w["entry"].id}   # a person added elsewhere with that ID number
        people.add_check(twin, actor=other, check_type="criminal", check_date=clock.today(), result="adverse",
                         authority="南昌市公安局")
        _db.session.commit()
        assert computed_again(entries) == {w["entry"].id}   # banned everywhere: the whitelisted entry too
        assert not eligibility.evaluate_for_listing([w["entry"].id], clock.today())[w["entry"].id].ok
        same_as_records(entries)


def test_a_whitelist_change_and_a_city_rule_still_miss_every_entry(scoped):
    from registry.policy.models import CityPolicy
    from registry.whitelist.services import ENTRY
    app, w, entries = scoped
    with app.app_context():
        ENTRY.transition(_db.session.get(type(w["go"]), w["go"].id), "suspend",
                         changes={"status_reason": "安全隐患整改"})
        _db.session.commit()
        assert computed_again(entries) == {e.id for e in entries}
        assert not eligibility.evaluate_for_listing([w["go"].id], clock.today())[w["go"].id].ok
        rules = _db.session.scalar(_db.select(CityPolicy).where(CityPolicy.city_id == w["school"].city_id))
        if rules is None:
            rules = CityPolicy(city_id=w["school"].city_id)
            _db.session.add(rules)
        rules.check_max_age_days = (rules.check_max_age_days or 365) - 1
        _db.session.commit()
        assert computed_again(entries) == {e.id for e in entries}
        same_as_records(entries)


def test_the_next_day_everything_is_computed_for_that_day(scoped):
    from tests.fixtures.reviews import at
    app, w, entries = scoped
    at(clock.today() + timedelta(days=1))
    with app.app_context():
        assert computed_again(entries) == {e.id for e in entries}
    assert clock.today() > date(2026, 3, 13)


# ---------------------------------------------------------------- the entry's own part of a catalog item

def test_the_api_items_are_the_catalog_rows_dumped(db, catalog_world, cached_app):  # noqa: F811
    """catalog_items (cached own parts + the school's part) answers what dumping catalog()'s rows answers,
    with and without the cache, for the orderable page and for show=all with every reason."""
    from registry.orders import catalog, schemas
    school = catalog_world["school"]
    for app in (cached_app(), None):
        commit(app) if app else None
        with (app.app_context() if app else _nullcontext()):
            for filters in ({}, {"show": "all"}, {"show": "all", "sort": "-price"}):
                for _twice in range(2):   # the second time from the cache
                    page, hidden = catalog.catalog_items(school, filters, schemas.CATALOG_ITEM_OWN.dump, per_page=3)
                    rows = catalog.catalog(school, filters, per_page=3)
                    expected = schemas.CatalogPageOut().dump({"items": rows.page.items, "total": rows.page.total,
                                                               "page": 1, "per_page": 3, "pages": rows.page.pages,
                                                               "hidden": rows.hidden})
                    assert page.items == expected["items"] and (page.total, hidden) == (expected["total"],
                                                                                       expected["hidden"])
                    assert page.items


def _nullcontext():
    from contextlib import nullcontext
    return nullcontext()


def own_parts_computed_again(entries):
    from registry.orders import catalog, schemas
    missed = []

    def build(keys):
        missed.extend(int(k) for k in keys)
        found = catalog._entries([int(k) for k in keys])
        return {k: schemas.CATALOG_ITEM_OWN.dump(catalog.CatalogRow(found[int(k)], None)) for k in keys}

    cache.cached_scoped_values("catalog_item", clock.today(), {str(e.id): e.provider_id for e in entries}, build)
    return set(missed)


def test_a_project_edit_misses_the_own_part_of_that_providers_entries_only(scoped):
    from registry.regions.models import Region
    app, w, entries = scoped
    with app.app_context():
        own_parts_computed_again(entries)
        assert own_parts_computed_again(entries) == set()
        project = _db.session.get(type(w["go"].project), w["go"].project_id)
        project.description = "新的项目介绍"
        _db.session.commit()
        assert own_parts_computed_again(entries) == {w["go"].id}
        region = _db.session.get(Region, w["school"].county_id)
        region.name = region.name + "（新）"
        _db.session.commit()
        assert own_parts_computed_again(entries) == {e.id for e in entries}

"""The catalog at service level: it lists exactly what ordering accepts, pages after the eligibility filter,
and counts what it leaves out."""
import pytest

from registry.core import clock
from registry.core.errors import ValidationFailed
from registry.orders import catalog
from registry.orders import services as orders
from registry.schools import services as schools
from registry.whitelist import eligibility
from registry.whitelist.models import WhitelistEntry
from tests.fixtures.orders import order_fields


def _titles(rows):
    return sorted(r.entry.project.title for r in rows)


def test_listed_means_orderable_and_unlisted_means_refused(db, catalog_world):
    school, term, admin = catalog_world["school"], catalog_world["term"], catalog_world["admin"]
    listed = catalog.catalog(school, {}, per_page=100).page.items
    assert _titles(listed) == ["围棋入门", "花样跳绳"]
    everything = db.session.query(WhitelistEntry).all()
    verdict = eligibility.evaluate(everything, clock.today(), school)
    assert {r.entry.id for r in listed} == {e.id for e in everything if verdict[e.id].ok}
    for key in ("suspended", "donghu", "junior", "lapsed"):
        with pytest.raises(ValidationFailed) as err:
            orders.create_order(school, actor=admin, **order_fields(catalog_world[key], term,
                                                                    grades=[3], expected_students=15))
        assert err.value.errors["entry_id"] == verdict[catalog_world[key].id].reasons
    for name in ("围棋社", "科技社"):  # 5 own projects: two third-party orders stay under 30% (2/7)
        schools.add_own_project(school, actor=admin, term_id=term.id, name=name, category="clubs", teacher="李老师")
    for row in listed:
        orders.create_order(school, actor=admin, **order_fields(row.entry, term, grades=[3, 4],
                                                                expected_students=15))


def test_paging_happens_after_the_eligibility_filter(db, catalog_world):
    school = catalog_world["school"]
    first = catalog.catalog(school, {"sort": "title"}, page=1, per_page=1)
    second = catalog.catalog(school, {"sort": "title"}, page=2, per_page=1)
    assert first.page.total == 2 and first.page.pages == 2 and first.hidden == 4
    assert [r.entry.project.title for r in first.page.items + second.page.items] == ["围棋入门", "花样跳绳"]
    every = catalog.catalog(school, {"show": "all", "sort": "price"}, per_page=100)
    assert every.page.total == 6 and every.hidden == 4
    assert [r.ok for r in every.page.items] == [True, True, False, False, False, False]


def test_filters_narrow_the_hidden_count_too(db, catalog_world):
    school = catalog_world["school"]
    result = catalog.catalog(school, {"category": "science"})
    assert result.page.total == 0 and result.hidden == 1  # 区域外科普 only
    result = catalog.catalog(school, {"provider_id": catalog_world["lapsed"].provider_id})
    assert result.page.total == 0 and result.hidden == 1

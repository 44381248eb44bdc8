"""The shared cache (registry.core.cache) of the public whitelist JSON and of the school catalog, on the real
Redis at 127.0.0.1:6379 with a key prefix of each test's own: a cached page reflects every change committed
after it was cached, and the date, with no write at all; two app objects on one Redis share it; a cached
answer is the uncached one byte for byte; and the statements of a page do not grow with its rows."""
from datetime import date, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from registry.adjustments import services as adjustments
from registry.core.reads import reads_engine
from registry.extensions import db as _db
from registry.schools.models import SchoolType
from registry.whitelist.services import ENTRY
from tests.conftest import TEST_DB_URL, make_app
from tests.fixtures.orders import add_orderable_bulk_entries
from tests.fixtures.redis_cache import REDIS_URL, forget_prefix, new_prefix, redis_or_skip
from tests.fixtures.reviews import at
from tests.fixtures.schools import make_school_row

PUBLIC = "/api/v1/whitelist?city=360100"
CATALOG = "/api/v1/school/catalog"


@pytest.fixture
def cached_app(db):
    """cached_app() -> a new app whose cache is REDIS_URL under this test's own key prefix (every app the
    test makes shares it); the keys are deleted afterwards."""
    client = redis_or_skip()
    prefix = new_prefix()
    made = []

    def factory(url=REDIS_URL):
        application = make_app(CACHE_URL=url, CACHE_KEY_PREFIX=prefix)
        made.append(application)
        return application

    yield factory
    forget_prefix(client, prefix)
    for application in made:
        with application.app_context():
            _db.engine.dispose()


def commit(app):
    """Commit what the test wrote as a request of `app` would: the cache generations are bumped after it."""
    with app.app_context():
        _db.session.commit()


class Statements(list):
    """The SQL a request sent; == with a number compares the count."""

    def __eq__(self, other):
        return len(self) == other if isinstance(other, int) else list.__eq__(self, other)

    def __gt__(self, other):
        return len(self) > other

    def __lt__(self, other):
        return len(self) < len(other)

    def touch(self, table):
        return any(f" {table}" in statement for statement in self)


def fetch(app, url, headers=None):
    """(statements sent, response) of one GET."""
    engine = _db.session.get_bind().engine
    seen = Statements()

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    client = app.test_client()
    _db.session.commit()  # what the request would commit first (RequestClient), outside the count
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url, headers=headers or {})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return seen, response


def listed(app):
    return {item["project"]["title"]: item["status"] for item in fetch(app, PUBLIC)[1].get_json()["items"]}


# ---------------------------------------------------------------- the public whitelist

def test_a_cached_list_shows_suspension_delisting_and_publication(db, published, publish_provider, cached_app):
    app = cached_app()
    commit(app)
    assert listed(app) == {"花样跳绳": "active"}
    statements, _response = fetch(app, PUBLIC)
    assert statements == 0  # answered from the cache

    with app.app_context():
        adjustments.suspend(published["provider"], actor=published["city_reviewer"], reason_category="other",
                            reason="安全隐患整改")
    commit(app)
    assert listed(app) == {"花样跳绳": "suspended"}

    with app.app_context():
        adjustments.delist(published["provider"], actor=published["city_reviewer"], reason_category="other",
                           reason="整改不到位")
    commit(app)
    assert listed(app) == {}

    with app.app_context():
        publish_provider(name="南昌新发布科技有限公司", projects=[{"title": "少儿编程", "category": "science"}])
    commit(app)
    assert listed(app) == {"少儿编程": "active"}


def test_a_set_based_transition_is_seen_too(db, published, cached_app):
    """The nightly sweep moves entries with one UPDATE statement (transition_many), not flushed objects."""
    app = cached_app()
    commit(app)
    assert listed(app) == {"花样跳绳": "active"}
    with app.app_context():
        assert ENTRY.transition_many(published["entries"], "suspend", reason="测试", rule="test")
    commit(app)
    assert listed(app) == {"花样跳绳": "suspended"}


def test_a_rolled_back_change_leaves_the_cache_alone(db, published, cached_app):
    app = cached_app()
    commit(app)
    listed(app)
    with app.app_context():
        savepoint = _db.session.begin_nested()
        ENTRY.transition(published["entries"][0], "suspend", reason="草稿")
        savepoint.rollback()
    commit(app)
    assert listed(app) == {"花样跳绳": "active"}


def test_an_entry_leaves_the_list_at_midnight_and_a_suspension_lifts_without_any_write(db, publish_provider,
                                                                                         cached_app):
    publish_provider(name="南昌到期示例有限公司", projects=[{"title": "到期的足球"}])
    lifts = publish_provider(name="南昌解除示例有限公司", projects=[{"title": "解除的舞蹈"}])
    app = cached_app()
    at(date(2026, 8, 20))
    with app.app_context():
        adjustments.suspend(lifts["provider"], actor=lifts["city_reviewer"], reason_category="other",
                            reason="限期整改", lift_on=date(2026, 8, 25))
    commit(app)
    assert listed(app) == {"到期的足球": "active", "解除的舞蹈": "suspended"}
    at(date(2026, 8, 25))
    assert listed(app) == {"到期的足球": "active", "解除的舞蹈": "suspended"}
    at(date(2026, 8, 26))  # the day after the lift date: no sweep has run, nothing was written
    assert listed(app) == {"到期的足球": "active", "解除的舞蹈": "active"}
    at(date(2026, 8, 31))
    assert fetch(app, PUBLIC)[0] > 0 and fetch(app, PUBLIC)[0] == 0  # a new day misses once, then it is cached
    assert listed(app) == {"到期的足球": "active", "解除的舞蹈": "active"}
    at(date(2026, 9, 1))  # both valid until 2026-08-31
    assert listed(app) == {}


def test_two_apps_on_one_redis_share_the_cache(db, published, cached_app):
    first, second = cached_app(), cached_app()
    commit(first)
    statements, cached = fetch(first, PUBLIC)
    assert statements > 0
    statements, shared = fetch(second, PUBLIC)
    assert statements == 0 and shared.data == cached.data
    with second.app_context():
        adjustments.suspend(published["provider"], actor=published["city_reviewer"], reason_category="other",
                            reason="安全隐患整改")
    commit(second)
    assert listed(first) == {"花样跳绳": "suspended"}


def test_a_cached_answer_is_the_uncached_one(db, app, published, cached_app):
    cached = cached_app()
    commit(cached)
    fetch(cached, PUBLIC)
    statements, from_cache = fetch(cached, PUBLIC)
    _statements, direct = fetch(app, PUBLIC)
    assert statements == 0
    assert from_cache.data == direct.data
    assert sorted(from_cache.headers.items()) == sorted(direct.headers.items())


def test_only_open_endpoints_without_a_rate_limit_are_answered_in_front_of_the_app(app):
    """FrontCache answers before every before_request hook (authorization, rate limits)."""
    from flask_limiter.util import get_qualified_name

    from registry.auth.permissions import PUBLIC, TABLE
    from registry.core.cache import _FRONT
    from registry.extensions import limiter
    assert _FRONT
    for endpoint in _FRONT:
        assert TABLE[endpoint].roles == PUBLIC, endpoint
        view = app.view_functions[endpoint]
        assert not limiter.limit_manager.decorated_limits(get_qualified_name(view)), endpoint
        assert not limiter.limit_manager.has_hints(endpoint), endpoint


def test_without_redis_every_request_is_answered_from_the_database(db, published, cached_app):
    app = cached_app("redis://127.0.0.1:1/0")  # nothing listens there
    commit(app)
    assert listed(app) == {"花样跳绳": "active"}
    assert fetch(app, PUBLIC)[0] > 0


def test_a_lost_generation_makes_every_cached_page_a_miss(db, published, cached_app):
    """Redis may lose a generation (a restart, an eviction) and keep values: none of them may match again."""
    app = cached_app()
    commit(app)
    fetch(app, PUBLIC)
    assert fetch(app, PUBLIC)[0] == 0
    with app.app_context():
        from registry.core import cache as shared
        store = shared.current()
        store.redis.delete(store._generation_key("whitelist"))
    assert fetch(app, PUBLIC)[0] > 0
    assert fetch(app, PUBLIC)[0] == 0


def test_cache_clear_makes_every_cached_page_a_miss(db, published, cached_app):
    app = cached_app()
    commit(app)
    fetch(app, PUBLIC)
    assert fetch(app, PUBLIC)[0] == 0
    with app.app_context():  # (the db fixture's app context would be the command's otherwise)
        result = app.test_cli_runner().invoke(args=["registry", "cache-clear"])
    assert result.exit_code == 0 and "cache cleared" in result.output
    assert fetch(app, PUBLIC)[0] > 0


def test_public_statements_do_not_grow_with_rows_on_a_miss(db, published, cached_app):
    from tests.fixtures.reviews import add_bulk_entries
    add_bulk_entries(db, published["batch"], 110)
    app = cached_app()
    commit(app)
    small, r20 = fetch(app, f"{PUBLIC}&per_page=20")
    large, r100 = fetch(app, f"{PUBLIC}&per_page=100")
    assert (len(r20.get_json()["items"]), len(r100.get_json()["items"])) == (20, 100)
    assert len(small) == len(large)
    assert fetch(app, f"{PUBLIC}&per_page=100")[0] == 0


# ---------------------------------------------------------------- the school catalog

def titles(response):
    return [item["project"]["title"] for item in response.get_json()["items"]]


def test_a_cached_catalog_follows_eligibility_and_is_shared_by_the_schools_of_a_county_and_type(
        db, catalog_world, bearer, create_user, cached_app):
    app = cached_app()
    headers = bearer(catalog_world["admin"])
    commit(app)
    statements, first = fetch(app, CATALOG, headers)
    assert titles(first) == ["围棋入门", "花样跳绳"] and first.get_json()["hidden"] == 4
    cached_statements, again = fetch(app, CATALOG, headers)
    assert again.data == first.data
    assert statements.touch("whitelist_entry") and not cached_statements.touch("whitelist_entry")

    neighbour = create_user("school_admin", school_id=make_school_row(db, name="红谷滩区第二小学").id)
    junior = create_user("school_admin", school_id=make_school_row(
        db, name="红谷滩区第一初级中学", school_type=SchoolType.junior).id)
    neighbour_headers, junior_headers = bearer(neighbour), bearer(junior)
    commit(app)
    statements, shared = fetch(app, CATALOG, neighbour_headers)
    assert shared.data == first.data and not statements.touch("whitelist_entry")
    assert titles(fetch(app, CATALOG, junior_headers)[1]) == ["初中篮球"]

    # An eligibility change (the provider's insurance lapses) and a suspension, each committed after caching.
    go = catalog_world["go"]
    with app.app_context():
        from registry.providers import services as providers
        from tests.fixtures.providers import pdf_bytes
        old = next(d for d in providers.current_documents(go.provider_id) if d.doc_type.value == "liability_insurance")
        providers.upload_document(go.provider, actor=catalog_world["admin"], doc_type="liability_insurance",
                                  number="PICC-OLD", issuer="中国人保南昌分公司", issue_date=date(2025, 1, 1),
                                  expiry_date=date(2026, 3, 1), filename="保单.pdf", data=pdf_bytes(),
                                  replaces_id=old.id)
    commit(app)
    body = fetch(app, CATALOG, headers)[1].get_json()
    assert titles_of(body) == ["花样跳绳"] and body["hidden"] == 5
    with app.app_context():
        whitelisted = catalog_world["whitelisted"]
        adjustments.suspend(whitelisted["provider"], actor=whitelisted["reviewers"]["city"],
                            reason_category="other", reason="安全隐患整改")
    commit(app)
    assert titles(fetch(app, CATALOG, neighbour_headers)[1]) == []


def titles_of(body):
    return [item["project"]["title"] for item in body["items"]]


def test_a_cached_catalog_is_for_one_day(db, catalog_world, bearer, cached_app):
    app = cached_app()
    headers = bearer(catalog_world["admin"])
    commit(app)
    assert titles(fetch(app, CATALOG, headers)[1]) == ["围棋入门", "花样跳绳"]
    at(date(2026, 9, 1))  # every entry was valid until 2026-08-31 (and the token has expired: a new one)
    body = fetch(app, CATALOG, bearer(catalog_world["admin"]))[1].get_json()
    assert body["items"] == [] and body["total"] == 0


def test_a_cached_catalog_is_the_uncached_one(db, app, catalog_world, bearer, cached_app):
    cached = cached_app()
    headers = bearer(catalog_world["admin"])
    commit(cached)
    for url in (CATALOG, f"{CATALOG}?show=all&sort=-price", f"{CATALOG}?show=all&per_page=2&page=2&max_price=3"):
        fetch(cached, url, headers)
        from_cache = fetch(cached, url, headers)[1]
        direct = fetch(app, url, headers)[1]
        assert from_cache.data == direct.data, url


@pytest.mark.parametrize("cache", [False, True])
def test_catalog_json_statements_do_not_grow_with_rows(db, whitelisted, ordering_school, bearer, cached_app, app,
                                                        cache):
    headers = bearer(ordering_school["admin"])
    add_orderable_bulk_entries(db, whitelisted, 19)
    counts = {}
    for size in (20, 100):
        if size == 100:
            add_orderable_bulk_entries(db, whitelisted, 80)
        target = cached_app() if cache else app
        commit(target)
        fetch(target, f"{CATALOG}?per_page=1", headers)  # the token's first use is written once, not counted
        if cache:  # a new generation: every request below misses and computes its page
            with target.app_context():
                from registry.core import cache as shared
                shared.current().bump({"catalog", "eligibility"})
        for url in (f"{CATALOG}?per_page=100", f"{CATALOG}?per_page=100&show=all&sort=price"):
            n, response = fetch(target, url, headers)
            assert len(response.get_json()["items"]) == size, (size, url)
            counts[(size, url)] = len(n)
    for url in (f"{CATALOG}?per_page=100", f"{CATALOG}?per_page=100&show=all&sort=price"):
        assert counts[(20, url)] == counts[(100, url)], counts


def test_a_suspension_past_its_lift_date_is_orderable_before_the_sweep_records_it(db, app, catalog_world, bearer):
    go = catalog_world["go"]
    with app.app_context():
        adjustments.suspend(go.provider, actor=catalog_world["whitelisted"]["reviewers"]["city"],
                            reason_category="other", reason="限期整改", lift_on=date(2026, 3, 15))
    headers = bearer(catalog_world["admin"])
    assert titles(fetch(app, CATALOG, headers)[1]) == ["花样跳绳"]
    at(date(2026, 3, 16))  # no sweep has run: the entry is still stored as suspended
    assert titles(fetch(app, CATALOG, headers)[1]) == ["围棋入门", "花样跳绳"]


def test_eligibility_kept_for_lists_is_computed_again_after_a_change(db, catalog_world, cached_app):
    """evaluate_for_listing (shared by every school's catalog) against evaluate() itself, before and after a
    person's check turns out adverse."""
    from registry.people import services as people
    from registry.whitelist import eligibility
    app = cached_app()
    commit(app)
    entry = catalog_world["entry"]
    day = date(2026, 3, 13)
    with app.app_context():
        first = eligibility.evaluate_for_listing([entry.id], day)[entry.id]
        assert first.ok and first.cleared_count == 1
        assert eligibility.evaluate_for_listing([entry.id], day)[entry.id] == first
        person = catalog_world["whitelisted"]["person"]
        people.add_check(person, actor=catalog_world["whitelisted"]["admin"], check_type="criminal",
                         check_date=day - timedelta(days=1), result="adverse", authority="南昌市公安局红谷滩分局",
                         reference_no="ADV-1")
        _db.session.commit()
        later = eligibility.evaluate_for_listing([entry.id], day)[entry.id]
        direct = eligibility.evaluate([entry], day)[entry.id]
    assert not later.ok and later.reasons == direct.reasons and later.cleared_count == 0


# ---------------------------------------------------------------- certificate verification (not cached)

def test_verification_json_statements_do_not_grow_with_the_entries(db, app, publish_provider):
    """(The HTML page: tests/web/test_verify.py.)"""
    one = publish_provider(name="南昌单项目示例有限公司")
    five = publish_provider(name="南昌五项目示例有限公司", projects=[{"title": f"项目{i}"} for i in range(5)])
    counts = []
    for published in (one, five):
        url = f"/api/v1/whitelist/verify/{published['certificate'].token}"
        fetch(app, url)
        statements, response = fetch(app, url)
        assert response.get_json()["status"] == "valid" and response.get_json()["entries"][0]["counties"]
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_certificate_without_entries_verifies_as_expired(db, app, published):
    from registry.whitelist.models import Certificate
    from tests.fixtures.providers import make_provider_row
    provider = make_provider_row(db, name="南昌无条目示例有限公司")
    db.session.add(Certificate(provider_id=provider.id, token="no-entries-token", batch_id=published["batch"].id))
    body = fetch(app, "/api/v1/whitelist/verify/no-entries-token")[1].get_json()
    assert (body["status"], body["provider"]["name"], body["entries"]) == ("expired", "南昌无条目示例有限公司", [])


@pytest.mark.postgres_only
@pytest.mark.skipif(make_url(TEST_DB_URL).get_backend_name() != "postgresql",
                    reason="reads without a transaction save round trips to a PostgreSQL server only")
def test_read_only_endpoints_run_without_a_transaction_on_postgresql(app):
    """No `db` fixture here: requests use the app's own session on the engines, as in production. The
    read-only GETs go to the autocommit engine (registry.core.reads), every other request to the main
    engine, in a transaction."""
    with app.app_context():
        engines = {"main": _db.engine, "reads": reads_engine()}
    modes = []

    def listener(name):
        return lambda conn, *_args: modes.append((name, conn.connection.dbapi_connection.autocommit))

    listeners = {name: listener(name) for name in engines}

    client = app.test_client()
    for name, engine in engines.items():
        event.listen(engine, "before_cursor_execute", listeners[name])
    try:
        def autocommit(url):
            modes.clear()
            client.get(url)
            assert modes, url
            return set(modes)

        assert autocommit("/verify/no-such-token") == {("reads", True)}
        assert autocommit("/api/v1/whitelist/verify/no-such-token") == {("reads", True)}
        assert autocommit("/api/v1/whitelist?city=360100") == {("reads", True)}
        assert autocommit("/whitelist/changes") == {("main", False)}  # any other request: one transaction
    finally:
        for name, engine in engines.items():
            event.remove(engine, "before_cursor_execute", listeners[name])

"""ELIGIBILITY_TABLES (registry.whitelist.eligibility) is what the cache (registry.core.cache) watches for
the "eligibility" and "catalog" generations: a commit that writes one of them makes the cached values a
miss. The list is kept by hand, so it is checked here against what the code really reads: every SQL
statement run while eligibility is computed is caught by a before_cursor_execute listener and its tables
are taken from the compiled statement (every Table in it, subqueries included) and, as a second net, from
FROM/JOIN in the SQL text. The data come from the property test's generator (the same dataset and
operations: uploads, expiries, checks, suspensions, bans, sweeps, dates), so each rule's branch runs.

A table read but not in the list fails the test: a commit writing it would leave a stale cached value."""
import re
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, event, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.util import find_tables

from registry.core import cache, clock
from registry.core.errors import DomainError
from registry.orders import catalog
from registry.whitelist import eligibility
from registry.whitelist.models import WhitelistEntry
from tests.fixtures.reviews import at
from tests.integration.test_eligibility_property import START, _apply, dataset_fixture, operation  # noqa: F401

# Every kind of step at least once, in an order that reaches each rule's branch (adverse check -> person
# ban, suspension and delisting -> provider actions, expiry, sweep, renewed checks).
SCRIPT = [("age", 1), ("insurance", 0, "expired"), ("verify", 0), ("adverse", 1), ("recheck", 0),
          ("suspend", 0, 3), ("sweep",), ("age", 6), ("delist", 1), ("reinstate", 1), ("age", 200), ("sweep",)]

# Catalog pages are a function of the school only through cache_key (its city, county and type): the
# school row itself is the key's source, not data the cached page depends on.
CATALOG_KEY_TABLES = {"school"}
# Tables evaluate() reads only for a column that never changes, so a write to them changes no eligibility (and
# watching them would make every new school a cache miss for all): school.city_id, the city whose ban years an
# adverse check of a school-engaged person brings (issue 14).
FIXED_COLUMN_TABLES = {"school"}

_FROM = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)


def statement_tables(statement, context, known):
    tables = set()
    compiled = getattr(context, "compiled", None)
    stmt = getattr(compiled, "statement", None)
    if stmt is not None and not isinstance(stmt, TextClause):
        tables |= {t.name for t in find_tables(stmt, include_aliases=True, include_joins=True, include_crud=True)
                   if isinstance(t, Table)}
    tables |= {name for name in _FROM.findall(statement) if name in known}
    return tables


@contextmanager
def reads(db):
    """Yields the set of table names read by the statements run inside the block."""
    seen = set()
    known = set(db.metadata.tables)

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.update(statement_tables(statement, context, known))

    engine = db.session.get_bind()
    engine = getattr(engine, "engine", engine)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _fresh_entries(db, ids):
    db.session.expire_all()  # so that lazy loads (entry.provider, entry.project, …) run inside the capture
    return db.session.scalars(select(WhitelistEntry).where(WhitelistEntry.id.in_(ids))).all()


def eligibility_reads(db, d):
    """Tables read by evaluate() (no school: the cached part) and by evaluate_for_listing() on today."""
    day = clock.today()
    with reads(db) as seen:
        evaluate = eligibility.evaluate(_fresh_entries(db, d["entries"]), day)
        db.session.expire_all()
        listing = eligibility.evaluate_for_listing(d["entries"], day)
    assert set(evaluate) == set(listing) == set(d["entries"])
    return seen


def catalog_reads(db, d):
    school = d["school"]
    with reads(db) as seen:
        db.session.expire_all()
        catalog.catalog(school, {"show": "all"})
    return seen - CATALOG_KEY_TABLES


def _step(db, d, op):
    """Apply one operation in a savepoint; a refused one (DomainError) changes nothing."""
    step = db.session.begin_nested()
    try:
        _apply(d, op)
        step.commit()
    except DomainError:
        step.rollback()


def _run(db, d, steps):
    read, catalog_read = set(), set()
    at(START)
    for op in [None, *steps]:
        if op is not None:
            _step(db, d, op)
        read |= eligibility_reads(db, d)
        catalog_read |= catalog_reads(db, d)
    return read, catalog_read


def _missing(read, listed):
    return sorted(read - set(listed) - FIXED_COLUMN_TABLES)


def test_capture_sees_the_tables_of_a_statement(db):
    """The listener itself: the compiled statement's tables, subqueries included, and nothing else."""
    from registry.projects.models import Project
    from registry.providers.models import Provider
    with reads(db) as seen:
        db.session.execute(select(Project.id).where(Project.provider_id.in_(select(Provider.id))))
    assert seen == {"project", "provider"}


def test_eligibility_tables_lists_every_table_evaluate_reads(db, dataset):
    read, catalog_read = _run(db, dataset, SCRIPT)
    # the capture is not vacuous: the rules' own tables were read
    assert {"whitelist_entry", "provider_document", "provider_action", "project_staff", "person",
            "person_check", "qualification", "person_ban"} <= read
    assert not _missing(read, eligibility.ELIGIBILITY_TABLES), (
        f"evaluate() reads {_missing(read, eligibility.ELIGIBILITY_TABLES)}, missing from ELIGIBILITY_TABLES")
    watched_for_catalog = {t for t, names in cache._WATCHED.items() if "catalog" in names}
    assert not _missing(catalog_read, watched_for_catalog), (
        f"catalog() reads {_missing(catalog_read, watched_for_catalog)}, not watched for 'catalog'")


@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(operation, min_size=1, max_size=5))
def test_random_histories_read_no_other_table(db, dataset, steps):
    example = db.session.begin_nested()
    try:
        read, _catalog_read = _run(db, dataset, steps)
        assert not _missing(read, eligibility.ELIGIBILITY_TABLES), (
            f"evaluate() reads {_missing(read, eligibility.ELIGIBILITY_TABLES)} after {steps}")
    finally:
        example.rollback()
        db.session.expire_all()
        at(START)


# ---------------------------------------------------------------- issue 20: the scopes a commit bumps

@contextmanager
def bumps():
    """Yields a function: (every entry, {provider ids}) the "eligibility" cache was to bump since its last
    call, whether the test's savepoint release (a commit to the session) or a flush marked it. Listens
    before the cache's own after_commit, which takes the marks."""
    taken = []

    def take(session):
        taken.append((set(session.info.get(cache._PENDING, ())),
                      set(session.info.get(cache._PENDING_SCOPES, {}).get("eligibility", ()))))

    def since():
        from registry.extensions import db
        db.session.flush()
        take(db.session)
        db.session.info.pop(cache._PENDING, None)
        db.session.info.pop(cache._PENDING_SCOPES, None)
        whole = any("eligibility" in names for names, _scopes in taken)
        scopes = set().union(*(scopes for _names, scopes in taken))
        taken.clear()
        return whole, scopes

    event.listen(Session, "after_commit", take, insert=True)
    try:
        yield since
    finally:
        event.remove(Session, "after_commit", take)


def _results(db, d):
    entries = _fresh_entries(db, d["entries"])
    return {e.id: (e.provider_id, r.ok, r.reasons, len(r.cleared_staff))
            for e, r in ((e, eligibility.evaluate([e], clock.today())[e.id]) for e in entries)}


def _scopes_cover(db, d, steps):
    """Apply `steps`; every entry whose eligibility a step changed (on the same day) must be among what the
    step's flushes marked: its provider's scope, or every entry. Returns the steps covered by a scope alone."""
    with bumps() as since:
        return _covered(db, d, steps, since)


def _covered(db, d, steps, _bumped):
    at(START)
    _bumped()
    by_scope = []
    for op in steps:
        day, before = clock.today(), _results(db, d)
        _step(db, d, op)
        whole, scopes = _bumped()
        if clock.today() != day:
            continue   # another day: another key, whatever the generations
        after = _results(db, d)
        changed = {i for i in after if after[i] != before[i]}
        stale = {i for i in changed if not whole and after[i][0] not in scopes}
        assert not stale, f"{op} changed entries {sorted(stale)} but bumped only providers {sorted(scopes)}"
        if changed and not whole:
            by_scope.append(op)
    return by_scope


def test_a_commit_bumps_the_providers_whose_entries_it_changes(db, dataset):
    steps = [("insurance", 0, "expired"), ("adverse_elsewhere", 0, "criminal"), ("recheck", 1), ("adverse", 1),
             *SCRIPT]
    by_scope = _scopes_cover(db, dataset, steps)
    # not vacuous: changes were covered by a provider's scope alone (no bump of every entry)
    assert {op[0] for op in by_scope} >= {"insurance", "adverse_elsewhere"}, by_scope


@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(operation, min_size=1, max_size=5))
def test_random_histories_bump_the_providers_they_change(db, dataset, steps):
    example = db.session.begin_nested()
    try:
        _scopes_cover(db, dataset, steps)
    finally:
        example.rollback()
        db.session.expire_all()
        at(START)


def test_the_catalog_items_own_part_reads_only_item_tables(db, dataset):
    """What the cached own part of a catalog item (catalog.catalog_items) reads is watched for "catalog_item"."""
    from registry.orders import schemas
    at(START)
    with reads(db) as seen:
        db.session.expire_all()
        found = catalog._entries(dataset["entries"])
        for entry in found.values():
            schemas.CATALOG_ITEM_OWN.dump(catalog.CatalogRow(entry, None))
    assert {"whitelist_entry", "provider", "project", "entry_county"} <= seen
    scoped = {table for table, names in cache._SCOPED.items() if "catalog_item" in names}
    assert set(catalog.ITEM_TABLES) == scoped
    assert not _missing(seen, scoped), f"the own part reads {_missing(seen, scoped)}, not watched for 'catalog_item'"

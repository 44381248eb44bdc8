"""The catalog a school orders from (白名单点单): whitelist entries it can order today.

An entry is listed when eligibility.evaluate(entries, today, school) holds: active today (status and
dates), region covers the school's county, stage fits the school, provider not banned, required
documents in force and at least one cleared person. SQL narrows the candidates (in force, the school's
city, and by default active + county + stage) and reads only their ids, sort keys and whether they cover
the school's county. Their eligibility without the school's part comes from
eligibility.evaluate_for_listing (shared by all schools through the cache, computed in bulk where it
misses); the school's part is added here. Only the page's entries are then loaded whole. The number of
statements does not depend on how many entries there are. Sorting and paging happen after the
eligibility filter, so a page never comes out short.

With `show=all` the school also sees the entries of its city it cannot order, each with the Chinese
reasons why.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from registry.batches.models import ReleaseBatch
from registry.core import cache, clock, signals
from registry.core.errors import NotFound
from registry.core.pagination import Page
from registry.extensions import db
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.whitelist import eligibility, queries
from registry.whitelist.models import EntryCounty, WhitelistEntry

SORTS = {  # keys on the rows of _candidates()
    "provider": ("机构名称", lambda c: (c.provider_name, c.title, c.id)),
    "title": ("项目名称", lambda c: (c.title, c.provider_name, c.id)),
    "price": ("价格从低到高", lambda c: (c.price, c.title, c.id)),
    "-price": ("价格从高到低", lambda c: (-c.price, c.title, c.id)),
}
SORT_CHOICES = [(key, label) for key, (label, _key) in SORTS.items()]

# A catalog page depends on the school only through its city, county and type (cache_key), so the schools
# of one county and type share the cached JSON page. Any commit that writes what eligibility reads, or what
# the page shows (counties, batches, region names), makes it a miss.
cache.watch("catalog", *eligibility.ELIGIBILITY_TABLES, "entry_county", "release_batch", "region")
cache.watch("catalog", "project_standing", "term")  # issue 16: each project's last standing (quality)

# An entry's own part of a catalog item (provider, project, batch, counties: what every school sees alike) is
# cached per entry and day under its provider's scope (issue 20), so a page built again after a commit loads
# and dumps only the entries of the providers the commit touched. ITEM_TABLES: what that part reads.
ITEM_TABLES = ("whitelist_entry", "provider", "project", "entry_county", "release_batch", "region")
cache.watch_scoped("catalog_item", {
    "whitelist_entry": cache.by_column("provider_id"), "provider": cache.by_column("id"),
    "project": cache.by_column("provider_id"),
    "entry_county": lambda session, rows: (None if (ids := cache.row_values(rows, "entry_id")) is None else
                                           eligibility.providers_of(session, WhitelistEntry.__table__.c.id, ids)),
    "release_batch": cache.every, "region": cache.every,   # a batch or a region's name: shared by many providers
})


def cache_key(school, filters):
    """What a catalog page is a function of, besides the day and the data: the school's city, county and
    type, and the arguments."""
    return {"city": school.city_id, "county": school.county_id, "type": school.school_type.value, **filters}


@dataclass
class CatalogRow:
    entry: WhitelistEntry
    result: eligibility.Eligibility
    standing: object = None     # issue 16: the project's last standing (signals.standings_of), or None

    @property
    def ok(self):
        return self.result.ok

    @property
    def reasons(self):
        return self.result.reasons

    @property
    def cleared_count(self):
        return self.result.cleared_count


@dataclass
class Catalog:
    page: Page
    providers: list                 # [(id, name)] of the candidates, for the provider filter
    hidden: int = 0                 # candidates left out because they cannot be ordered (show=eligible)
    day: date = field(default_factory=clock.today)


def _stmt(school, filters, day, show_all):
    stmt = queries.entries_stmt({k: filters.get(k) for k in ("category", "stage", "level", "q")}, day)
    stmt = stmt.where(WhitelistEntry.city_id == school.city_id)
    if not show_all:
        # What SQL can decide cheaply; the eligibility decides it again. A suspension whose lift date has
        # passed no longer holds, though the sweep has not recorded the lift yet.
        stmt = stmt.where(~queries.suspended_on(day),
                          Project.stages_mask.bitwise_and(school.stage_mask) != 0,
                          exists().where(EntryCounty.entry_id == WhitelistEntry.id,
                                         EntryCounty.county_id == school.county_id))
    if filters.get("max_price") is not None:
        stmt = stmt.where(Project.price <= filters["max_price"])
    return stmt


def _candidates(school, filters, day, show_all):
    """The candidates as plain rows: id, provider, sort keys, and the facts of the school's part."""
    covers = exists().where(EntryCounty.entry_id == WhitelistEntry.id, EntryCounty.county_id == school.county_id)
    stmt = (_stmt(school, filters, day, show_all).order_by(None).options(lazyload("*"))
            .with_only_columns(WhitelistEntry.id, WhitelistEntry.provider_id, Provider.name.label("provider_name"),
                               Project.title, Project.price, Project.stages_mask, covers.label("covers")))
    return db.session.execute(stmt).all()


def _count_all(school, filters, day):
    """How many entries show=all would list (one COUNT), to tell the school how many it cannot order."""
    stmt = _stmt(school, filters, day, show_all=True).order_by(None).options(lazyload("*"))
    if filters.get("provider_id"):
        stmt = stmt.where(WhitelistEntry.provider_id == filters["provider_id"])
    return db.session.scalar(select(func.count()).select_from(stmt.with_only_columns(WhitelistEntry.id).subquery()))


def _entries(ids):
    """The entries of a page, whole, with what the catalog shows (two statements for any number)."""
    entries = db.session.scalars(
        select(WhitelistEntry).where(WhitelistEntry.id.in_(ids))
        .options(joinedload(WhitelistEntry.provider).joinedload(Provider.county),
                 joinedload(WhitelistEntry.project),
                 joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city),
                 selectinload(WhitelistEntry.counties))).unique().all()
    return {entry.id: entry for entry in entries}


def _with_school(result, school, candidate):
    problems = eligibility.school_problems(school, candidate.covers, candidate.stages_mask)
    if not problems:
        return result
    reasons = result.reasons + [reason for reason, _cause in problems]
    return eligibility.Eligibility(False, reasons, result.cleared_staff, result.causes | {c for _r, c in problems},
                                   result.cleared_count)


def _page_rows(school, filters, day, page, per_page):
    """(the page's [(candidate, eligibility for the school)], how many rows in all, the providers, hidden)."""
    show_all = filters.get("show") == "all"
    candidates = _candidates(school, filters, day, show_all)
    providers = sorted({(c.provider_id, c.provider_name) for c in candidates}, key=lambda p: (p[1], p[0]))
    if filters.get("provider_id"):
        candidates = [c for c in candidates if c.provider_id == filters["provider_id"]]
    results = eligibility.evaluate_for_listing({c.id: c.provider_id for c in candidates}, day)
    rows = [(c, _with_school(results[c.id], school, c)) for c in candidates if c.id in results]
    orderable = [row for row in rows if row[1].ok]
    if show_all:
        hidden = len(rows) - len(orderable)
    else:
        rows = orderable
        hidden = _count_all(school, filters, day) - len(orderable)
    sort_key = SORTS.get(filters.get("sort") or "provider", SORTS["provider"])[1]
    rows.sort(key=lambda row: sort_key(row[0]))
    if show_all:
        rows.sort(key=lambda row: not row[1].ok)  # stable: orderable first, each group in the chosen order
    start = (page - 1) * per_page
    return rows[start:start + per_page], len(rows), providers, hidden


def catalog(school, filters, day=None, page=1, per_page=20):
    day = day or clock.today()
    shown, total, providers, hidden = _page_rows(school, filters, day, page, per_page)
    entries = _entries([c.id for c, _result in shown]) if shown else {}
    standings = signals.standings_of([entries[c.id].project_id for c, _result in shown], day) if shown else {}
    items = [CatalogRow(entries[c.id], result, standings.get(entries[c.id].project_id)) for c, result in shown]
    return Catalog(Page(items, page, per_page, total), providers, hidden, day)


def catalog_items(school, filters, dump, day=None, page=1, per_page=20, dump_standing=None):
    """The same page as catalog(), as plain items for the JSON API: (Page of item dicts, hidden). Each
    entry's own part is dump(CatalogRow(entry, None)), taken from the cache "catalog_item" where it holds
    it; the school's part (orderable, reasons, cleared_staff) and the project's last standing (issue 16, not
    cached: the term-end step records it) are added to it."""
    day = day or clock.today()
    shown, total, _providers, hidden = _page_rows(school, filters, day, page, per_page)

    def build(missing):
        entries = _entries([int(key) for key in missing])
        return {key: dump(CatalogRow(entries[int(key)], None)) for key in missing}

    own = cache.cached_scoped_values("catalog_item", day, {str(c.id): c.provider_id for c, _r in shown}, build)
    projects = {c.id: own[str(c.id)]["project"]["id"] for c, _r in shown}
    standings = signals.standings_of(list(projects.values()), day) if shown else {}
    items = [{**own[str(c.id)], "orderable": result.ok, "reasons": result.reasons,
              "cleared_staff": result.cleared_count,
              "standing": (dump_standing(standings[projects[c.id]]) if dump_standing and projects[c.id] in standings
                           else None)} for c, result in shown]
    return Page(items, page, per_page, total), hidden


def catalog_entry(school, entry_id, day=None):
    """One entry of the school's city with its eligibility for the school (a project page), or NotFound:
    the cached eligibility of the entry (evaluate_for_listing, as on the catalog) and the school's part.
    Ordering checks the records again (evaluate_one)."""
    day = day or clock.today()
    entry = db.session.scalar(
        select(WhitelistEntry).where(WhitelistEntry.id == entry_id, WhitelistEntry.city_id == school.city_id)
        .options(joinedload(WhitelistEntry.provider).joinedload(Provider.county),
                 joinedload(WhitelistEntry.project),
                 joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city),
                 selectinload(WhitelistEntry.counties)))
    if entry is None:
        raise NotFound("白名单项目不存在")
    result = eligibility.evaluate_for_listing({entry.id: entry.provider_id}, day)[entry.id]
    covers = school.county_id in {c.county_id for c in entry.counties}
    return CatalogRow(entry, _with_school(result, school, _Facts(covers, entry.project.stages_mask)),
                      signals.standings_of([entry.project_id], day).get(entry.project_id))


@dataclass
class _Facts:
    """The school's part of a candidate row (_candidates), for one entry."""
    covers: bool
    stages_mask: int

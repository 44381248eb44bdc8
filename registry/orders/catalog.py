"""The catalog a school orders from (白名单点单): whitelist entries it can order today.

An entry is listed when eligibility.evaluate(entries, today, school) holds: active today (status and
dates), region covers the school's county, stage fits the school, provider not banned, required
documents in force and at least one cleared person. SQL narrows the candidates (in force, the school's
city, and by default active + county + stage); the rest is computed in bulk for all candidates at
once, so the number of statements does not depend on how many entries there are. Sorting and
paging happen after the eligibility filter, so a page never comes out short.

With `show=all` the school also sees the entries of its city it cannot order, each with the Chinese
reasons why.
"""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from registry.core import clock
from registry.core.errors import NotFound
from registry.core.pagination import Page
from registry.extensions import db
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.whitelist import eligibility, queries
from registry.whitelist.models import EntryCounty, EntryStatus, ReleaseBatch, WhitelistEntry

SORTS = {
    "provider": ("机构名称", lambda r: (r.entry.provider.name, r.entry.project.title, r.entry.id)),
    "title": ("项目名称", lambda r: (r.entry.project.title, r.entry.provider.name, r.entry.id)),
    "price": ("价格从低到高", lambda r: (r.entry.project.price, r.entry.project.title, r.entry.id)),
    "-price": ("价格从高到低", lambda r: (-r.entry.project.price, r.entry.project.title, r.entry.id)),
}
SORT_CHOICES = [(key, label) for key, (label, _key) in SORTS.items()]


@dataclass
class CatalogRow:
    entry: WhitelistEntry
    result: eligibility.Eligibility

    @property
    def ok(self):
        return self.result.ok

    @property
    def reasons(self):
        return self.result.reasons

    @property
    def cleared_count(self):
        return len(self.result.cleared_staff)


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
        # What SQL can decide cheaply; evaluate() decides the rest (and re-checks these).
        stmt = stmt.where(WhitelistEntry.status == EntryStatus.active,
                          Project.stages_mask.bitwise_and(school.stage_mask) != 0,
                          exists().where(EntryCounty.entry_id == WhitelistEntry.id,
                                         EntryCounty.county_id == school.county_id))
    if filters.get("max_price") is not None:
        stmt = stmt.where(Project.price <= filters["max_price"])
    return stmt


def _count_all(school, filters, day):
    """How many entries show=all would list (one COUNT), to tell the school how many it cannot order."""
    stmt = _stmt(school, filters, day, show_all=True).order_by(None).options(lazyload("*"))
    if filters.get("provider_id"):
        stmt = stmt.where(WhitelistEntry.provider_id == filters["provider_id"])
    return db.session.scalar(select(func.count()).select_from(stmt.with_only_columns(WhitelistEntry.id).subquery()))


def catalog(school, filters, day=None, page=1, per_page=20):
    day = day or clock.today()
    show_all = filters.get("show") == "all"
    entries = db.session.scalars(_stmt(school, filters, day, show_all)).unique().all()
    providers = sorted({(e.provider.id, e.provider.name) for e in entries}, key=lambda p: (p[1], p[0]))
    if filters.get("provider_id"):
        entries = [e for e in entries if e.provider_id == filters["provider_id"]]
    results = eligibility.evaluate(entries, day, school)
    rows = [CatalogRow(e, results[e.id]) for e in entries]
    orderable = [r for r in rows if r.ok]
    if show_all:
        hidden = len(rows) - len(orderable)
    else:
        rows = orderable
        hidden = _count_all(school, filters, day) - len(orderable)
    rows.sort(key=SORTS.get(filters.get("sort") or "provider", SORTS["provider"])[1])
    if show_all:
        rows.sort(key=lambda r: not r.ok)  # stable: orderable first, each group in the chosen order
    start = (page - 1) * per_page
    return Catalog(Page(rows[start:start + per_page], page, per_page, len(rows)), providers, hidden, day)


def catalog_entry(school, entry_id, day=None):
    """One entry of the school's city with its eligibility for the school (a project page), or NotFound."""
    day = day or clock.today()
    entry = db.session.scalar(
        select(WhitelistEntry).where(WhitelistEntry.id == entry_id, WhitelistEntry.city_id == school.city_id)
        .options(joinedload(WhitelistEntry.provider).joinedload(Provider.county),
                 joinedload(WhitelistEntry.project),
                 joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city),
                 selectinload(WhitelistEntry.counties)))
    if entry is None:
        raise NotFound("白名单项目不存在")
    return CatalogRow(entry, eligibility.evaluate_one(entry, day, school))

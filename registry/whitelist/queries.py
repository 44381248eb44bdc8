"""Public reads of the whitelist: entries in force, a provider's page, the change feed, batch announcements,
certificates and verification. Shared by the HTML pages, the JSON API, the exports and the PDFs.

What is "in force" is decided from the entry's status AND its dates on the day asked about
(WhitelistEntry.effective_status): an entry past valid_until drops out even if no nightly job ran.

Decision: the public list shows suspended (暂停) entries, marked with a badge. A suspension is
public information (it is in the change feed too); hiding the row would make a provider vanish
without explanation, and a school checking a provider it already works with must see why it cannot
order now. Delisted and expired entries are never in the list.

Every list loads its relations eagerly, so the number of SQL statements does not grow with the page size.
"""
import functools
from dataclasses import dataclass
from datetime import date

from flask import current_app, url_for
from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from registry.applications.models import Application, ApplicationProject
from registry.batches.models import BatchItem, ReleaseBatch
from registry.core import clock, signals
from registry.core.errors import NotFound
from registry.core.pagination import Page, count_of, paginate
from registry.extensions import db
from registry.policy import services as policy
from registry.projects.models import STAGE_BITS, Category, Project, Stage
from registry.providers.models import Provider
from registry.regions.models import Region, RegionLevel
from registry.whitelist import services
from registry.whitelist.models import (
    ENTRY_STATUS_LABELS,
    Certificate,
    ChangeFeedItem,
    ChangeKind,
    EntryCounty,
    EntryStatus,
    WhitelistEntry,
)

IN_FORCE = (EntryStatus.active, EntryStatus.suspended)


def in_force(day):
    """SQL condition: the entry is active or suspended and `day` lies within its validity."""
    return (WhitelistEntry.status.in_(IN_FORCE)) & (WhitelistEntry.valid_from <= day) & (
        WhitelistEntry.valid_until >= day)


def suspended_on(day):
    """SQL mirror of effective_status for entries in force: suspended, and any lift date not yet passed."""
    return (WhitelistEntry.status == EntryStatus.suspended) & (
        WhitelistEntry.suspended_until.is_(None) | (WhitelistEntry.suspended_until >= day))


def _region_id(code):
    return select(Region.id).where(Region.code == code).scalar_subquery()


# ---------------------------------------------------------------- the public list
#
# The list, its exports, its JSON and the school catalog share one filtered statement. It is built once
# per combination of filters present (its "shape") with bound parameters, so a request neither builds a
# statement nor computes SQLAlchemy's cache key, and the values travel as parameters at execution.
# The list reads the columns it shows as rows and turns them into small read-only objects (ListedEntry)
# with the attributes and methods of the models that the templates, schemas and exports use: building
# five mapped instances per row cost more than running the SQL (bench orm_vs_raw).

FILTERS = ("city", "county", "category", "stage", "level", "status", "q")
LIKE_ESCAPE = "/"
NO_MATCH = "~"  # a search value no category or credit code contains


def _shape(filters):
    """Which filters are present; the status filter's value is part of the shape (it changes the SQL)."""
    status = filters.get("status")
    return tuple(name for name in FILTERS if name != "status" and filters.get(name)) + (
        (f"status={status}",) if status in ("active", "suspended") else ())


def _parameters(filters, day):
    values = {"day": day or clock.today()}
    for name in ("city", "county", "category", "level"):
        if filters.get(name):
            values[name] = filters[name]
    if filters.get("stage"):
        values["stage_bit"] = STAGE_BITS[Stage(filters["stage"])]
    text = (filters.get("q") or "").strip()
    if text:
        escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace(
            "_", LIKE_ESCAPE + "_")
        values["q_like"], values["q_code"] = escaped, text.upper()
        # issue 19: 美 finds 美育（艺术）; part of a credit code (4 characters or more) finds its provider.
        values["q_categories"] = [c.value for c in Category if text in c.label] or [NO_MATCH]
        code = text.upper()
        values["q_code_part"] = escaped.upper() if len(code) >= 4 and code.isascii() and code.isalnum() else NO_MATCH
    return values


@functools.lru_cache(maxsize=256)
def _filtered(shape):
    """Entries in force on :day, filtered as `shape` says, with bound parameters for the values."""
    day = bindparam("day")
    stmt = (select(WhitelistEntry).join(WhitelistEntry.provider).join(WhitelistEntry.project)
            .where(in_force(day)))
    if "city" in shape:
        stmt = stmt.where(WhitelistEntry.city_id == _region_id(bindparam("city")))
    if "county" in shape:
        stmt = stmt.where(exists().where(EntryCounty.entry_id == WhitelistEntry.id,
                                         EntryCounty.county_id == _region_id(bindparam("county"))))
    if "category" in shape:
        stmt = stmt.where(Project.category == bindparam("category"))
    if "stage" in shape:
        stmt = stmt.where(Project.stages_mask.bitwise_and(bindparam("stage_bit")) != 0)
    if "level" in shape:
        stmt = stmt.where(Project.level == bindparam("level"))
    if "status=suspended" in shape:
        stmt = stmt.where(suspended_on(day))
    elif "status=active" in shape:
        stmt = stmt.where(~suspended_on(day))
    if "q" in shape:
        # LIKE '%…%' (not trigram or FTS indexes): 1- and 2-character Chinese queries must match.
        stmt = stmt.where(or_(Provider.name.icontains(bindparam("q_like"), escape=LIKE_ESCAPE),
                              Project.title.icontains(bindparam("q_like"), escape=LIKE_ESCAPE),
                              Provider.uscc == bindparam("q_code"),
                              Project.category.in_(bindparam("q_categories", expanding=True)),
                              Provider.uscc.contains(bindparam("q_code_part"), escape=LIKE_ESCAPE)))
    return stmt.order_by(Provider.name, Provider.id, Project.title, WhitelistEntry.id)


def entries_stmt(filters, day=None):
    """Entries in force on `day` (default today), filtered by city, county, category, stage, level, status
    and a search text, in the list's order: a statement with its values bound, to refine further."""
    return _filtered(_shape(filters)).params(_parameters(filters, day))


class _Listed:
    """A read-only row object. Its properties are the models' own, so labels are computed in one place."""
    __slots__ = ()


class ListedRegion(_Listed):
    __slots__ = ("id", "name", "code")


class ListedProvider(_Listed):
    __slots__ = ("id", "name", "uscc", "org_type", "county")
    org_type_label = Provider.org_type_label


class ListedProject(_Listed):
    __slots__ = ("id", "title", "category", "stages_mask", "level", "price", "minutes_per_session",
                 "sessions_per_term")
    stages, stage_labels = Project.stages, Project.stage_labels
    category_label, level_label = Project.category_label, Project.level_label


class ListedBatch(_Listed):
    __slots__ = ("id", "year", "seq", "issuer", "published_on", "city")
    name = ReleaseBatch.name


class ListedEntry(_Listed):
    __slots__ = ("id", "status", "valid_from", "valid_until", "suspended_until", "city_id", "provider", "project",
                 "batch", "listed_county_names", "satisfaction")
    effective_status = WhitelistEntry.effective_status

    def __repr__(self):
        return f"<ListedEntry {self.id} {self.status.value}>"


def _listed_columns(stmt):
    """`stmt` (entries joined to their provider and project) selecting the columns _listed() reads.
    (Aliasing a mapped class configures the mappers, which needs every model imported: call it lazily.)"""
    county, batch_city = aliased(Region), aliased(Region)
    return (stmt.with_only_columns(
        WhitelistEntry.id, WhitelistEntry.status, WhitelistEntry.valid_from, WhitelistEntry.valid_until,
        WhitelistEntry.suspended_until, WhitelistEntry.city_id,
        Provider.id, Provider.name, Provider.uscc, Provider.org_type, county.id, county.name, county.code,
        Project.id, Project.title, Project.category, Project.stages_mask, Project.level, Project.price,
        Project.minutes_per_session, Project.sessions_per_term,  # issue 15: the session next to the price
        ReleaseBatch.id, ReleaseBatch.year, ReleaseBatch.seq, ReleaseBatch.issuer, ReleaseBatch.published_on,
        batch_city.id, batch_city.name, batch_city.code)
        .join(county, county.id == Provider.county_id)
        .join(ReleaseBatch, ReleaseBatch.id == WhitelistEntry.batch_id)
        .join(batch_city, batch_city.id == ReleaseBatch.city_id))


@functools.lru_cache(maxsize=256)
def _listing(shape):
    """(count, rows, a page of rows) for the filters of `shape`; the page takes :limit and :offset."""
    filtered = _filtered(shape)
    rows = _listed_columns(filtered)
    return count_of(filtered), rows, rows.limit(bindparam("limit")).offset(bindparam("offset"))


def _listed(rows, counties=True):
    entries, regions = [], {}

    def region(id_, name, code):
        found = regions.get(id_)
        if found is None:
            found = regions[id_] = ListedRegion()
            found.id, found.name, found.code = id_, name, code
        return found

    for (entry_id, status, valid_from, valid_until, suspended_until, city_id, provider_id, provider_name, uscc,
         org_type, county_id, county_name, county_code, project_id, title, category, stages_mask, level, price,
         minutes, sessions, batch_id, year, seq, issuer, published_on, batch_city_id, batch_city_name,
         batch_city_code) in rows:
        e, p, j, b = ListedEntry(), ListedProvider(), ListedProject(), ListedBatch()
        e.id, e.status, e.valid_from, e.valid_until, e.suspended_until, e.city_id = (
            entry_id, status, valid_from, valid_until, suspended_until, city_id)
        p.id, p.name, p.uscc, p.org_type = provider_id, provider_name, uscc, org_type
        p.county = region(county_id, county_name, county_code)
        j.id, j.title, j.category, j.stages_mask, j.level, j.price = (
            project_id, title, category, stages_mask, level, price)
        j.minutes_per_session, j.sessions_per_term = minutes, sessions
        b.id, b.year, b.seq, b.issuer, b.published_on = batch_id, year, seq, issuer, published_on
        b.city = region(batch_city_id, batch_city_name, batch_city_code)
        e.provider, e.project, e.batch = p, j, b
        entries.append(e)
    return _with_county_names(entries) if counties else entries


def _with_county_names(entries):
    """Give each listed entry its county names, in region-code order, from one column query."""
    names = {e.id: [] for e in entries}
    if names:
        for entry_id, name in db.session.execute(
                select(EntryCounty.entry_id, Region.name).join(Region, Region.id == EntryCounty.county_id)
                .where(EntryCounty.entry_id.in_(list(names))).order_by(Region.code)):
            names[entry_id].append(name)
    for entry in entries:
        entry.listed_county_names = names[entry.id]
    return entries


def list_entries(filters, page=1, per_page=20, day=None):
    """A page of the public list (one count, one page, one statement for the counties)."""
    count, _rows, page_rows = _listing(_shape(filters))
    values = _parameters(filters, day)
    total = db.session.scalar(count, values)
    rows = db.session.execute(page_rows, {**values, "limit": per_page, "offset": (page - 1) * per_page})
    return Page(_with_satisfaction(_listed(rows)), page, per_page, total)


def all_entries(filters, day=None):
    """The whole filtered list (the exports)."""
    _count, rows, _page = _listing(_shape(filters))
    return _with_satisfaction(_listed(db.session.execute(rows, _parameters(filters, day)).all()))


def _with_satisfaction(entries):
    """issue 16: each entry's project's satisfaction rate (rate, responses) from its last standing with at least
    10 answers, else None (signals.public_satisfaction, one statement)."""
    rates = signals.public_satisfaction({e.project.id for e in entries})
    for entry in entries:
        entry.satisfaction = rates.get(entry.project.id)
    return entries


# ---------------------------------------------------------------- regions for the filter form

@dataclass
class RegionChoices:
    cities: list
    counties_by_city: dict


def region_choices():
    """Cities and their counties (one statement) for the filter selects."""
    rows = db.session.scalars(select(Region).where(Region.level.in_((RegionLevel.city, RegionLevel.county)))
                              .order_by(Region.code)).all()
    cities = [r for r in rows if r.level == RegionLevel.city]
    by_city = {c.id: [] for c in cities}
    for r in rows:
        if r.level == RegionLevel.county and r.parent_id in by_city:
            by_city[r.parent_id].append(r)
    return RegionChoices(cities, by_city)


# ---------------------------------------------------------------- provider page

def county_names(entry):
    """The counties an entry covers, in region-code order."""
    listed = getattr(entry, "listed_county_names", None)
    if listed is not None:
        return listed
    return [link.county.name for link in sorted(entry.counties, key=lambda link: link.county.code)]


def entry_view(entry, day):
    """An entry as the public sees it on `day` (for the JSON output; the status is the effective one)."""
    status = entry.effective_status(day)
    return {"project": entry.project, "counties": county_names(entry),
            "valid_from": entry.valid_from.isoformat(), "valid_until": entry.valid_until.isoformat(),
            "batch": entry.batch, "status": status.value, "status_label": ENTRY_STATUS_LABELS[status.value]}


@dataclass
class ProviderPage:
    provider: Provider
    current: list       # entries in force today (active or suspended)
    past: list          # delisted or expired entries
    certificate: Certificate | None
    day: date

    @property
    def counties(self):
        names = []
        for entry in self.current:
            names += [name for name in county_names(entry) if name not in names]
        return names

    @property
    def has_active(self):
        return any(e.effective_status(self.day) == EntryStatus.active for e in self.current)


def _provider_entries(provider_id):
    return db.session.scalars(
        select(WhitelistEntry).join(WhitelistEntry.project).where(WhitelistEntry.provider_id == provider_id)
        .options(contains_eager(WhitelistEntry.project),
                 joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city),
                 selectinload(WhitelistEntry.counties))
        .order_by(Project.title, WhitelistEntry.id)).unique().all()


def provider_page(provider_id, day=None):
    """A provider that has (or had) at least one whitelist entry; any other id is a 404."""
    day = day or clock.today()
    provider = db.session.scalar(select(Provider).where(Provider.id == provider_id)
                                 .options(joinedload(Provider.county)))
    entries = _provider_entries(provider_id) if provider is not None else []
    if not entries:
        raise NotFound("该机构不在白名单中")
    current = [e for e in entries if e.effective_status(day) in IN_FORCE]
    past = [e for e in entries if e.effective_status(day) not in IN_FORCE]
    certificate = db.session.scalar(select(Certificate).where(Certificate.provider_id == provider_id))
    return ProviderPage(provider, current, past, certificate, day)


# ---------------------------------------------------------------- change feed

def changes_stmt(filters):
    stmt = (select(ChangeFeedItem).join(ChangeFeedItem.entry).join(WhitelistEntry.provider)
            .join(WhitelistEntry.project)
            .options(contains_eager(ChangeFeedItem.entry).options(
                contains_eager(WhitelistEntry.provider), contains_eager(WhitelistEntry.project),
                joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city))))
    if filters.get("city"):
        stmt = stmt.where(ChangeFeedItem.city_id == _region_id(filters["city"]))
    if filters.get("kind"):
        stmt = stmt.where(ChangeFeedItem.kind == ChangeKind(filters["kind"]))
    return stmt.order_by(ChangeFeedItem.happened_on.desc(), ChangeFeedItem.id.desc())


def list_changes(filters, page=1, per_page=20):
    result = paginate(changes_stmt(filters), page, per_page)
    # issue 17: a delisting or suspension stands while the provider's appeal is pending, and the feed says so.
    pending = signals.appeal_pending({c.entry.provider_id for c in result.items
                                      if c.kind in (ChangeKind.delisted, ChangeKind.suspended)})
    for item in result.items:
        item.appeal_pending = item.entry.provider_id in pending and item.kind in (ChangeKind.delisted,
                                                                                   ChangeKind.suspended)
    return result


# ---------------------------------------------------------------- what a published batch granted (its announcement)

@dataclass
class AnnouncementRow:
    provider: Provider
    project: Project
    valid_from: date
    valid_until: date
    counties: list


def announcement_rows(batch):
    """What the batch published: each provider and project of the applications left in it after publicity,
    with the validity the batch granted."""
    links = db.session.execute(
        select(ApplicationProject, WhitelistEntry)
        .join(BatchItem, (BatchItem.application_id == ApplicationProject.application_id)
              & (BatchItem.batch_id == batch.id) & BatchItem.removed_at.is_(None))
        .join(Application, Application.id == ApplicationProject.application_id)
        .join(WhitelistEntry, (WhitelistEntry.provider_id == Application.provider_id)
              & (WhitelistEntry.project_id == ApplicationProject.project_id))
        .join(Provider, Provider.id == Application.provider_id)
        .join(Project, Project.id == ApplicationProject.project_id)
        .options(contains_eager(ApplicationProject.project),
                 contains_eager(WhitelistEntry.provider),
                 selectinload(WhitelistEntry.counties))
        .order_by(Provider.name, Provider.id, Project.title, Project.id)
    ).unique().all()
    rules = policy.for_city(batch.city)
    rows = []
    for link, entry in links:
        if entry.batch_id == batch.id:
            valid_from, valid_until = entry.valid_from, entry.valid_until
        else:  # renewed by a later batch since: show what this batch granted
            valid_from = max(entry.valid_from, batch.published_on)
            valid_until = services.school_year_end(batch.published_on, rules)
        rows.append(AnnouncementRow(entry.provider, link.project, valid_from, valid_until, county_names(entry)))
    return rows


# ---------------------------------------------------------------- certificates and verification

def certificate_for(provider_id):
    cert = db.session.scalar(select(Certificate).where(Certificate.provider_id == provider_id)
                             .options(joinedload(Certificate.batch).joinedload(ReleaseBatch.city)))
    if cert is None:
        raise NotFound("该机构没有准入证明")
    return cert


def verify_url(certificate):
    """The absolute URL the certificate's QR code encodes."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("whitelist.verify", token=certificate.token)


@dataclass
class Verification:
    provider: Provider
    status: str          # valid | suspended | delisted | expired
    label: str
    entries: list
    day: date

    def entry_status(self, entry):
        return entry.effective_status(self.day)


@functools.cache
def _verified():
    """Every entry of the provider behind the certificate with token :token, as listed rows."""
    return _listed_columns(select(WhitelistEntry).join(WhitelistEntry.provider).join(WhitelistEntry.project)
                           .join(Certificate, Certificate.provider_id == WhitelistEntry.provider_id)
                           .where(Certificate.token == bindparam("token")))


def verification(token, day=None, counties=False):
    """The live status behind a QR code in one statement: the provider's entries found through the
    certificate's token, as listed rows (ListedEntry); a second for the entries' counties when asked
    (the JSON answer has them)."""
    day = day or clock.today()
    entries = _listed(db.session.execute(_verified(), {"token": token}), counties=counties)
    # Publication makes a certificate together with entries, which are never deleted; without any, the
    # certificate (or a 404) says who it is for.
    provider = entries[0].provider if entries else services.certificate_by_token(token).provider
    status = services.entries_status(entries, day)
    entries = sorted(entries, key=lambda e: (e.project.title, e.id))
    return Verification(provider, status, services.VERIFY_LABELS[status], entries, day)

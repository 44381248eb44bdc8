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
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import contains_eager, joinedload, load_only, selectinload

from registry.core import clock
from registry.core.errors import NotFound
from registry.core.pagination import paginate
from registry.extensions import db
from registry.policy import services as policy
from registry.projects.models import STAGE_BITS, Project, Stage
from registry.providers.models import Provider
from registry.regions.models import Region, RegionLevel
from registry.whitelist import services
from registry.whitelist.models import (
    ENTRY_STATUS_LABELS, BatchItem, BatchStatus, Certificate, ChangeFeedItem, ChangeKind, EntryCounty, EntryStatus,
    ReleaseBatch, WhitelistEntry,
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


# The columns the list, its exports and its JSON show. The sort runs over every entry in force in the
# city, and carrying a project's description and syllabus through it made it several times slower.
LISTED_ENTRY = (WhitelistEntry.provider_id, WhitelistEntry.project_id, WhitelistEntry.city_id, WhitelistEntry.batch_id,
                WhitelistEntry.status, WhitelistEntry.valid_from, WhitelistEntry.valid_until,
                WhitelistEntry.suspended_until)
LISTED_PROVIDER = (Provider.name, Provider.uscc, Provider.org_type, Provider.county_id, Provider.city_id)
LISTED_PROJECT = (Project.title, Project.category, Project.stages_mask, Project.level, Project.price)
LISTED_BATCH = (ReleaseBatch.city_id, ReleaseBatch.year, ReleaseBatch.seq, ReleaseBatch.status, ReleaseBatch.issuer,
                ReleaseBatch.published_on)


@functools.cache
def _entry_options():
    """Built once: loader options are immutable, and building them cost as much as loading a page."""
    return (
        load_only(*LISTED_ENTRY),
        contains_eager(WhitelistEntry.provider).options(load_only(*LISTED_PROVIDER),
                                                        joinedload(Provider.county, innerjoin=True)),
        contains_eager(WhitelistEntry.project).load_only(*LISTED_PROJECT),
        joinedload(WhitelistEntry.batch, innerjoin=True).options(load_only(*LISTED_BATCH),
                                                                  joinedload(ReleaseBatch.city, innerjoin=True)),
    )


def _with_county_names(entries):
    """Give each listed entry its county names from one column query (building an EntryCounty and a Region
    object per link cost more than the rest of the page)."""
    names = {e.id: [] for e in entries}
    if names:
        for entry_id, name in db.session.execute(
                select(EntryCounty.entry_id, Region.name).join(Region, Region.id == EntryCounty.county_id)
                .where(EntryCounty.entry_id.in_(list(names))).order_by(Region.code)):
            names[entry_id].append(name)
    for entry in entries:
        entry.listed_county_names = names[entry.id]
    return entries


def entries_stmt(filters, day=None):
    """Entries in force on `day`, filtered by city, county, category, stage, level, status and a search text."""
    day = day or clock.today()
    stmt = (select(WhitelistEntry).join(WhitelistEntry.provider).join(WhitelistEntry.project)
            .where(in_force(day)).options(*_entry_options()))
    if filters.get("city"):
        stmt = stmt.where(WhitelistEntry.city_id == _region_id(filters["city"]))
    if filters.get("county"):
        stmt = stmt.where(exists().where(EntryCounty.entry_id == WhitelistEntry.id,
                                         EntryCounty.county_id == _region_id(filters["county"])))
    if filters.get("category"):
        stmt = stmt.where(Project.category == filters["category"])
    if filters.get("stage"):
        stmt = stmt.where(Project.stages_mask.bitwise_and(STAGE_BITS[Stage(filters["stage"])]) != 0)
    if filters.get("level"):
        stmt = stmt.where(Project.level == filters["level"])
    if filters.get("status") == "suspended":
        stmt = stmt.where(suspended_on(day))
    elif filters.get("status") == "active":
        stmt = stmt.where(~suspended_on(day))
    text = (filters.get("q") or "").strip()
    if text:
        # LIKE '%…%' (not trigram or FTS indexes): 1- and 2-character Chinese queries must match.
        stmt = stmt.where(or_(Provider.name.icontains(text, autoescape=True),
                              Project.title.icontains(text, autoescape=True),
                              Provider.uscc == text.upper()))
    return stmt.order_by(Provider.name, Provider.id, Project.title, WhitelistEntry.id)


def list_entries(filters, page=1, per_page=20, day=None):
    result = paginate(entries_stmt(filters, day), page, per_page)
    _with_county_names(result.items)
    return result


def all_entries(filters, day=None):
    return _with_county_names(db.session.scalars(entries_stmt(filters, day)).unique().all())


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
    return paginate(changes_stmt(filters), page, per_page)


# ---------------------------------------------------------------- published batches and their announcements

def recent_batches(city_code=None, limit=10):
    stmt = (select(ReleaseBatch).where(ReleaseBatch.status == BatchStatus.published)
            .options(joinedload(ReleaseBatch.city))
            .order_by(ReleaseBatch.published_on.desc(), ReleaseBatch.id.desc()).limit(limit))
    if city_code:
        stmt = stmt.where(ReleaseBatch.city_id == _region_id(city_code))
    return db.session.scalars(stmt).all()


def published_batch(batch_id):
    batch = db.session.scalar(select(ReleaseBatch).where(ReleaseBatch.id == batch_id)
                              .options(joinedload(ReleaseBatch.city)))
    if batch is None or batch.status != BatchStatus.published:
        raise NotFound("批次不存在或尚未发布")
    return batch


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
    from registry.applications.models import Application, ApplicationProject

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


def page_blocks(rows, first, per_page, closing=0):
    """Number the rows and cut them into page-sized blocks (the first page also carries the title).
    WeasyPrint lays out one small fixed-layout table per page far faster than one long table, and
    page-sized blocks let the PDF be rendered in parts (registry.core.pdf.render_paged_pdf).
    The last page also carries the closing text, which takes the room of `closing` rows: when the last
    block has no room left for it, its final rows move to a page of their own."""
    numbered = list(enumerate(rows, start=1))
    blocks = [numbered[:first]]
    blocks += [numbered[i:i + per_page] for i in range(first, len(numbered), per_page)]
    room = (first if len(blocks) == 1 else per_page) - closing
    if closing and len(blocks[-1]) > room:
        last = blocks.pop()
        blocks += [last[:room], last[room:]]
    return blocks


def grades(stages_mask):
    """Stages as a compact grade range for PDF tables: 1–3年级, 1–6年级, 4–9年级, 1–3、7–9年级 …"""
    spans, start, end = [], None, None
    for bit, (low, high) in ((1, (1, 3)), (2, (4, 6)), (4, (7, 9))):
        if stages_mask & bit:
            start, end = (low if start is None else start), high
        elif start is not None:
            spans.append((start, end))
            start = None
    if start is not None:
        spans.append((start, end))
    return "、".join(f"{a}–{b}" for a, b in spans) + "年级"


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


# What the page behind a QR code shows of each entry (made once: building loader options costs per request).
VERIFIED_ENTRY = (joinedload(WhitelistEntry.provider).joinedload(Provider.county),
                  joinedload(WhitelistEntry.project).load_only(*LISTED_PROJECT),
                  joinedload(WhitelistEntry.batch).load_only(*LISTED_BATCH))


def verification(token, day=None, counties=False):
    """The live status behind a QR code in one statement: the provider's entries found through the
    certificate's token, with the provider, projects and batches; a second for the entries' counties when
    asked (the JSON answer has them)."""
    day = day or clock.today()
    stmt = (select(WhitelistEntry).join(Certificate, Certificate.provider_id == WhitelistEntry.provider_id)
            .where(Certificate.token == token).options(*VERIFIED_ENTRY))
    if counties:
        stmt = stmt.options(selectinload(WhitelistEntry.counties))
    entries = db.session.scalars(stmt).all()
    # Publication makes a certificate together with entries, which are never deleted; without any, the
    # certificate (or a 404) says who it is for.
    provider = entries[0].provider if entries else services.certificate_by_token(token).provider
    status = services.entries_status(entries, day)
    entries = sorted(entries, key=lambda e: (e.project.title, e.id))
    return Verification(provider, status, services.VERIFY_LABELS[status], entries, day)

"""Is a whitelist entry in force and orderable on a day? Computed from records and the date,
in bulk (a fixed number of queries for any number of entries), so ordering, accepting and the
sweep agree and nothing waits for a nightly job."""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Integer, inspect, select
from sqlalchemy.orm import aliased, joinedload, subqueryload

from registry.core import bulk, cache, clock, signals
from registry.extensions import db
from registry.people import services as people
from registry.people.models import Person
from registry.policy import services as policy
from registry.policy.models import CityPolicy
from registry.projects.models import STAGE_LABELS, Project, ProjectStaff, mask_to_stages
from registry.providers.models import ProviderDocument
from registry.providers.services import ANY_REQUIRED_DOC_TYPES, document_checklist
from registry.whitelist.models import ENTRY_STATUS_LABELS, EntryStatus, WhitelistEntry

# What evaluate() reads, without the school's part: a commit that writes one of these tables makes the
# eligibility cached for lists (evaluate_for_listing) of the providers its rows belong to a miss (below).
ELIGIBILITY_TABLES = ("whitelist_entry", "provider", "provider_document", "provider_action", "project",
                      "project_staff", "person", "person_check", "qualification", "person_ban", "city_policy")


# ---------------------------------------------------------------- which providers a commit's rows touch
# The eligibility of an entry is cached per entry and day under its provider's scope (cache.watch_scoped):
# everything evaluate() reads belongs to one provider, except the bans of a blind index (an adverse check or
# a ban of the same ID number at ANY provider bans the person everywhere) and the city rules. A resolver
# gets the rows a flush wrote and returns the provider ids whose entries they can change, or None (every
# entry: the rows cannot be placed). It reads the database on the flush's connection, not the session.

def providers_of(session, column, values):
    """The provider ids of the rows of `column`'s table whose `column` is in `values` (a resolver's read)."""
    return set(session.connection().scalars(select(column.table.c.provider_id).where(column.in_(values))))


def _project_staff(session, rows):
    ids = cache.row_values(rows, "project_id")
    return None if ids is None else providers_of(session, Project.__table__.c.id, ids)


def _provider(session, rows):
    if any(inspect(row).attrs.city_id.history.has_changes() for row in rows if not inspect(row).pending):
        return None   # the city decides the ban length of an adverse check, read for every provider's staff
    return cache.row_values(rows, "id")


def _sharing_an_id_number(session, bidx):
    """The providers with a person of these blind indexes: a ban or adverse check of one bans them all."""
    return set(session.connection().scalars(select(Person.__table__.c.provider_id)
                                            .where(Person.__table__.c.id_bidx.in_(bidx))))


def _person(session, rows):
    own, bidx = cache.row_values(rows, "provider_id"), cache.row_values(rows, "id_bidx")
    if own is None or bidx is None:
        return None
    return own | _sharing_an_id_number(session, bidx)


def _person_check(session, rows):
    ids = cache.row_values(rows, "person_id")
    if ids is None:
        return None
    this, other = aliased(Person.__table__), aliased(Person.__table__)
    return set(session.connection().scalars(select(other.c.provider_id).join(this, this.c.id_bidx == other.c.id_bidx)
                                            .where(this.c.id.in_(ids))))


def _person_ban(session, rows):
    bidx = cache.row_values(rows, "id_bidx")
    return None if bidx is None else _sharing_an_id_number(session, bidx)


def _qualification(session, rows):
    ids = cache.row_values(rows, "person_id")
    return None if ids is None else providers_of(session, Person.__table__.c.id, ids)


SCOPE_RESOLVERS = {
    "whitelist_entry": cache.by_column("provider_id"), "provider": _provider,
    "provider_document": cache.by_column("provider_id"), "provider_action": cache.by_column("provider_id"),
    "project": cache.by_column("provider_id"), "project_staff": _project_staff, "person": _person,
    "person_check": _person_check, "qualification": _qualification, "person_ban": _person_ban,
    "city_policy": cache.every,   # a city's rules: every entry
}
assert set(SCOPE_RESOLVERS) == set(ELIGIBILITY_TABLES)
cache.watch_scoped("eligibility", SCOPE_RESOLVERS)


@dataclass
class Eligibility:
    ok: bool
    reasons: list = field(default_factory=list)
    cleared_staff: list = field(default_factory=list)
    causes: set = field(default_factory=set)  # machine-readable: status, provider_ban, document, staff, region, stage
    cleared_count: int | None = None  # len(cleared_staff), or the count a cached result kept

    def __post_init__(self):
        if self.cleared_count is None:
            self.cleared_count = len(self.cleared_staff)


def document_problems(provider, docs, day):
    """(document, Chinese reason) for each required document that is missing, rejected or expired on `day`."""
    return [(item.document, f"机构{item.problem}") for item in document_checklist(provider, day, documents=docs)
            if item.problem]


def required_documents_by_provider(provider_ids):
    """{provider id: [document]} of the current documents of the types some provider must hold, newest
    first, as rows of the columns the required-document rule reads (bulk callers read tens of thousands:
    mapped instances, each with its joined file, cost more than the query). `provider_ids` may be a
    collection or a subquery."""
    docs = defaultdict(list)
    for doc in db.session.execute(select(
            ProviderDocument.id, ProviderDocument.provider_id, ProviderDocument.doc_type, ProviderDocument.number,
            ProviderDocument.verification_status, ProviderDocument.issue_date, ProviderDocument.expiry_date)
            .where(ProviderDocument.provider_id.in_(provider_ids), ProviderDocument.superseded_at.is_(None),
                   ProviderDocument.doc_type.in_(ANY_REQUIRED_DOC_TYPES))
            .order_by(ProviderDocument.id.desc())):
        docs[doc.provider_id].append(doc)
    return docs


def _load(entries, day):
    """Everything evaluate() reads, in a fixed number of statements whatever the number of entries (the
    id lists travel as one JSON parameter, and collections load by subquery rather than in chunks)."""
    provider_ids = {e.provider_id for e in entries}
    project_ids = bulk.json_rows([("id", Integer())], [(i,) for i in {e.project_id for e in entries}])
    docs = required_documents_by_provider(provider_ids)
    bans = signals.bans_in_force(provider_ids, day)
    staff = defaultdict(list)
    links = db.session.scalars(select(ProjectStaff).where(ProjectStaff.project_id.in_(select(project_ids.c.c0)))
                               .options(joinedload(ProjectStaff.person).options(
                                   subqueryload(Person.checks), subqueryload(Person.qualifications)))).unique().all()
    for link in links:
        staff[link.project_id].append(link.person)
    person_bans = people.bans_by_index({p.id_bidx for persons in staff.values() for p in persons}, day)
    city_ids = {e.city_id for e in entries}
    rules = {row.city_id: row for row in db.session.scalars(select(CityPolicy).where(CityPolicy.city_id.in_(city_ids)))}
    return docs, bans, staff, person_bans, rules


def evaluate(entries, day, school=None):
    """{entry_id: Eligibility} for ordering on `day` (and for `school` when given)."""
    entries = list(entries)
    if not entries:
        return {}
    docs, bans, staff, person_bans, rules = _load(entries, day)
    default_rules = policy.defaults()
    result = {}
    for entry in entries:
        reasons, causes = [], set()
        status = entry.effective_status(day)
        if status == EntryStatus.expired:
            ended = entry.valid_until < clock.today()
            reasons.append(f"白名单条目{'已于' if ended else '将于'}{entry.valid_until.isoformat()}到期")
            causes.add("status")
        elif status != EntryStatus.active:
            reasons.append(f"白名单条目状态为“{ENTRY_STATUS_LABELS[status.value]}”"
                           + (f"（原因：{entry.status_reason}）" if entry.status_reason else ""))
            causes.add("status")
        ban = bans.get(entry.provider_id)
        if ban is not None:
            reasons.append("机构处于禁入期" + (f"，至{ban.ends_on.isoformat()}" if ban.ends_on else ""))
            causes.add("provider_ban")
        for _doc, text in document_problems(entry.provider, docs.get(entry.provider_id, []), day):
            reasons.append(text)
            causes.add("document")
        city_rules = rules.get(entry.city_id) or default_rules
        cleared, first_problem = [], None
        for person in staff.get(entry.project_id, []):
            if person.archived_at is not None:
                continue
            check = people.clearance(person, day, entry.project.required_qualification,
                                     bans=person_bans.get(person.id_bidx, []), rules=city_rules)
            if check.cleared:
                cleared.append(person)
            elif first_problem is None:
                first_problem = f"{person.name}：{check.reasons[0]}"
        if not cleared:
            reasons.append("项目暂无准入合格的授课人员" + (f"（{first_problem}）" if first_problem else ""))
            causes.add("staff")
        if school is not None:
            covers = school.county_id in {c.county_id for c in entry.counties}
            for reason, cause in school_problems(school, covers, entry.project.stages_mask):
                reasons.append(reason)
                causes.add(cause)
        result[entry.id] = Eligibility(not reasons, reasons, cleared, causes)
    return result


def school_problems(school, covers, stages_mask):
    """The school's part: [(Chinese reason, cause)] when the entry's counties do not cover the school's
    county (`covers` false) or the project's stages miss the school's."""
    problems = []
    if not covers:
        problems.append((f"该项目的服务区域不包括{school.county.name}", "region"))
    if not stages_mask & school.stage_mask:
        labels = "、".join(STAGE_LABELS[s] for s in mask_to_stages(stages_mask))
        problems.append((f"项目适用学段为{labels}，与{school.type_label}不符", "stage"))
    return problems


def evaluate_one(entry, day, school=None):
    return evaluate([entry], day, school)[entry.id]


def evaluate_for_listing(entry_ids, day):
    """{entry_id: Eligibility} without a school's part, for pages that show entries (the school's catalog
    and its project page). `entry_ids`: {entry id: provider id}, or ids (their providers are read).
    Results are shared between requests and instances through the cache, per entry and day, under the
    scope of the entry's provider (SCOPE_RESOLVERS: a commit makes a miss only of the entries of the
    providers its rows touch); what the cache does not hold is computed by evaluate() in bulk and stored.
    cleared_staff is empty; cleared_count holds the number. Ordering and accepting never use this: they
    call evaluate_one() on the records themselves."""
    if not isinstance(entry_ids, dict):
        ids = list(entry_ids)
        entry_ids = dict(db.session.execute(select(WhitelistEntry.id, WhitelistEntry.provider_id)
                                            .where(WhitelistEntry.id.in_(ids))).all()) if ids else {}

    def build(missing):
        entries = db.session.scalars(select(WhitelistEntry).where(WhitelistEntry.id.in_([int(k) for k in missing]))
                                     .options(joinedload(WhitelistEntry.provider), joinedload(WhitelistEntry.project))
                                     ).all()
        return {str(entry_id): {"ok": r.ok, "reasons": r.reasons, "causes": sorted(r.causes),
                                "cleared": len(r.cleared_staff)}
                for entry_id, r in evaluate(entries, day).items()}

    values = cache.cached_scoped_values("eligibility", day,
                                        {str(entry_id): provider for entry_id, provider in entry_ids.items()}, build)
    return {int(key): Eligibility(v["ok"], v["reasons"], [], set(v["causes"]), v["cleared"])
            for key, v in values.items()}

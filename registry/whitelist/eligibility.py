"""Is a whitelist entry in force and orderable on a day? Computed from records and the date,
in bulk (a fixed number of queries for any number of entries), so ordering, accepting and the
sweep agree and nothing waits for a nightly job."""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Integer, select
from sqlalchemy.orm import joinedload, subqueryload

from registry.core import bulk, cache, signals
from registry.extensions import db
from registry.people import services as people
from registry.people.models import Person
from registry.policy import services as policy
from registry.policy.models import CityPolicy
from registry.projects.models import STAGE_LABELS, ProjectStaff, mask_to_stages
from registry.providers.models import ProviderDocument
from registry.providers.services import ANY_REQUIRED_DOC_TYPES, document_checklist
from registry.whitelist.models import ENTRY_STATUS_LABELS, EntryStatus, WhitelistEntry

# What evaluate() reads, without the school's part: a commit that writes one of these tables makes every
# eligibility cached for lists (evaluate_for_listing) a miss.
ELIGIBILITY_TABLES = ("whitelist_entry", "provider", "provider_document", "provider_action", "project",
                      "project_staff", "person", "person_check", "qualification", "person_ban", "city_policy")
cache.watch("eligibility", *ELIGIBILITY_TABLES)


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
            reasons.append(f"白名单条目已于{entry.valid_until.isoformat()}到期")
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
    """{entry_id: Eligibility} without a school's part, for pages that list many entries (the school's
    catalog). Results are shared between requests and instances through the cache (generation
    "eligibility", see ELIGIBILITY_TABLES; the day is part of the key); what the cache does not hold is
    computed by evaluate() in bulk and stored. cleared_staff is empty; cleared_count holds the number.
    Ordering and accepting never use this: they call evaluate_one() on the records themselves."""
    def build(missing):
        entries = db.session.scalars(select(WhitelistEntry).where(WhitelistEntry.id.in_([int(k) for k in missing]))
                                     .options(joinedload(WhitelistEntry.provider), joinedload(WhitelistEntry.project))
                                     ).all()
        return {str(entry_id): {"ok": r.ok, "reasons": r.reasons, "causes": sorted(r.causes),
                                "cleared": len(r.cleared_staff)}
                for entry_id, r in evaluate(entries, day).items()}

    values = cache.cached_values("eligibility", day, [str(entry_id) for entry_id in entry_ids], build)
    return {int(key): Eligibility(v["ok"], v["reasons"], [], set(v["causes"]), v["cleared"])
            for key, v in values.items()}

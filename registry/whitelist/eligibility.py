"""Is a whitelist entry in force and orderable on a day? Computed from records and the date,
in bulk (a fixed number of queries for any number of entries), so ordering, accepting and the
sweep agree and nothing waits for a nightly job."""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.adjustments.models import ActionKind, ProviderAction
from registry.extensions import db
from registry.people import services as people
from registry.people.models import Person
from registry.policy.models import CityPolicy
from registry.policy import services as policy
from registry.projects.models import STAGE_LABELS, ProjectStaff, mask_to_stages
from registry.providers.models import ProviderDocument
from registry.whitelist.models import ENTRY_STATUS_LABELS, EntryStatus



@dataclass
class Eligibility:
    ok: bool
    reasons: list = field(default_factory=list)
    cleared_staff: list = field(default_factory=list)
    causes: set = field(default_factory=set)  # machine-readable: status, provider_ban, document, staff, region, stage


def document_problems(provider, docs, day):
    """(document, Chinese reason) for each required document that is missing, rejected or expired on `day`."""
    from registry.providers.services import document_checklist
    return [(item.document, f"机构{item.problem}") for item in document_checklist(provider, day, documents=docs)
            if item.problem]


def _load(entries, day):
    provider_ids = {e.provider_id for e in entries}
    project_ids = {e.project_id for e in entries}
    docs = defaultdict(list)
    for doc in db.session.scalars(select(ProviderDocument).where(
            ProviderDocument.provider_id.in_(provider_ids), ProviderDocument.superseded_at.is_(None))
            .order_by(ProviderDocument.id.desc())):
        docs[doc.provider_id].append(doc)
    bans = {}
    for action in db.session.scalars(select(ProviderAction).where(
            ProviderAction.provider_id.in_(provider_ids), ProviderAction.kind == ActionKind.ban,
            ProviderAction.lifted_at.is_(None), ProviderAction.effective_on <= day)):
        if action.ends_on is None or action.ends_on >= day:
            bans[action.provider_id] = action
    staff = defaultdict(list)
    links = db.session.scalars(select(ProjectStaff).where(ProjectStaff.project_id.in_(project_ids)).options(
        selectinload(ProjectStaff.person).selectinload(Person.checks),
        selectinload(ProjectStaff.person).selectinload(Person.qualifications),
        selectinload(ProjectStaff.person).selectinload(Person.provider))).all()
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
        city_rules = rules.get(entry.city_id) or policy.defaults()
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
            if school.county_id not in {c.county_id for c in entry.counties}:
                reasons.append(f"该项目的服务区域不包括{school.county.name}")
                causes.add("region")
            if not entry.project.stages_mask & school.stage_mask:
                labels = "、".join(STAGE_LABELS[s] for s in mask_to_stages(entry.project.stages_mask))
                reasons.append(f"项目适用学段为{labels}，与{school.type_label}不符")
                causes.add("stage")
        result[entry.id] = Eligibility(not reasons, reasons, cleared, causes)
    return result


def evaluate_one(entry, day, school=None):
    return evaluate([entry], day, school)[entry.id]

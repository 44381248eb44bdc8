"""Applications (申报): choose projects, see what is missing, submit a frozen snapshot, withdraw."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.applications.models import (
    KIND_LABELS,
    OPEN_STATUSES,
    STATUS_LABELS,
    Application,
    ApplicationComment,
    ApplicationKind,
    ApplicationProject,
    ApplicationSnapshot,
    ApplicationStatus,
)
from registry.audit import services as audit
from registry.core import clock, signals
from registry.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.core.lifecycle import Lifecycle, Move
from registry.extensions import db
from registry.people import services as people
from registry.people.models import (
    CHECK_TYPE_LABELS,
    GENDER_LABELS,
    QUALIFICATION_LABELS,
    STAFF_ROLE_LABELS,
    QualificationType,
)
from registry.policy import services as policy
from registry.projects.models import (
    CATEGORY_LABELS,
    LEVEL_LABELS,
    STAGE_LABELS,
    Category,
    Project,
    ProjectStaff,
    Stage,
)
from registry.projects.models import REVIEWED_LABELS as PROJECT_REVIEWED_LABELS
from registry.projects.services import subject_word
from registry.providers import services as providers
from registry.providers.models import DOC_TYPE_LABELS, ORG_TYPE_LABELS, OrgType
from registry.providers.models import REVIEWED_LABELS as PROVIDER_REVIEWED_LABELS

S = ApplicationStatus


def _provider_member(app, actor, **_):
    if actor is None or getattr(actor, "provider_id", None) != app.provider_id:
        raise NotAllowed("只有本机构账号可以执行该操作")


LIFECYCLE = Lifecycle(
    name="application",
    model=Application,
    labels=STATUS_LABELS,
    moves=[
        Move("submit", frozenset({S.draft}), S.submitted, _provider_member),
        Move("route_county", frozenset({S.submitted}), S.county_review),
        Move("route_city", frozenset({S.submitted}), S.city_review),
        Move("pass", frozenset({S.county_review}), S.city_review),
        Move("return", frozenset({S.county_review, S.city_review, S.publicity}), S.draft),
        Move("reject", frozenset({S.county_review, S.city_review, S.publicity}), S.rejected),
        Move("start_publicity", frozenset({S.city_review}), S.publicity),
        Move("approve", frozenset({S.publicity}), S.approved),
        Move("withdraw", frozenset({S.draft, S.submitted, S.county_review, S.city_review}), S.withdrawn,
             _provider_member),
        Move("reconsider", frozenset({S.rejected}), S.city_review),  # issue 17: an appeal overturns a rejection
    ],
)


def transition(app, action, **kwargs):
    return LIFECYCLE.transition(app, action, **kwargs)


# ---------------------------------------------------------------- reading

def get_application(application_id):
    app = db.session.get(Application, application_id)
    if app is None:
        raise NotFound("申报不存在")
    return app


def open_application(provider_id):
    return db.session.scalar(
        select(Application).where(Application.provider_id == provider_id, Application.status.in_(OPEN_STATUSES)))


def list_for_provider(provider_id):
    return db.session.scalars(
        select(Application).where(Application.provider_id == provider_id).order_by(Application.id.desc())).all()


# ---------------------------------------------------------------- drafting

# -------------------------------------------------------------- kinds: admission, annual review, change, reinstatement

@dataclass
class KindOption:
    kind: ApplicationKind
    label: str
    problem: str | None = None        # why this kind cannot be started now (None: it can)
    project_ids: set | None = None    # the projects this kind may carry (None: any of the provider's)
    hint: str = ""


class _EntryStatus:
    """The whitelist's entry statuses (registry.whitelist.models.EntryStatus, a str enum whose members equal
    these values): the whitelist sits above applications in the domain order."""
    active, suspended, delisted, expired = "active", "suspended", "delisted", "expired"


def kind_options(provider, day=None):
    """Which kinds of application the provider may start today, and why not the others (docs/domain.md
    "Whitelist entries", the entry lifecycle, and "a banned provider cannot apply until its ban ends")."""
    day = day or clock.today()
    K, E = ApplicationKind, _EntryStatus
    renewal_window = signals.renewal_window
    ban = signals.active_ban(provider.id, day)
    if ban is not None:
        until = f"至 {ban.ends_on.isoformat()}" if ban.ends_on else "（永久）"
        problem = f"本机构被禁入{until}，禁入期间不能提出任何申报"
        return [KindOption(k, KIND_LABELS[k], problem) for k in K]
    rules = policy.for_city(provider.city)
    entries = signals.entries_of(provider.id)
    state = {e.id: e.effective_status(day) for e in entries}
    in_force = [e for e in entries if state[e.id] in (E.active, E.suspended)]
    renewable = ([e for e in in_force if renewal_window(e, rules, day)[1]]
                 + [e for e in entries if state[e.id] == E.expired])
    active = [e for e in entries if state[e.id] == E.active]
    stopped = [e for e in entries if e.status in (E.delisted, E.suspended) and state[e.id] != E.expired]
    options = [KindOption(K.admission, KIND_LABELS[K.admission],
                          None if not entries else "本机构已列入过白名单，请按条目情况选择年审、变更或恢复申报",
                          hint="首次申请列入白名单")]
    if renewable:
        options.append(KindOption(K.annual, KIND_LABELS[K.annual], None, {e.project_id for e in renewable},
                                  hint="续期即将到期或已过期的白名单项目"))
    elif in_force:
        first = min(in_force, key=lambda e: renewal_window(e, rules, day)[0])
        opens = renewal_window(first, rules, day)[0]
        options.append(KindOption(K.annual, KIND_LABELS[K.annual],
                                  f"年审于 {opens.isoformat()} 起开放（有效期至 {first.valid_until.isoformat()}，"
                                  f"到期前 {rules.renewal_window_days} 天开放）"))
    else:
        options.append(KindOption(K.annual, KIND_LABELS[K.annual], "本机构没有可年审的白名单项目"))
    options.append(KindOption(K.change, KIND_LABELS[K.change],
                              None if active else "变更申报仅适用于白名单内有效的机构",
                              hint="新增服务项目或授课人员，或变更已列入项目的名称、类别、学段、收费、资质要求及机构名称、类型"
                                   "（经审核、公示并发布后生效）"))
    options.append(KindOption(K.reinstatement, KIND_LABELS[K.reinstatement],
                              None if stopped else "本机构没有被暂停或移出的白名单项目",
                              {e.project_id for e in stopped} if stopped else None,
                              hint="申请恢复被暂停或移出的白名单项目"))
    return options


def require_kind(provider, kind, project_ids, day=None):
    """Refuse a kind the provider may not use now (a ban: 403 with its end date), or projects it cannot carry."""
    kind = ApplicationKind(kind)
    option = next(o for o in kind_options(provider, day) if o.kind == kind)
    if option.problem:
        if option.problem.startswith("本机构被禁入"):
            raise NotAllowed(option.problem, code="banned")
        raise ValidationFailed({"kind": [option.problem]})
    if option.project_ids is not None:
        outside = [pid for pid in project_ids if pid not in option.project_ids]
        if outside:
            titles = "、".join(p.title for p in db.session.scalars(select(Project).where(Project.id.in_(outside))))
            what = "可年审（有效期即将届满或已过期）" if kind == ApplicationKind.annual else "被暂停或移出"
            raise ValidationFailed({"project_ids": [f"{option.label}申报只能选择{what}的白名单项目，"
                                                    f"以下项目不符合：{titles}"]})
    return option


def create_application(provider, *, actor, project_ids, kind=ApplicationKind.admission):
    if open_application(provider.id) is not None:
        raise Conflict("本机构已有一份未办结的申报，请先完成或撤回该申报", code="open_application_exists")
    try:
        kind = ApplicationKind(kind)
    except ValueError:
        raise ValidationFailed({"kind": ["申报类型应为准入、年审、变更或恢复之一"]}) from None
    require_kind(provider, kind, list(project_ids or []))
    app = Application(provider_id=provider.id, kind=ApplicationKind(kind), status=S.draft, version=1,
                      city_id=provider.city_id, county_id=provider.county_id, created_by_id=actor.id)
    db.session.add(app)
    _set_projects(app, provider, project_ids)
    db.session.flush()
    audit.record("application.create", object_type="application", object_id=app.id, actor=actor,
                 details={"kind": app.kind.value, "projects": sorted(project_ids)})
    return app


def _set_projects(app, provider, project_ids):
    ids = list(dict.fromkeys(project_ids or []))
    if not ids:
        raise ValidationFailed({"project_ids": ["请至少选择一个申报项目"]})
    rows = db.session.scalars(select(Project).where(Project.id.in_(ids))).all()
    if len(rows) != len(ids) or any(p.provider_id != provider.id or p.archived_at is not None for p in rows):
        raise ValidationFailed({"project_ids": ["只能选择本机构的项目"]})
    keep = {link.project_id: link for link in app.projects}  # re-inserting a kept project would break the unique key
    app.projects = [keep.get(p.id) or ApplicationProject(project=p) for p in rows]


def set_projects(app, *, actor, project_ids):
    _provider_member(app, actor)
    if app.status != S.draft:
        raise Conflict(f"当前状态为“{app.status_label}”，只有草稿可以修改申报项目", code="invalid_transition")
    require_kind(app.provider, app.kind, list(project_ids or []))
    _set_projects(app, app.provider, project_ids)
    db.session.flush()
    audit.record("application.set_projects", object_type="application", object_id=app.id, actor=actor,
                 details={"projects": sorted(project_ids)})


# ---------------------------------------------------------------- completeness

@dataclass
class Missing:
    area: str      # organisation | documents | people | projects
    key: str       # e.g. "doc:liability_insurance", "person:12", "project:3"
    message: str   # Chinese


def checklist(app, day=None):
    """Everything still missing before the application can be submitted (empty = ready). A returned
    application's items that reviewers flagged count as missing until they have changed (issue 19)."""
    day = day or clock.today()
    provider = app.provider
    rules = policy.for_city(provider.city)
    missing = [Missing(flag.area, flag.fix_key, f"审核员退回意见待处理（{flag.item}）：{flag.text}")
               for flag in flags(app, day) if not flag.changed]
    for item in providers.document_checklist(provider, day):
        if item.problem:
            missing.append(Missing("documents", f"doc:{item.doc_type.value}", item.problem))
    if not app.projects:
        missing.append(Missing("projects", "projects", "请至少选择一个申报项目"))
    seen_people = {}
    for link in app.projects:
        project = link.project
        key = f"project:{project.id}"
        proposed = project.reviewed_values(proposed=True)  # what the reviewers will review (pending changes)
        title, price = proposed["title"], Decimal(proposed["price"])
        qualification = QualificationType(proposed["required_qualification"])
        if price > rules.price_cap:
            missing.append(Missing("projects", key, f"项目“{title}”收费 {price} 元超过上限 {rules.price_cap} 元"))
        for text in (title, project.description, project.syllabus):
            word = subject_word(text)
            if word:
                missing.append(Missing("projects", key, f"项目“{title}”含有学科类内容“{word}”"))
                break
        if not project.staff:
            missing.append(Missing("projects", key, f"项目“{project.title}”尚未指派授课人员"))
        for assignment in project.staff:
            person = assignment.person
            pkey = f"person:{person.id}"
            if person.id not in seen_people:
                seen_people[person.id] = person
                if not people.has_consent(person):
                    missing.append(Missing("people", pkey, f"{person.name}：缺少本人签署的查询授权同意书"))
            result = people.clearance(person, day, qualification, rules=rules)
            for reason in result.reasons:
                missing.append(Missing("people", pkey, f"{person.name}（项目“{title}”）：{reason}"))
    return missing


# ---------------------------------------------------------------- a returned application's flagged items

@dataclass
class Flag:
    """One reviewer comment on an item of the returned submission, and whether the item changed since."""
    comment: object     # ApplicationComment
    key: str            # "organisation:contact", "doc:<document id>", "person:<id>", "project:<id>", "general"
    area: str           # organisation | documents | people | projects | general
    fix_key: str        # the checklist key of the item ("doc:<doc type>" for a document)
    item: str           # the item in words
    changed: bool       # a general comment needs no change

    @property
    def text(self):
        return self.comment.text


_FLAG_AREAS = {"doc": "documents", "person": "people", "project": "projects"}
_ORG_SOURCES = {"org_type": ("org_type",), "contact": ("contact_name", "contact_phone"),
                "registered": ("city", "county")}  # other organisation keys are their own snapshot field
_DAY_BOUND = ("cleared", "clearance_reasons")  # a person's clearance is the day's, not something they changed


def flags(app, day=None):
    """The comments of the last return with the state of their items: [Flag] (empty unless returned)."""
    if not app.returned or not app.snapshots:
        return []
    then = app.latest_snapshot
    comments = db.session.scalars(select(ApplicationComment).where(
        ApplicationComment.application_id == app.id, ApplicationComment.snapshot_number == then.number)
        .order_by(ApplicationComment.id)).all()
    if not comments:
        return []
    now = build_snapshot(app, day)
    return [_flag(c, then.data, now) for c in comments]


def _normal(value):
    """A snapshot item compared without the order of its lists of records (a person's checks load in any order)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if k not in _DAY_BOUND}
    if isinstance(value, list):
        items = [_normal(v) for v in value]
        if all(isinstance(v, dict) and "id" in v for v in items):
            items.sort(key=lambda v: v["id"])
        return items
    return value


def _by_id(items, ident):
    return next((item for item in items if str(item["id"]) == ident), None)


def _flag(comment, then, now):
    kind, ident = comment.item_type, comment.item_key
    if kind == "organisation":
        fields = _ORG_SOURCES.get(ident, (ident,))
        org_then, org_now = then["organisation"], now["organisation"]
        changed = any(_normal(org_then.get(f)) != _normal(org_now.get(f)) for f in fields)
        return Flag(comment, f"organisation:{ident}", "organisation", "organisation", "机构信息", changed)
    area = _FLAG_AREAS.get(kind)
    if area is None:
        return Flag(comment, "general", "general", "general", "总体意见", True)
    old = _by_id(then.get(area, []), ident) or {}
    if kind == "doc":
        doc_type = old.get("doc_type", "")
        new = next((d for d in now["documents"] if d["doc_type"] == doc_type), None)
        return Flag(comment, f"doc:{ident}", area, f"doc:{doc_type}", old.get("label", "资质材料"),
                    _normal(new) != _normal(old))
    new = _by_id(now.get(area, []), ident)
    changed = new is None or _normal(new) != _normal(old)
    if kind == "person":
        return Flag(comment, f"person:{ident}", area, f"person:{ident}", old.get("name", "从业人员"), changed)
    return Flag(comment, f"project:{ident}", area, f"project:{ident}", f"项目“{old.get('title', '')}”", changed)


# ---------------------------------------------------------------- submission

def _iso(value):
    return value.isoformat() if value is not None else None


def _project_words(key, value):
    """A reviewed project value as a reviewer reads it."""
    if key == "category":
        return CATEGORY_LABELS[Category(value)]
    if key == "stages":
        return "、".join(STAGE_LABELS[Stage(s)] for s in value)
    if key == "required_qualification":
        return QUALIFICATION_LABELS[QualificationType(value)]
    if key == "price":
        return f"{value} 元/人·课时"
    return value


def build_snapshot(app, day=None):
    """The frozen content reviewers review. Plain JSON; IDs only in masked form."""
    day = day or clock.today()
    provider = app.provider
    rules = policy.for_city(provider.city)
    documents = [{
        "id": d.id, "doc_type": d.doc_type.value, "label": DOC_TYPE_LABELS[d.doc_type], "title": d.title,
        "number": d.number, "issuer": d.issuer, "issue_date": _iso(d.issue_date), "expiry_date": _iso(d.expiry_date),
        "sha256": d.sha256, "file_id": d.file_id, "file_name": d.file.original_name,
        "verification_status": d.verification_status.value,
    } for d in providers.current_documents(provider.id)]
    projects, person_ids = [], []
    for link in app.projects:
        p = link.project
        staff_ids = [s.person_id for s in p.staff]
        person_ids.extend(i for i in staff_ids if i not in person_ids)
        # The reviewed fields as proposed (a listed project's pending changes); "published" keeps the values
        # they would replace, so reviewers see the change and publication applies exactly what they reviewed.
        v = p.reviewed_values(proposed=True)
        stages = [Stage(s) for s in v["stages"]]
        qualification = QualificationType(v["required_qualification"])
        item = {
            "id": p.id, "title": v["title"], "category": v["category"],
            "category_label": CATEGORY_LABELS[Category(v["category"])],
            "stages": v["stages"], "stage_labels": [STAGE_LABELS[s] for s in stages],
            "level": p.level.value, "level_label": LEVEL_LABELS[p.level], "description": p.description,
            "syllabus": p.syllabus, "sessions_per_term": p.sessions_per_term,
            "minutes_per_session": p.minutes_per_session, "class_min": p.class_min, "class_max": p.class_max,
            "price": v["price"], "venue_needs": p.venue_needs, "safety_measures": p.safety_measures,
            "required_qualification": v["required_qualification"],
            "required_qualification_label": QUALIFICATION_LABELS[qualification], "staff_ids": staff_ids,
        }
        published = p.reviewed_values()
        if published != v:
            item["published"] = {k: published[k] for k in v if published[k] != v[k]}
            item["changes"] = [{"field": k, "label": PROJECT_REVIEWED_LABELS[k],
                                "before": _project_words(k, published[k]), "after": _project_words(k, v[k])}
                               for k in item["published"]]
        projects.append(item)
    staff = []
    by_id = {p.id: p for p in people.list_people(provider.id, include_archived=True)}
    for pid in person_ids:
        person = by_id[pid]
        result = people.clearance(person, day, rules=rules)
        consent = max(person.consents, key=lambda c: (c.consent_date, c.id or 0)) if person.consents else None
        staff.append({
            "id": person.id, "name": person.name, "id_masked": person.id_masked,
            "gender": GENDER_LABELS[person.gender], "phone": person.phone,
            "staff_role": STAFF_ROLE_LABELS[person.staff_role], "specialties": person.specialties,
            "checks": [{
                "id": c.id, "check_type": c.check_type.value, "label": CHECK_TYPE_LABELS[c.check_type],
                "result": c.result.value, "check_date": _iso(c.check_date), "valid_until": _iso(c.valid_until),
                "authority": c.authority, "reference_no": c.reference_no, "file_id": c.file_id,
            } for c in person.checks],
            "qualifications": [{
                "id": q.id, "qual_type": q.qual_type.value, "label": QUALIFICATION_LABELS[q.qual_type],
                "name": q.name, "number": q.number, "issuer": q.issuer, "issue_date": _iso(q.issue_date),
                "expiry_date": _iso(q.expiry_date), "file_id": q.file_id,
            } for q in person.qualifications],
            "consent": {"date": _iso(consent.consent_date), "file_id": consent.file_id} if consent else None,
            "cleared": result.cleared, "clearance_reasons": result.reasons,
        })
    org = provider.reviewed_values(proposed=True)
    organisation = {
        "id": provider.id, "name": org["name"], "uscc": provider.uscc, "org_type": org["org_type"],
        "org_type_label": ORG_TYPE_LABELS[OrgType(org["org_type"])],
        "legal_representative": provider.legal_representative,
        "contact_name": provider.contact_name, "contact_phone": provider.contact_phone,
        "address": provider.address, "county": provider.county.name, "city": provider.city.name,
        "service_counties": [a.county.name for a in provider.service_areas], "description": provider.description,
    }
    if provider.reviewed_values() != org:
        organisation["published"] = {k: v for k, v in provider.reviewed_values().items() if org[k] != v}
        organisation["changes"] = [{"field": k, "label": PROVIDER_REVIEWED_LABELS[k],
                                    "before": ORG_TYPE_LABELS[OrgType(v)] if k == "org_type" else v,
                                    "after": ORG_TYPE_LABELS[OrgType(org[k])] if k == "org_type" else org[k]}
                                   for k, v in organisation["published"].items()]
    return {
        "organisation": organisation,
        "documents": documents,
        "people": staff,
        "projects": projects,
        "as_of": day.isoformat(),
    }


def submit(app, *, actor):
    """Freeze a snapshot and route the application to the first review stage of its city."""
    _provider_member(app, actor)
    if app.status != S.draft:
        raise Conflict(f"当前状态为“{app.status_label}”，不能提交", code="invalid_transition")
    # a ban or entries may have changed
    require_kind(app.provider, app.kind, [link.project_id for link in app.projects])
    missing = checklist(app)
    if missing:
        errors = {}
        for m in missing:  # several items can share a key (one person, several reasons): keep them all
            errors.setdefault(m.key, []).append(m.message)
        raise ValidationFailed(errors, message=f"申报材料不完整，还有 {len(missing)} 项未满足")
    number = len(app.snapshots) + 1
    snapshot = ApplicationSnapshot(application_id=app.id, number=number, data=build_snapshot(app),
                                   created_at=clock.utcnow(), submitted_by_id=actor.id)
    db.session.add(snapshot)
    app.submitted_at, app.submitted_by_id = clock.utcnow(), actor.id
    transition(app, "submit", actor=actor, details={"snapshot": number})
    county_stage = policy.for_city(app.provider.city).county_review_required
    transition(app, "route_county" if county_stage else "route_city", actor=None, rule="city_policy")
    db.session.refresh(app)
    return app


def withdraw(app, *, actor, reason=""):
    return transition(app, "withdraw", actor=actor, reason=reason or None)


def load_for_review(application_id):
    return db.session.scalar(
        select(Application).where(Application.id == application_id)
        .options(selectinload(Application.snapshots),
                 selectinload(Application.projects).selectinload(ApplicationProject.project)
                 .selectinload(Project.staff).selectinload(ProjectStaff.person))
    )

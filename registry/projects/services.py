"""Service projects (服务项目): non-academic content only, a public-welfare price, the provider's own staff."""
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.audit import services as audit
from registry.core import listing
from registry.core.errors import NotFound, ValidationFailed
from registry.extensions import db
from registry.people.models import Person, QualificationType
from registry.policy import services as policy
from registry.projects.models import (
    REVIEWED_FIELDS,
    Category,
    Level,
    Project,
    ProjectStaff,
    mask_to_stages,
    money,
    stages_to_mask,
)

# Words that plainly name a school subject lesson or exam tutoring (三(三): 严禁讲授新课或违规集体补课).
SUBJECT_WORDS = (
    "语文", "数学", "英语", "外语", "物理", "化学", "生物学", "政治", "历史课", "地理课", "道德与法治",
    "作文", "奥数", "奥赛", "奥林匹克数学", "新课", "补课", "提分", "培优", "刷题", "同步辅导", "学科辅导",
    "作业辅导", "应试", "中考", "小升初", "预习", "复习",
)
TEXT_FIELDS = {"title": "项目名称", "description": "项目简介", "syllabus": "教学大纲"}
FIELDS = ("title", "category", "stages", "level", "description", "syllabus", "sessions_per_term",
          "minutes_per_session", "class_min", "class_max", "price", "venue_needs", "safety_measures",
          "required_qualification")


def subject_word(text):
    for word in SUBJECT_WORDS:
        if word in (text or ""):
            return word
    return None


def _validate(provider, data):
    errors = {}
    for key, label in TEXT_FIELDS.items():
        word = subject_word(data.get(key))
        if word:
            errors.setdefault(key, []).append(
                f"{label}含有学科类内容“{word}”。第三方机构只能提供科普、体育、美育、劳动等非学科类项目，不得讲授新课或学科辅导")
    try:
        price = Decimal(str(data["price"])).quantize(Decimal("0.01"))
    except (InvalidOperation, KeyError, TypeError):
        errors.setdefault("price", []).append("收费标准应为金额，如 3.50")
        price = None
    if price is not None:
        cap = policy.for_city(provider.city).price_cap
        if price < 0:
            errors.setdefault("price", []).append("收费标准不能为负数")
        elif price > cap:
            errors.setdefault("price", []).append(
                f"收费标准 {price} 元/人·课时 超过本市公益性收费上限 {cap} 元/人·课时")
    if data["class_max"] < data["class_min"]:
        errors.setdefault("class_max", []).append("班额上限不能小于班额下限")
    if not data.get("stages"):
        errors.setdefault("stages", []).append("请至少选择一个学段")
    if errors:
        raise ValidationFailed(errors)
    return price


def _staff(provider, person_ids):
    ids = list(dict.fromkeys(person_ids or []))
    if not ids:
        return []
    people = db.session.scalars(select(Person).where(Person.id.in_(ids))).all()
    found = {p.id: p for p in people}
    for pid in ids:
        person = found.get(pid)
        if person is None or person.provider_id != provider.id or person.archived_at is not None:
            raise ValidationFailed({"staff_ids": ["只能指派本机构登记的在册人员"]})
    return [found[pid] for pid in ids]


def _apply(project, data, price):
    project.title = data["title"].strip()
    project.category = Category(data["category"])
    project.stages_mask = stages_to_mask(data["stages"])
    project.level = Level(data["level"])
    project.description = data["description"].strip()
    project.syllabus = (data.get("syllabus") or "").strip()
    project.sessions_per_term = data["sessions_per_term"]
    project.minutes_per_session = data["minutes_per_session"]
    project.class_min, project.class_max = data["class_min"], data["class_max"]
    project.price = price
    project.venue_needs = (data.get("venue_needs") or "").strip()
    project.safety_measures = data["safety_measures"].strip()
    project.required_qualification = QualificationType(data["required_qualification"])


def create_project(provider, *, actor, staff_ids=(), **data):
    price = _validate(provider, data)
    staff = _staff(provider, staff_ids)
    project = Project(provider_id=provider.id)
    _apply(project, data, price)
    project.staff = [ProjectStaff(person=p) for p in staff]
    db.session.add(project)
    db.session.flush()
    audit.record("project.create", object_type="project", object_id=project.id, actor=actor,
                 details={"provider_id": provider.id, "price": str(price)})
    return project


def _values(project):
    """Every editable field as plain JSON (for the audit row of an edit)."""
    values = {key: getattr(project, key) for key in FIELDS if key != "stages"}
    values.update(project.reviewed_values())
    return {k: getattr(v, "value", v) for k, v in values.items()}


def _proposed(data, price):
    """The reviewed fields of validated input, as snapshot values."""
    return {"title": data["title"].strip(), "category": Category(data["category"]).value,
            "stages": [s.value for s in mask_to_stages(stages_to_mask(data["stages"]))], "price": money(price),
            "required_qualification": QualificationType(data["required_qualification"]).value}


def _short(value, limit=120):
    return value if not isinstance(value, str) or len(value) <= limit else value[:limit] + "…"


def update_project(project, *, actor, staff_ids=None, **data):
    """Edit a project. While it is listed (registry.core.listing) its reviewed fields keep the published
    values and the edit of one is kept as a pending change, to be reviewed in a 变更 application and applied
    when that is published; a lower price applies at once. Other fields change in place. The form shows
    (and a partial edit starts from) the pending values, so saving it again keeps them; setting a field back
    to its published value withdraws its pending change."""
    merged = {key: getattr(project, key) for key in FIELDS if key != "stages"}
    merged["stages"] = project.stages
    merged.update(project.pending_changes or {})
    merged.update(data)
    price = _validate(project.provider, merged)
    published, proposed = project.reviewed_values(), _proposed(merged, price)
    before, pending_before = _values(project), dict(project.pending_changes or {})
    pending = {}
    if listing.is_listed(project.provider_id, project.id):
        for key in REVIEWED_FIELDS:
            if proposed[key] == published[key]:
                continue
            if key == "price" and Decimal(proposed[key]) < Decimal(published[key]):
                continue  # a lower price binds the provider at once: schools can only gain
            pending[key] = proposed[key]
            merged[key] = published[key]
        if "price" in pending:
            price = project.price
    _apply(project, merged, price)
    project.pending_changes = pending or None
    if staff_ids is not None:
        wanted = _staff(project.provider, staff_ids)
        keep = {ps.person_id: ps for ps in project.staff}
        project.staff = [keep.get(p.id) or ProjectStaff(person=p) for p in wanted]
    db.session.flush()
    after = _values(project)
    details = {"fields": sorted(data), "staff": staff_ids is not None,
               "changes": {k: [_short(before[k]), _short(after[k])] for k in after if before[k] != after[k]}}
    if pending != pending_before:
        details["pending"] = {k: [published[k], v] for k, v in pending.items()}
        details["pending_withdrawn"] = sorted(set(pending_before) - set(pending))
    audit.record("project.update", object_type="project", object_id=project.id, actor=actor, details=details)
    return project


def apply_reviewed(project, reviewed, *, actor, was_listed):
    """Publication of an application that carried `project`: its reviewed fields take the values of the
    snapshot the reviewers reviewed (`reviewed`, a snapshot project dict). A lower live price stands. What the
    provider changed in place after submitting while the project was not listed yet is not lost: it becomes a
    pending change, reviewed in a later 变更 application. Pending changes now published are cleared."""
    live = project.reviewed_values()
    pending = dict(project.pending_changes or {})
    target = {key: reviewed[key] for key in REVIEWED_FIELDS}
    # A price lowered since the submission (below what was in force then) stands when lower than the reviewed one.
    baseline = (reviewed.get("published") or {}).get("price", reviewed["price"])
    if Decimal(live["price"]) < min(Decimal(baseline), Decimal(target["price"])):
        target["price"] = live["price"]
    changes = {}
    for key in REVIEWED_FIELDS:
        if live[key] != target[key]:
            changes[key] = [live[key], target[key]]
            if not was_listed and key not in pending:
                pending[key] = live[key]
        if pending.get(key) == target[key]:
            pending.pop(key)
    if changes:
        merged = {key: getattr(project, key) for key in FIELDS if key != "stages"}
        merged["stages"] = project.stages
        merged.update(target)
        _apply(project, merged, Decimal(target["price"]))
    if changes or pending != (project.pending_changes or {}):
        project.pending_changes = pending or None
        db.session.flush()
        audit.record("project.publish_reviewed", object_type="project", object_id=project.id, actor=actor,
                     details={"changes": {k: [_short(a), _short(b)] for k, (a, b) in changes.items()},
                              "pending": sorted(pending)})
    return changes


def get_project(project_id):
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound("项目不存在")
    return project


def list_projects(provider_id):
    return db.session.scalars(
        select(Project).where(Project.provider_id == provider_id, Project.archived_at.is_(None))
        .options(selectinload(Project.staff).selectinload(ProjectStaff.person))
        .order_by(Project.id)
    ).all()

"""Service projects (服务项目): non-academic content only, a public-welfare price, the provider's own staff."""
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.audit import services as audit
from registry.core.errors import NotFound, ValidationFailed
from registry.extensions import db
from registry.people.models import Person, QualificationType
from registry.policy import services as policy
from registry.projects.models import Category, Level, Project, ProjectStaff, stages_to_mask

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


def update_project(project, *, actor, staff_ids=None, **data):
    merged = {key: getattr(project, key) for key in FIELDS if key != "stages"}
    merged["stages"] = project.stages
    merged.update(data)
    price = _validate(project.provider, merged)
    _apply(project, merged, price)
    if staff_ids is not None:
        wanted = _staff(project.provider, staff_ids)
        keep = {ps.person_id: ps for ps in project.staff}
        project.staff = [keep.get(p.id) or ProjectStaff(person=p) for p in wanted]
    db.session.flush()
    audit.record("project.update", object_type="project", object_id=project.id, actor=actor,
                 details={"fields": sorted(data), "staff": staff_ids is not None})
    return project


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

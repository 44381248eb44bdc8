"""Project input (one schema for the HTML form and the JSON API) and output."""
from marshmallow import ValidationError, fields, validate

from registry.core.schema import BaseSchema, Money
from registry.people.models import QUALIFICATION_LABELS, QualificationType
from registry.projects.models import CATEGORY_LABELS, LEVEL_LABELS, STAGE_LABELS, Category, Level, Stage

CATEGORY_CHOICES = [(c.value, label) for c, label in CATEGORY_LABELS.items()]
STAGE_CHOICES = [(s.value, label) for s, label in STAGE_LABELS.items()]
LEVEL_CHOICES = [(lv.value, label) for lv, label in LEVEL_LABELS.items()]
QUALIFICATION_CHOICES = [(q.value, label) for q, label in QUALIFICATION_LABELS.items()]


def _not_blank(label):
    def check(value):
        if not (value or "").strip():
            raise ValidationError(f"{label}不能为空")
    return check


def _length(label, maximum):
    return validate.Length(max=maximum, error=f"{label}不能超过 {maximum} 个字")


def _text(label, maximum, required=True):
    checks = [_length(label, maximum)]
    if required:
        return fields.String(required=True, validate=[_not_blank(label), *checks])
    return fields.String(load_default="", validate=checks)


def _count(label, low, high):
    rule = validate.Range(min=low, max=high, error=f"{label}应在 {low}–{high} 之间")
    return fields.Integer(required=True, validate=rule)


def _price_in_range(value):
    if not 0 <= value <= 9999:
        raise ValidationError("收费标准应在 0–9999 元/人·课时之间")


class ProjectIn(BaseSchema):
    """All fields of a service project. PATCH loads it with partial=True."""

    title = _text("项目名称", 128)
    category = fields.String(required=True, validate=validate.OneOf(
        [c.value for c in Category],
        error="活动类别无效：只能选择科普/科技、体育、美育、劳动、阅读、传统文化、非遗、职业体验、心理健康、社团拓展等非学科类类别"))
    stages = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in Stage], error="学段无效")),
        required=True, validate=validate.Length(min=1, error="请至少选择一个学段"),
        error_messages={"required": "请至少选择一个学段"})
    level = fields.String(required=True, validate=validate.OneOf([lv.value for lv in Level], error="层次无效"))
    description = _text("项目简介", 5000)
    syllabus = _text("教学大纲", 20000, required=False)
    sessions_per_term = _count("每学期课次", 1, 200)
    minutes_per_session = _count("每课时长（分钟）", 10, 240)
    class_min = _count("班额下限", 1, 200)
    class_max = _count("班额上限", 1, 200)
    # A plain function validator: apispec would copy a Range's Decimal bounds into the spec as strings.
    price = Money(required=True, validate=_price_in_range,
                           metadata={"minimum": 0, "maximum": 9999, "description": "元/人·课时"})
    venue_needs = _text("场地要求", 2000, required=False)
    safety_measures = _text("安全保障措施", 5000)
    required_qualification = fields.String(required=True, validate=validate.OneOf(
        [q.value for q in QualificationType], error="资质类型无效"))
    staff_ids = fields.List(fields.Integer(), load_default=list,
                            metadata={"description": "指派的本机构人员 id"})


class StaffRefOut(BaseSchema):
    id = fields.Integer(attribute="person.id")
    name = fields.String(attribute="person.name")
    staff_role = fields.Function(lambda link: link.person.staff_role.value)


class ProjectOut(BaseSchema):
    id = fields.Integer()
    title = fields.String()
    category = fields.Function(lambda p: p.category.value)
    category_label = fields.String()
    stages = fields.Function(lambda p: [s.value for s in p.stages])
    stage_labels = fields.List(fields.String())
    level = fields.Function(lambda p: p.level.value)
    level_label = fields.String()
    description = fields.String()
    syllabus = fields.String()
    sessions_per_term = fields.Integer()
    minutes_per_session = fields.Integer()
    class_min = fields.Integer()
    class_max = fields.Integer()
    price = fields.Decimal(as_string=True, places=2, metadata={"description": "元/人·课时"})
    venue_needs = fields.String()
    safety_measures = fields.String()
    required_qualification = fields.Function(lambda p: p.required_qualification.value)
    staff = fields.List(fields.Nested(StaffRefOut))
    pending_changes = fields.Dict(allow_none=True, metadata={
        "description": "已列入白名单的项目：审核事项（title、category、stages、price、required_qualification）"
                       "的待审修改。"
                       "上面各字段始终是公布值；待审修改须经变更申报审核、公示并发布后生效"})
    pending_message = fields.String(allow_none=True, metadata={"description": "有待审修改时的说明"})
    created_at = fields.DateTime()


class ProjectPatchIn(ProjectIn):
    """ProjectIn loaded with partial=True: only the fields sent change."""

"""Schedules (issue 15): one input schema per thing typed (a row, the rows, a non-teaching day, a decision, the
fee notice) for the HTML forms, the JSON API and the Excel import; output schemas with explicit field lists.
The public output carries an outside person's masked name and provider only."""
from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from registry.core.schema import BaseSchema, Money
from registry.projects.models import Category
from registry.schedules.models import FEE_STATUS_LABELS, SCHEDULE_STATUS_LABELS, RowKind, RowSource
from registry.schedules.validation import WEEKDAYS, hhmm, parse_time
from registry.schools.schemas import TermOut, text

KIND_CHOICES = [(k.value, k.label) for k in RowKind]
SOURCE_CHOICES = [(s.value, s.label) for s in RowSource]
CATEGORY_CHOICES = [(c.value, c.label) for c in Category]


class TimeField(fields.Field):
    """'HH:MM' in and out; minutes after midnight inside."""

    default_error_messages = {"invalid": "时间格式应为 HH:MM，如 16:30"}

    def _deserialize(self, value, attr, data, **kwargs):
        minutes = parse_time(value)
        if minutes is None:
            raise self.make_error("invalid")
        return minutes

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else hhmm(value)


def _choice(choices, what, **kwargs):
    return fields.String(validate=validate.OneOf([v for v, _ in choices],
                                                 error=f"{what}应为：" + "、".join(v for v, _ in choices)), **kwargs)


class ScheduleRowIn(BaseSchema):
    grade_from = fields.Integer(required=True, validate=validate.Range(min=1, max=9, error="年级应为 1–9"),
                                metadata={"description": "年级组的起始年级，1–9"})
    grade_to = fields.Integer(required=True, validate=validate.Range(min=1, max=9, error="年级应为 1–9"),
                              metadata={"description": "年级组的结束年级（单个年级时与起始年级相同）"})
    class_name = text(32, "班级")
    weekday = fields.Integer(required=True, validate=validate.Range(min=0, max=4, error="星期应为周一至周五"),
                             metadata={"description": "0=周一 … 4=周五"})
    starts_at = TimeField(required=True, metadata={"description": "开始时间 HH:MM"})
    ends_at = TimeField(required=True, metadata={"description": "结束时间 HH:MM"})
    kind = _choice(KIND_CHOICES, "类型", required=True, metadata={"description": "one=1（作业辅导），n=N（拓展活动）"})
    category = _choice(CATEGORY_CHOICES, "活动类别", load_default=None, allow_none=True)
    source = _choice(SOURCE_CHOICES, "内容来源", required=True,
                     metadata={"description": "own=本校项目，order=第三方点单项目，person=校聘人员活动"})
    content = text(128, "内容")
    school_project_id = fields.Integer(load_default=None, allow_none=True)
    order_id = fields.Integer(load_default=None, allow_none=True)
    person_id = fields.Integer(load_default=None, allow_none=True)
    teacher_name = text(64, "授课教师")
    venue = text(128, "地点", required=True)
    class_size = fields.Integer(required=True, validate=validate.Range(min=1, max=200, error="班额应为 1–200 人"))

    @pre_load
    def _drop_empty(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items()
                if not (v in ("", None) and k in ("category", "school_project_id", "order_id", "person_id"))}

    @validates_schema(skip_on_field_errors=False)
    def _consistent(self, data, **_kwargs):
        errors = {}
        if data.get("grade_from") and data.get("grade_to") and data["grade_to"] < data["grade_from"]:
            errors["grade_to"] = ["结束年级不能早于起始年级"]
        if data.get("starts_at") is not None and data.get("ends_at") is not None \
                and data["ends_at"] <= data["starts_at"]:
            errors["ends_at"] = ["结束时间须晚于开始时间"]
        source = data.get("source")
        if source == "order" and not data.get("order_id"):
            errors["order_id"] = ["第三方项目须选择点单"]
        if source == "person" and not data.get("person_id"):
            errors["person_id"] = ["校聘人员活动须选择人员"]
        if source == "own" and not data.get("school_project_id") and not (data.get("content") or "").strip():
            errors["content"] = ["请选择本校项目或填写内容（如 作业辅导）"]
        if data.get("kind") == "n" and not data.get("category") and source != "order":
            errors["category"] = ["N 类活动须选择类别"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _tidy(self, data, **_kwargs):
        for key in ("class_name", "content", "teacher_name", "venue"):
            data[key] = (data.get(key) or "").strip()
        return data


class ScheduleRowsIn(BaseSchema):
    rows = fields.List(fields.Nested(ScheduleRowIn), required=True,
                       validate=validate.Length(max=2000, error="最多 2000 行"))


class NonTeachingDayIn(BaseSchema):
    day = fields.Date(required=True)
    reason = text(64, "原因", required=True)


class ScheduleDecisionIn(BaseSchema):
    comment = text(2000, "审核意见")


class ScheduleReturnIn(BaseSchema):
    comment = text(2000, "退回意见", required=True)


class FeeNoticeIn(BaseSchema):
    fee_standard = text(255, "收费标准", required=True)
    amount = Money(load_default=None, allow_none=True,
                   metadata={"description": "可选：每生每学期金额（元），仅供统计"})
    service_time = text(255, "服务时间", required=True)
    content = text(2000, "服务内容", required=True)
    class_minutes = fields.Integer(load_default=None, allow_none=True,
                                   validate=validate.Range(min=20, max=120, error="课时长度应为 20–120 分钟"),
                                   metadata={"description": "一课时的分钟数；不填按本市政策（小学 40、初中 45）"})
    subsidy = text(255, "财政补助")

    @pre_load
    def _drop_empty(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if not (v in ("", None) and k in ("amount", "class_minutes"))}


# ---------------------------------------------------------------- output

class ScheduleRowOut(BaseSchema):
    id = fields.Integer()
    grade_from = fields.Integer()
    grade_to = fields.Integer()
    class_name = fields.String()
    group = fields.String()
    weekday = fields.Integer()
    weekday_label = fields.Function(lambda r: WEEKDAYS[r.weekday])
    starts_at = TimeField()
    ends_at = TimeField()
    kind = fields.Function(lambda r: r.kind.value)
    category = fields.Function(lambda r: r.category.value if r.category else None)
    source = fields.Function(lambda r: r.source.value)
    content = fields.String()
    school_project_id = fields.Integer(allow_none=True)
    order_id = fields.Integer(allow_none=True)
    person_id = fields.Integer(allow_none=True)
    teacher_name = fields.String()
    venue = fields.String()
    class_size = fields.Integer()


class ScheduleOut(BaseSchema):
    id = fields.Integer()
    school_id = fields.Integer()
    term = fields.Nested(TermOut)
    revision = fields.Integer()
    status = fields.Function(lambda s: s.status.value)
    status_label = fields.Function(lambda s: SCHEDULE_STATUS_LABELS[s.status.value])
    submitted_on = fields.Date(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    review_comment = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(ScheduleRowOut))


class ScheduleBriefOut(BaseSchema):
    id = fields.Integer()
    revision = fields.Integer()
    status = fields.Function(lambda s: s.status.value)
    status_label = fields.Function(lambda s: SCHEDULE_STATUS_LABELS[s.status.value])
    submitted_on = fields.Date(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    review_comment = fields.String(allow_none=True)


class ScheduleProblemOut(BaseSchema):
    rule = fields.String()
    message = fields.String()
    weekday = fields.Integer(allow_none=True)
    group = fields.String()
    line = fields.Integer(allow_none=True)


class ScheduleGridDayOut(BaseSchema):
    weekday = fields.Integer()
    label = fields.String()
    one = fields.Integer(metadata={"description": "1（作业辅导）分钟"})
    n = fields.Integer(metadata={"description": "N（拓展活动）分钟"})
    total = fields.Integer()
    share = fields.Float(metadata={"description": "N 的占比"})
    teaching = fields.Boolean()


class ScheduleGridOut(BaseSchema):
    group = fields.String()
    days = fields.List(fields.Nested(ScheduleGridDayOut))


class ScheduleReportOut(BaseSchema):
    ok = fields.Boolean()
    errors = fields.List(fields.Nested(ScheduleProblemOut))
    warnings = fields.List(fields.Nested(ScheduleProblemOut))
    grid = fields.List(fields.Nested(ScheduleGridOut))


class NonTeachingDayOut(BaseSchema):
    id = fields.Integer()
    day = fields.Date()
    reason = fields.String()


class FeeNoticeOut(BaseSchema):
    id = fields.Integer()
    school_id = fields.Integer()
    term_id = fields.Integer()
    status = fields.Function(lambda n: n.status.value)
    status_label = fields.Function(lambda n: FEE_STATUS_LABELS[n.status.value])
    fee_standard = fields.String()
    amount = Money(allow_none=True)
    service_time = fields.String()
    content = fields.String()
    class_minutes = fields.Integer()
    subsidy = fields.String()
    published_on = fields.Date(allow_none=True)


class ScheduleFilingOut(BaseSchema):
    school_id = fields.Integer()
    school_name = fields.String()
    state = fields.String(metadata={"description": "accepted / submitted / returned / draft / not_filed"})
    state_label = fields.String()
    submitted_on = fields.Date(allow_none=True)
    deadline = fields.Date()
    late = fields.Boolean()
    schedule_id = fields.Integer(allow_none=True)


class ScheduleCoverageOut(BaseSchema):
    schools = fields.Integer()
    accepted = fields.Integer()
    accepted_share = fields.Float()
    filed_on_time = fields.Integer()
    on_time_share = fields.Float()
    late = fields.Integer()
    not_filed = fields.Integer()
    deadline = fields.Date()


class PublicScheduleRowOut(BaseSchema):
    group = fields.String()
    weekday_label = fields.String()
    time = fields.String()
    kind_label = fields.String()
    category_label = fields.String(allow_none=True)
    content = fields.String()
    venue = fields.String()
    teacher = fields.String(metadata={"description": "校外人员只显示遮蔽后的姓名和所属机构"})
    class_size = fields.Integer()


class PublicScheduleOut(BaseSchema):
    school = fields.String()
    county = fields.String()
    term = fields.String()
    revision = fields.Integer(allow_none=True, metadata={"description": "已备案的版本（尚未备案时为空）"})
    accepted_on = fields.Date(allow_none=True)
    rows = fields.List(fields.Nested(PublicScheduleRowOut))
    fee_notice = fields.Nested(FeeNoticeOut, allow_none=True)

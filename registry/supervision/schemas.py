"""Supervision schemas: inputs (unknown fields refused) shared by the pages and /api/v1/supervision, and
outputs with explicit field lists. Visit photos and task evidence are never public: they are listed by id
and reached only through /supervision/files/<id> by those who may see the visit or task."""
from marshmallow import fields, validate

from registry.core.schema import BaseSchema
from registry.supervision.models import (
    CHECK_ITEM_LABELS,
    ITEM_RESULT_LABELS,
    TASK_STATUS_LABELS,
    TASK_TARGET_LABELS,
)


def _date(what, **kwargs):
    return fields.Date(error_messages={"invalid": f"{what}格式应为 YYYY-MM-DD"}, **kwargs)


def _text(what, required=True, max_length=2000, **kwargs):
    rules = [validate.Length(max=max_length, error=f"{what}不能超过 {max_length} 个字")]
    if required:
        rules.append(validate.Regexp(r"[\s\S]*\S", error=f"请填写{what}"))
    return fields.String(required=required, validate=rules, error_messages={"required": f"请填写{what}"},
                         **kwargs)


class AssignIn(BaseSchema):
    school_id = fields.Integer(required=True, error_messages={"required": "请选择学校", "invalid": "学校编号应为整数"})
    inspector_id = fields.Integer(required=True, error_messages={"required": "请选择责任督学",
                                                                 "invalid": "督学编号应为整数"})
    started_on = _date("开始日期", load_default=None, metadata={"description": "开始日期，默认今天"})


class EndAssignmentIn(BaseSchema):
    ended_on = _date("结束日期", load_default=None, metadata={"description": "最后一天，默认今天"})


RESULT_ERROR = "结果应为 conforms（符合）、fails（不符合）或 not_applicable（不适用）"
TARGET_ERROR = "整改对象应为 school（学校）或 provider（机构）"
CHECKLIST = "检查清单：" + "、".join(f"{k} {v}" for k, v in CHECK_ITEM_LABELS.items())


class ItemIn(BaseSchema):
    result = fields.String(required=True, validate=validate.OneOf(list(ITEM_RESULT_LABELS), error=RESULT_ERROR),
                           error_messages={"required": "请选择检查结果"})
    note = _text("备注", required=False, max_length=1000, load_default="")


class VisitIn(BaseSchema):
    school_id = fields.Integer(required=True, error_messages={"required": "请选择学校", "invalid": "学校编号应为整数"})
    visited_at = fields.DateTime(required=True, error_messages={
        "required": "请填写督导时间", "invalid": "督导时间格式应为 YYYY-MM-DDTHH:MM（北京时间）"},
        metadata={"description": "督导时间；不带时区时按北京时间"})
    summary = _text("督导小结", required=False, max_length=2000, load_default="")
    items = fields.Dict(keys=fields.String(validate=validate.OneOf(list(CHECK_ITEM_LABELS), error="未知的检查项")),
                        values=fields.Nested(ItemIn), required=True,
                        error_messages={"required": "请填写检查清单"},
                        metadata={"description": CHECKLIST})


class TaskIn(BaseSchema):
    item = fields.String(required=True, validate=validate.OneOf(list(CHECK_ITEM_LABELS), error="未知的检查项"),
                         error_messages={"required": "请选择检查项"})
    target = fields.String(required=True, validate=validate.OneOf(list(TASK_TARGET_LABELS), error=TARGET_ERROR),
                           error_messages={"required": "请选择整改对象"})
    provider_id = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "机构编号应为整数"})
    requirement = _text("整改要求")
    deadline = fields.Date(required=True, error_messages={"required": "请填写整改期限",
                                                          "invalid": "整改期限格式应为 YYYY-MM-DD"})


class RespondIn(BaseSchema):
    response = _text("整改情况", max_length=4000)


class CloseIn(BaseSchema):
    note = _text("复核意见", required=False, load_default="")


class ReopenIn(BaseSchema):
    note = _text("复核未通过的原因")


class ComplaintIn(BaseSchema):
    item = fields.String(required=True, validate=validate.OneOf(list(CHECK_ITEM_LABELS), error="未知的检查项"),
                         error_messages={"required": "请选择检查项"})


class TaskQueryIn(BaseSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(list(TASK_STATUS_LABELS), error="未知的状态"))
    overdue = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageIn(BaseSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class AsOfIn(BaseSchema):
    as_of = _date("统计日期", load_default=None, metadata={"description": "统计截至该日（含），默认今天"})


class MonthIn(BaseSchema):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$", error="月份格式应为 YYYY-MM"),
                          error_messages={"required": "请选择月份"})


# ---------------------------------------------------------------- outputs

class AssignmentOut(BaseSchema):
    id = fields.Integer()
    school_id = fields.Integer()
    school_name = fields.Function(lambda a: a.school.name)
    inspector_id = fields.Integer()
    inspector_name = fields.Function(lambda a: a.inspector.display_name)
    started_on = fields.Date()
    ended_on = fields.Date(allow_none=True)


class VisitItemOut(BaseSchema):
    item = fields.Function(lambda i: i.item.value)
    label = fields.String()
    result = fields.Function(lambda i: i.result.value)
    result_label = fields.String()
    note = fields.String()


class VisitPhotoOut(BaseSchema):
    file_id = fields.Integer()
    item = fields.Function(lambda p: p.item.value if p.item else None)
    url = fields.Function(lambda p: f"/supervision/files/{p.file_id}")


class VisitOut(BaseSchema):
    id = fields.Integer()
    school_id = fields.Integer()
    school_name = fields.Function(lambda v: v.school.name)
    inspector_name = fields.Function(lambda v: v.inspector.display_name)
    visited_at = fields.DateTime()
    visited_on = fields.Date()
    summary = fields.String()
    items = fields.List(fields.Nested(VisitItemOut))
    photos = fields.List(fields.Nested(VisitPhotoOut))


class VisitPageOut(BaseSchema):
    items = fields.List(fields.Nested(VisitOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class TaskOut(BaseSchema):
    id = fields.Integer()
    visit_id = fields.Integer()
    item = fields.Function(lambda t: t.item.value)
    item_label = fields.String()
    target = fields.Function(lambda t: t.target.value)
    target_label = fields.String()
    school_id = fields.Integer()
    school_name = fields.Function(lambda t: t.school.name)
    provider_id = fields.Integer(allow_none=True)
    provider_name = fields.Function(lambda t: t.provider.name if t.provider else None)
    requirement = fields.String()
    deadline = fields.Date()
    status = fields.Function(lambda t: t.status.value)
    status_label = fields.String()
    overdue = fields.Function(lambda t: t.is_overdue())
    response = fields.String(allow_none=True)
    responded_at = fields.DateTime(allow_none=True)
    review_note = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    evidence = fields.Function(lambda t: [{"file_id": e.file_id, "url": f"/supervision/files/{e.file_id}"}
                                          for e in t.evidence])


class TaskPageOut(BaseSchema):
    items = fields.List(fields.Nested(TaskOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class FigureOut(BaseSchema):
    value = fields.Float(allow_none=True)
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)


class ChildFigureOut(FigureOut):
    id = fields.Integer()
    name = fields.String()


class TrendPointOut(BaseSchema):
    month = fields.String()
    figure = fields.Nested(FigureOut, allow_none=True)


class IndicatorDefOut(BaseSchema):
    key = fields.String()
    label = fields.String()
    unit = fields.String()
    source = fields.String()
    landed = fields.Boolean(metadata={"description": "false：数据来源尚未上线，显示“暂无数据”"})
    description = fields.String()


class IndicatorOut(BaseSchema):
    key = fields.String()
    label = fields.String()
    unit = fields.String()
    source = fields.String()
    landed = fields.Boolean(metadata={"description": "false：数据来源尚未上线，显示“暂无数据”"})
    description = fields.String()
    total = fields.Nested(FigureOut, allow_none=True)
    children = fields.List(fields.Nested(ChildFigureOut))
    trend = fields.List(fields.Nested(TrendPointOut))


class SupervisionRegionOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    level = fields.String()


class DashboardOut(BaseSchema):
    region = fields.Nested(SupervisionRegionOut)
    as_of = fields.Date()
    child_level = fields.String(metadata={"description": "下级：city、county 或 school"})
    indicators = fields.List(fields.Nested(IndicatorOut))
    overdue_visits_month = fields.String(allow_none=True)
    overdue_visits = fields.List(fields.Dict())


class SchoolDashboardOut(BaseSchema):
    school_id = fields.Integer()
    school_name = fields.String()
    as_of = fields.Date()
    indicators = fields.List(fields.Dict())
    visits = fields.List(fields.Nested(VisitOut))
    tasks = fields.List(fields.Nested(TaskOut))


class MySchoolOut(BaseSchema):
    school_id = fields.Integer()
    school_name = fields.String()
    visits_this_month = fields.Integer()
    last_visit = fields.Date(allow_none=True)
    open_tasks = fields.Integer()

"""Ordering (点单), the school's catalog and the provider's accepting and declining: one input schema for the
HTML form and /api/v1 on each side; output schemas with explicit field lists, the order dumped with the same
OrderOut for both sides. Staff appear with masked ID numbers only."""
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from registry.core import clock
from registry.core.schema import BaseSchema, Money
from registry.orders.catalog import SORT_CHOICES
from registry.orders.models import ORDER_STATUS_LABELS, WEEKDAY_LABELS
from registry.projects.models import Category, Level, Stage
from registry.schools.schemas import PagedQueryIn, PageOut, TermOut, text
from registry.whitelist.schemas import BatchPublicOut, ProjectPublicOut

TIME_SLOT = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
                            error="时间段格式应为 开始-结束，如 16:30-17:30")
GRADE_LABELS = {1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级", 7: "七年级", 8: "八年级",
                9: "九年级"}
STATUS_CHOICES = [(k, v) for k, v in ORDER_STATUS_LABELS.items()]


def not_negative(what):
    """A Decimal rule as a plain function: a Range validator would put a Decimal into the OpenAPI document."""
    def check(value):
        if value < 0:
            raise ValidationError(f"{what}不能为负数")
    return check


class OrderIn(BaseSchema):
    entry_id = fields.Integer(required=True, metadata={"description": "白名单条目 id（见 /api/v1/school/catalog）"})
    term_id = fields.Integer(required=True, error_messages={"required": "请选择学期"})
    grades = fields.List(fields.Integer(validate=validate.Range(min=1, max=9, error="年级应为 1–9")), required=True,
                         validate=validate.Length(min=1, error="请选择年级"), error_messages={"required": "请选择年级"},
                         metadata={"description": "年级，1–9"})
    classes = text(255, "班级", required=True)
    weekdays = fields.List(fields.Integer(validate=validate.Range(min=0, max=4, error="服务日应为周一至周五")),
                           required=True, validate=validate.Length(min=1, error="请选择周一至周五中的服务日"),
                           error_messages={"required": "请选择周一至周五中的服务日"},
                           metadata={"description": "0=周一 … 4=周五"})
    time_slot = fields.String(required=True, validate=TIME_SLOT, metadata={"description": "如 16:30-17:30"})
    sessions = fields.Integer(required=True,
                              validate=validate.Range(min=1, max=200, error="服务次数须在 1 到 200 之间"))
    expected_students = fields.Integer(required=True, validate=validate.Range(min=1, error="预计人数须为正整数"))
    venue = text(128, "上课地点", required=True)
    price = Money(load_default=None, validate=not_negative("价格"),
                           metadata={"description": "可不填：订单按公布价格计价；填写时不能高于公布价格"})

    @validates_schema
    def _slot_order(self, data, **_kwargs):
        slot = data.get("time_slot")
        if slot and slot.split("-")[0] >= slot.split("-")[1]:
            raise ValidationError("时间段的结束时间须晚于开始时间", field_name="time_slot")


class CatalogQueryIn(PagedQueryIn):
    category = fields.String(validate=validate.OneOf([c.value for c in Category], error="活动类别无效"))
    stage = fields.String(validate=validate.OneOf([s.value for s in Stage], error="学段无效"))
    level = fields.String(validate=validate.OneOf([lv.value for lv in Level], error="层次无效"))
    max_price = Money(validate=not_negative("价格上限"),
                               metadata={"description": "最高价格（元/人·课时）"})
    provider_id = fields.Integer(metadata={"description": "只看某一机构"})
    q = fields.String(validate=validate.Length(max=50, error="关键词不能超过 50 个字"),
                      metadata={"description": "机构名称、项目名称中的任意文字，或完整的统一社会信用代码"})
    sort = fields.String(load_default="provider",
                         validate=validate.OneOf([k for k, _ in SORT_CHOICES], error="排序方式无效"),
                         metadata={"description": "provider / title / price / -price"})
    show = fields.String(load_default="eligible", validate=validate.OneOf(["eligible", "all"], error="显示范围无效"),
                         metadata={"description": "eligible 只看可点单项目；all 同时列出本市不能点单的项目及原因"})


class OrderQueryIn(PagedQueryIn):
    status = fields.String(validate=validate.OneOf(list(ORDER_STATUS_LABELS), error="状态无效"))
    term_id = fields.Integer()


class CancelIn(BaseSchema):
    reason = text(500, "取消原因")


# ---------------------------------------------------------------- output

def _money(value):
    return f"{value:.2f}"


class ProviderBriefOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    uscc = fields.String()
    county = fields.Function(lambda p: p.county.name)


class CatalogProjectOut(ProjectPublicOut):
    id = fields.Integer()
    description = fields.String()
    sessions_per_term = fields.Integer()
    minutes_per_session = fields.Integer()
    class_min = fields.Integer()
    class_max = fields.Integer()


# One instance each, made once: building a schema per row costs more than dumping it.
_PROVIDER_BRIEF, _CATALOG_PROJECT, _BATCH = ProviderBriefOut(), CatalogProjectOut(), BatchPublicOut()


class CatalogStandingOut(BaseSchema):
    """issue 16: a project's last standing (registry.quality.queries.StandingView), as the catalog shows it."""
    term = fields.String(attribute="term_name")
    rate = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "合成满意率"})
    responses = fields.Integer(metadata={"description": "家长与学校评价份数"})
    below_threshold = fields.Boolean(attribute="below", metadata={"description": "低于本市满意度标准"})
    threshold = fields.Decimal(as_string=True)


class CatalogItemOut(BaseSchema):
    entry_id = fields.Function(lambda r: r.entry.id)
    provider = fields.Function(lambda r: _PROVIDER_BRIEF.dump(r.entry.provider))
    project = fields.Function(lambda r: _CATALOG_PROJECT.dump(r.entry.project))
    price = fields.Function(lambda r: _money(r.entry.project.price), metadata={"description": "元/人·课时"})
    valid_from = fields.Function(lambda r: r.entry.valid_from.isoformat())
    valid_until = fields.Function(lambda r: r.entry.valid_until.isoformat())
    batch = fields.Function(lambda r: _BATCH.dump(r.entry.batch))
    counties = fields.Function(lambda r: [c.county.name for c in r.entry.counties])
    orderable = fields.Boolean(attribute="ok")
    reasons = fields.List(fields.String(), metadata={"description": "不能点单的原因（中文）；可点单时为空"})
    cleared_staff = fields.Integer(attribute="cleared_count", metadata={"description": "今日准入合格的授课人员数"})
    standing = fields.Nested(CatalogStandingOut, allow_none=True,  # issue 16
                             metadata={"description": "项目最近一个学期的质量评估（无评估时为空）"})


# What an entry shows to every school alike (cached per entry: registry.orders.catalog.catalog_items).
CATALOG_ITEM_OWN = CatalogItemOut(only=("entry_id", "provider", "project", "price", "valid_from", "valid_until",
                                        "batch", "counties"))


class CatalogPageOut(PageOut):
    items = fields.List(fields.Nested(CatalogItemOut))
    hidden = fields.Integer(metadata={"description": "因不能点单而未列出的项目数（show=eligible 时）"})


class StaffOut(BaseSchema):
    name = fields.Function(lambda s: s.person.name)
    id_masked = fields.Function(lambda s: s.person.id_masked, metadata={"description": "脱敏身份证号码"})
    removed = fields.Function(lambda s: s.removed_at is not None)
    removed_reason = fields.String(allow_none=True)


class OrderOut(BaseSchema):
    id = fields.Integer()
    status = fields.Function(lambda o: o.effective_status(clock.today()).value,
                             metadata={"description": "当前状态（已接单且学期已开始即为 active）"})
    status_label = fields.Function(lambda o: ORDER_STATUS_LABELS[o.effective_status(clock.today()).value])
    status_reason = fields.String(allow_none=True)
    staff_flagged = fields.Function(lambda o: o.staff_flagged_at is not None,
                                    metadata={"description": "授课人员准入状态有变，需要关注"})
    school = fields.Function(lambda o: {"id": o.school.id, "name": o.school.name, "code": o.school.code})
    provider = fields.Function(lambda o: ProviderBriefOut().dump(o.provider))
    project = fields.Function(lambda o: ProjectPublicOut().dump(o.project))
    entry_id = fields.Integer()
    batch = fields.Function(lambda o: BatchPublicOut().dump(o.entry.batch))
    term = fields.Function(lambda o: TermOut().dump(o.term))
    grades = fields.List(fields.Integer())
    classes = fields.String()
    weekdays = fields.List(fields.Integer())
    weekday_labels = fields.Function(lambda o: [WEEKDAY_LABELS[d] for d in o.weekdays])
    time_slot = fields.String()
    sessions = fields.Integer()
    expected_students = fields.Integer()
    venue = fields.String()
    price = fields.Function(lambda o: _money(o.price), metadata={"description": "元/人·课时（点单时的公布价格）"})
    total = fields.Function(lambda o: _money(o.total), metadata={"description": "单价 × 预计人数 × 课时数（元）"})
    class_hours = fields.Function(lambda o: _money(o.class_hours),
                                  metadata={"description": "课时数：服务次数 × 每次时长 ÷ 本市一课时的分钟数"})
    staff = fields.Function(lambda o: StaffOut(many=True).dump(o.staff))
    created_at = fields.DateTime()


class OrderPageOut(PageOut):
    items = fields.List(fields.Nested(OrderOut))


# ---------------------------------------------------------------- the provider's side
# Accepting with staff, declining with a reason: one input schema for the HTML forms and
# /api/v1/provider-orders; the order itself is dumped with OrderOut above, so both sides read the same shape.
STAFF_REQUIRED = "接单时须指派至少一名授课人员"


class AcceptIn(BaseSchema):
    person_ids = fields.List(fields.Integer(error_messages={"invalid": "人员编号应为整数"}), required=True,
                             validate=validate.Length(min=1, error=STAFF_REQUIRED),
                             error_messages={"required": STAFF_REQUIRED},
                             metadata={"description": "指派的授课人员 id（今天须准入合格，见 candidates）"})


class ReplaceStaffIn(BaseSchema):
    """Replace a person on an accepted or active order (issue 14)."""
    old_person_id = fields.Integer(required=True, metadata={"description": "被替换的授课人员 id"})
    new_person_id = fields.Integer(required=True, metadata={"description": "接替人员 id（今天须准入合格）"})
    reason = fields.String(required=True, error_messages={"required": "更换人员时须填写原因"},
                           validate=[validate.Length(max=200, error="更换原因不能超过 200 个字"),
                                     validate.Regexp(r"[\s\S]*\S", error="更换人员时须填写原因")])


class DeclineIn(BaseSchema):
    reason = fields.String(required=True, error_messages={"required": "拒绝点单时须填写原因"},
                           validate=[validate.Length(max=500, error="拒绝原因不能超过 500 个字"),
                                     validate.Regexp(r"[\s\S]*\S", error="拒绝点单时须填写原因")],
                           metadata={"description": "拒绝原因，学校可以看到"})


class ProviderOrderQueryIn(BaseSchema):
    status = fields.String(validate=validate.OneOf(list(ORDER_STATUS_LABELS), error="状态无效"),
                           metadata={"description": "按当前状态筛选（已接单且学期已开始即为 active）"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000, error="页码无效"))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100, error="每页条数应在 1–100 之间"))

    @pre_load
    def _drop_empty(self, data, **_kwargs):
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class CandidateOut(BaseSchema):
    id = fields.Function(lambda c: c.person.id)
    name = fields.Function(lambda c: c.person.name)
    id_masked = fields.Function(lambda c: c.person.id_masked, metadata={"description": "脱敏身份证号码"})
    on_project = fields.Boolean(metadata={"description": "是否为该项目登记的授课人员"})
    cleared = fields.Function(lambda c: c.today.cleared,
                              metadata={"description": "今天是否准入合格（按项目要求的资格）"})
    reasons = fields.Function(lambda c: c.today.reasons, metadata={"description": "今天未准入的原因"})
    lapses = fields.Function(lambda c: c.term_end.reasons,
                             metadata={"description": "学期结束前将不再符合条件的原因（接单时给出提醒）"})


class AcceptOut(BaseSchema):
    order = fields.Function(lambda r: OrderOut().dump(r.order))
    warnings = fields.List(fields.String(), metadata={"description": "学期结束前查询记录或证书将失效的人员"})

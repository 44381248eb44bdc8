"""The provider's side of orders: accepting with staff, declining with a reason. One input schema for the HTML
forms and /api/v1/provider-orders; the order itself is dumped with the school side's OrderOut, so both sides
read the same shape."""
from marshmallow import fields, pre_load, validate

from registry.core.schema import BaseSchema
from registry.orders.models import ORDER_STATUS_LABELS
from registry.orders.schemas import OrderOut

STAFF_REQUIRED = "接单时须指派至少一名授课人员"


class AcceptIn(BaseSchema):
    person_ids = fields.List(fields.Integer(error_messages={"invalid": "人员编号应为整数"}), required=True,
                             validate=validate.Length(min=1, error=STAFF_REQUIRED),
                             error_messages={"required": STAFF_REQUIRED},
                             metadata={"description": "指派的授课人员 id（今天须准入合格，见 candidates）"})


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
    cleared = fields.Function(lambda c: c.today.cleared, metadata={"description": "今天是否准入合格（按项目要求的资格）"})
    reasons = fields.Function(lambda c: c.today.reasons, metadata={"description": "今天未准入的原因"})
    lapses = fields.Function(lambda c: c.term_end.reasons,
                             metadata={"description": "学期结束前将不再符合条件的原因（接单时给出提醒）"})


class AcceptOut(BaseSchema):
    order = fields.Function(lambda r: OrderOut().dump(r.order))
    warnings = fields.List(fields.String(), metadata={"description": "学期结束前查询记录或证书将失效的人员"})

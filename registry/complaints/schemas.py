"""Complaints and appeals: input schemas shared by the HTML forms and /api/v1 (unknown fields refused), and
output schemas with explicit field lists, one per audience. Only the handler's schema carries the
complainant's name and phone; the provider's and the public's never do (nor the content, for the public)."""
from marshmallow import fields, pre_load, validate

from registry.complaints.models import (
    APPEAL_STATUS_LABELS,
    APPEAL_SUBJECT_LABELS,
    CATEGORY_LABELS,
    COMPLAINT_STATUS_LABELS,
    OUTCOME_LABELS,
)
from registry.core.schema import BaseSchema

CATEGORY_CHOICES = list(CATEGORY_LABELS.items())
OUTCOME_CHOICES = list(OUTCOME_LABELS.items())
STATUS_CHOICES = list(COMPLAINT_STATUS_LABELS.items())
APPEAL_SUBJECT_CHOICES = list(APPEAL_SUBJECT_LABELS.items())
APPEAL_STATUS_CHOICES = list(APPEAL_STATUS_LABELS.items())
SANCTION_LABELS = {"delisting": "移出白名单并禁入", "warning": "警告"}


def _text(max_length, what, **kwargs):
    return fields.String(validate=validate.Length(max=max_length, error=f"{what}不能超过 {max_length} 个字"),
                         **kwargs)


def _choice(values, message, **kwargs):
    return fields.String(required=True, validate=validate.OneOf(list(values), error=message),
                         error_messages={"required": message}, **kwargs)


def _id(what):
    return fields.Integer(load_default=None, allow_none=True, metadata={"description": what})


class _DropEmpty(BaseSchema):
    @pre_load
    def _drop_empty(self, data, **_kwargs):
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class _ComplaintIn(_DropEmpty):
    category = _choice(CATEGORY_LABELS, "请选择投诉类别",
                       metadata={"description": "类别：" + "、".join(f"{k} {v}" for k, v in CATEGORY_LABELS.items())})
    summary = _text(4000, "投诉内容", required=True, error_messages={"required": "请填写投诉内容"})
    school_id = _id("涉及的学校 id")
    provider_id = _id("被投诉机构 id")
    project_id = _id("被投诉服务项目 id")


class PublicComplaintIn(_ComplaintIn):
    """家长或公众投诉：实名和电话必填，仅承办教育局可见。"""
    name = _text(32, "姓名", required=True, error_messages={"required": "请填写真实姓名"},
                 metadata={"description": "投诉人真实姓名（仅承办教育局可见）"})
    phone = _text(20, "电话", required=True, error_messages={"required": "请填写联系电话"},
                  metadata={"description": "投诉人联系电话（仅承办教育局可见）"})


class AccountComplaintIn(_ComplaintIn):
    """学校或责任督学从账号投诉。"""
    order_id = _id("涉及的点单 id（学校）")
    person_id = _id("被投诉人员 id（学校点单的服务人员）")
    pass_code = _text(64, "入校凭证编号", load_default=None, metadata={"description": "被投诉人员的入校凭证编号"})


class ReasonIn(BaseSchema):
    reason = _text(1000, "理由", load_default="")


class ResponseRequestIn(BaseSchema):
    request = _text(2000, "陈述事项", load_default="", metadata={"description": "请被投诉方说明的事项"})


class RespondIn(BaseSchema):
    response = _text(4000, "陈述", load_default="")


class DecideIn(BaseSchema):
    outcome = _choice(OUTCOME_LABELS, "请选择投诉成立或不成立")
    reason = _text(4000, "理由", load_default="")


class SanctionIn(BaseSchema):
    confirm = fields.Boolean(required=True, error_messages={"required": "请选择确认或不予确认",
                                                             "invalid": "请选择确认或不予确认"})
    reason = _text(1000, "理由", load_default=None, allow_none=True)


class RateIn(BaseSchema):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5, error="请选择 1 到 5 的评价"),
                            error_messages={"required": "请选择 1 到 5 的评价"})
    comment = _text(1000, "评价意见", load_default=None, allow_none=True)


class QueueQueryIn(_DropEmpty):
    show = fields.String(load_default="open", validate=validate.OneOf(["open", "all"], error="应为 open 或 all"))


class StatsQueryIn(_DropEmpty):
    city_id = fields.Integer(load_default=None, allow_none=True)


class AppealIn(_DropEmpty):
    subject = _choice(APPEAL_SUBJECT_LABELS, "请选择申诉的事项")
    application_id = _id("不予通过的申报 id")
    action_id = _id("移出或禁入决定 id")
    complaint_id = _id("成立的投诉 id")
    reasons = _text(4000, "申诉理由", required=True, error_messages={"required": "请填写申诉理由"})


class AppealDecisionIn(BaseSchema):
    outcome = _choice(["confirm", "change"], "请选择维持或撤销原决定")
    reason = _text(4000, "复核理由", load_default="")


# ---------------------------------------------------------------- output

def _day(value):
    return value.isoformat() if value else None


class TrackingOut(BaseSchema):
    tracking_code = fields.String()
    status_url = fields.String()


class ComplaintStatusOut(BaseSchema):
    """The complainant's status page (by tracking code): no name, phone or evidence."""
    tracking_code = fields.String()
    category = fields.Function(lambda c: c.category.value)
    category_label = fields.String()
    status = fields.Function(lambda c: c.status.value)
    status_label = fields.String()
    received_on = fields.Function(lambda c: _day(c.received_on))
    resolve_due = fields.Function(lambda c: _day(c.resolve_due))
    extended = fields.Function(lambda c: bool(c.extension_reason))
    outcome = fields.Function(lambda c: c.outcome.value if c.outcome else None)
    outcome_label = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    decided_on = fields.Function(lambda c: _day(c.decided_on))
    rating = fields.Integer(allow_none=True)


class ComplaintOut(BaseSchema):
    """The handling bureau's view, with the complainant's contact (decrypted for the handler only)."""
    id = fields.Integer()
    tracking_code = fields.String()
    source = fields.Function(lambda c: c.source.value)
    category = fields.Function(lambda c: c.category.value)
    category_label = fields.String()
    subject_kind = fields.Function(lambda c: c.subject_kind.value)
    summary = fields.String()
    school_id = fields.Integer(allow_none=True)
    provider_id = fields.Integer(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    order_id = fields.Integer(allow_none=True)
    person_id = fields.Integer(allow_none=True)
    pass_code = fields.String(allow_none=True)
    region_id = fields.Integer()
    city_id = fields.Integer()
    status = fields.Function(lambda c: c.status.value)
    status_label = fields.String()
    received_on = fields.Function(lambda c: _day(c.received_on))
    ack_due = fields.Function(lambda c: _day(c.ack_due))
    resolve_due = fields.Function(lambda c: _day(c.resolve_due))
    due_on = fields.Function(lambda c: _day(c.due_on()))
    extension_reason = fields.String(allow_none=True)
    escalated_on = fields.Function(lambda c: _day(c.escalated_on))
    response_request = fields.String(allow_none=True)
    response_due = fields.Function(lambda c: _day(c.response_due))
    response = fields.String(allow_none=True)
    outcome = fields.Function(lambda c: c.outcome.value if c.outcome else None)
    decision_reason = fields.String(allow_none=True)
    decided_on = fields.Function(lambda c: _day(c.decided_on))
    sanction_kind = fields.String(allow_none=True)
    sanction_status = fields.Function(lambda c: c.sanction_status.value if c.sanction_status else None)
    sanction_action_id = fields.Integer(allow_none=True)
    rating = fields.Integer(allow_none=True)
    rating_comment = fields.String(allow_none=True)
    evidence = fields.List(fields.Integer())
    complainant_name = fields.Function(lambda c: getattr(c, "complainant", (None, None))[0])
    complainant_phone = fields.Function(lambda c: getattr(c, "complainant", (None, None))[1])


class ProviderComplaintOut(BaseSchema):
    """What the provider (or the school, for a complaint against it) sees: the request for a statement and
    the decision. Never the complainant, the source account, the evidence or the complaint's own text."""
    id = fields.Integer()
    category = fields.Function(lambda c: c.category.value)
    category_label = fields.String()
    status = fields.Function(lambda c: c.status.value)
    status_label = fields.String()
    received_on = fields.Function(lambda c: _day(c.received_on))
    response_request = fields.String(allow_none=True)
    response_due = fields.Function(lambda c: _day(c.response_due))
    response = fields.String(allow_none=True)
    outcome = fields.Function(lambda c: c.outcome.value if c.outcome else None)
    decision_reason = fields.String(allow_none=True)
    decided_on = fields.Function(lambda c: _day(c.decided_on))


class StatsOut(BaseSchema):
    city = fields.String()
    month = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()
    median_days = fields.Float(allow_none=True, metadata={"description": "受理至办结天数的中位数"})


class AppealOut(BaseSchema):
    id = fields.Integer()
    provider_id = fields.Integer()
    subject = fields.Function(lambda a: a.subject.value)
    subject_label = fields.String()
    application_id = fields.Integer(allow_none=True)
    action_id = fields.Integer(allow_none=True)
    complaint_id = fields.Integer(allow_none=True)
    decided_on_original = fields.Function(lambda a: _day(a.decided_on_original))
    reasons = fields.String()
    filed_on = fields.Function(lambda a: _day(a.filed_on))
    status = fields.Function(lambda a: a.status.value)
    status_label = fields.String()
    decision_reason = fields.String(allow_none=True)
    decided_on = fields.Function(lambda a: _day(a.decided_on))


class AppealableOut(BaseSchema):
    subject = fields.String()
    label = fields.String()
    record_id = fields.Integer()
    field = fields.String()
    decided_on = fields.Function(lambda a: _day(a.decided_on))
    deadline = fields.Function(lambda a: _day(a.deadline))

"""Dynamic adjustment (动态调整): one input schema per manual action, shared by the reviewer's HTML forms
and /api/v1/adjustments; output schemas with explicit field lists. Labels for automatic rules."""
from marshmallow import fields, pre_load, validate

from registry.adjustments.models import ACTION_LABELS, REASON_LABELS
from registry.core import clock
from registry.core.schema import BaseSchema
from registry.orders.models import ORDER_STATUS_LABELS
from registry.whitelist.models import ENTRY_STATUS_LABELS

REASON_CHOICES = list(REASON_LABELS.items())
ACTION_CHOICES = list(ACTION_LABELS.items())
ENTRY_STATUS_CHOICES = list(ENTRY_STATUS_LABELS.items())
# The automatic rules of registry.adjustments.sweep, as a reviewer and a provider read them.
RULE_LABELS = {
    "document_expired": "自动规则：必备资质材料过期",
    "staff_not_cleared": "自动规则：项目无准入合格人员",
    "adverse_check": "自动规则：人员查询结果异常",
    "validity_ended": "自动规则：有效期届满未年审",
    "lift": "自动规则：暂停原因已消除",
}


def _date(what, **kwargs):
    return fields.Date(error_messages={"invalid": f"{what}格式应为 YYYY-MM-DD"}, **kwargs)


class _DropEmpty(BaseSchema):
    @pre_load
    def _drop_empty(self, data, **_kwargs):
        # An empty form field means "not given" (the service then uses its default).
        return {k: v for k, v in data.items() if v not in ("", None, [])} if isinstance(data, dict) else data


class ActionIn(_DropEmpty):
    reason_category = fields.String(
        required=True, validate=validate.OneOf(list(REASON_LABELS), error="请选择原因类别"),
        error_messages={"required": "请选择原因类别"},
        metadata={"description": "原因类别：" + "、".join(f"{k} {v}" for k, v in REASON_LABELS.items())})
    reason = fields.String(
        required=True, validate=[validate.Length(max=2000, error="具体原因不能超过 2000 个字"),
                                 validate.Regexp(r"[\s\S]*\S", error="请填写具体原因，机构将看到这段说明")],
        error_messages={"required": "请填写具体原因，机构将看到这段说明"},
        metadata={"description": "具体原因（机构可以看到）"})
    effective_on = _date("生效日期", load_default=None, metadata={"description": "生效日期，默认今天；不能晚于今天"})


def _project_ids():
    return fields.List(fields.Integer(error_messages={"invalid": "项目编号应为整数"}), load_default=None,
                       metadata={"description": "只处理这些项目的白名单条目；不填为全部"})


class WarnIn(ActionIn):
    pass


class SuspendIn(ActionIn):
    lift_on = _date("自动解除日期", load_default=None,
                    metadata={"description": "可选：此日期之后、原因消除时自动解除暂停"})
    project_ids = _project_ids()


class DelistIn(ActionIn):
    project_ids = _project_ids()
    ban_until = _date("禁入截止日期", load_default=None, metadata={"description": "可选：同时禁入至此日期"})


class BanIn(ActionIn):
    ends_on = _date("禁入截止日期", load_default=None,
                    metadata={"description": "禁入截止日期；不填为本市默认禁入期（默认 3 年）"})


class ReinstateIn(ActionIn):
    reason_category = fields.String(
        load_default="other", validate=validate.OneOf(list(REASON_LABELS), error="请选择原因类别"),
        metadata={"description": "原因类别，默认 other 其他"})
    project_ids = _project_ids()


class ProviderQueryIn(_DropEmpty):
    status = fields.String(validate=validate.OneOf(list(ENTRY_STATUS_LABELS), error="状态无效"),
                           metadata={"description": "只看有该状态（按今天计算）白名单条目的机构"})
    q = fields.String(validate=validate.Length(max=50, error="关键词不能超过 50 个字"),
                      metadata={"description": "机构名称中的文字或统一社会信用代码"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000, error="页码无效"))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100, error="每页条数应在 1–100 之间"))


# ---------------------------------------------------------------- output

def _day(value):
    return value.isoformat() if value is not None else None


class ActionOut(BaseSchema):
    id = fields.Integer()
    kind = fields.Function(lambda a: a.kind.value)
    kind_label = fields.String()
    reason_category = fields.Function(lambda a: a.reason_category.value)
    reason_label = fields.String()
    reason = fields.String()
    effective_on = fields.Function(lambda a: _day(a.effective_on))
    lift_on = fields.Function(lambda a: _day(a.lift_on), metadata={"description": "暂停自动解除日期"})
    ends_on = fields.Function(lambda a: _day(a.ends_on), metadata={"description": "禁入截止日期"})
    lifted = fields.Function(lambda a: a.lifted_at is not None, metadata={"description": "禁入已因恢复而结束"})
    rule = fields.String(allow_none=True, metadata={"description": "自动规则名称；人工处理为 null"})
    rule_label = fields.String(allow_none=True)
    evidence = fields.Dict(metadata={"description": "触发该处理的依据（自动规则）或涉及的条目（人工处理）"})
    evidence_text = fields.List(fields.String(), metadata={"description": "依据的中文说明"})
    projects = fields.List(fields.String(), metadata={"description": "涉及的项目"})
    actor = fields.String(allow_none=True, attribute="actor_name", metadata={"description": "处理人；自动规则为 null"})
    created_at = fields.DateTime()


class EntryOut(BaseSchema):
    id = fields.Integer()
    project_id = fields.Integer()
    project = fields.Function(lambda e: e.project.title)
    status = fields.Function(lambda e: e.effective_status(clock.today()).value,
                             metadata={"description": "按今天计算的状态"})
    status_label = fields.Function(lambda e: ENTRY_STATUS_LABELS[e.effective_status(clock.today()).value])
    status_reason = fields.String(allow_none=True)
    valid_from = fields.Function(lambda e: _day(e.valid_from))
    valid_until = fields.Function(lambda e: _day(e.valid_until))
    suspended_until = fields.Function(lambda e: _day(e.suspended_until))
    batch = fields.Function(lambda e: f"{e.batch.city.name}{e.batch.name}")


class ProviderBriefOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    uscc = fields.String()
    county = fields.Function(lambda p: p.county.name)


class ProviderSummaryOut(BaseSchema):
    provider = fields.Function(lambda r: ProviderBriefOut().dump(r.provider))
    entries = fields.Function(lambda r: EntryOut(many=True).dump(r.entries))
    recent_actions = fields.Function(lambda r: ActionOut(many=True).dump(r.actions))
    banned_until = fields.Function(lambda r: _day(r.ban.ends_on) if r.ban else None,
                                   metadata={"description": "处于禁入期时为禁入截止日期"})


class ProviderPageOut(BaseSchema):
    items = fields.List(fields.Nested(ProviderSummaryOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class AffectedOrderOut(BaseSchema):
    id = fields.Integer()
    school = fields.Function(lambda o: o.school.name)
    project = fields.Function(lambda o: o.project.title)
    term = fields.Function(lambda o: o.term.name)
    status = fields.Function(lambda o: o.effective_status(clock.today()).value)
    status_label = fields.Function(lambda o: ORDER_STATUS_LABELS[o.effective_status(clock.today()).value])
    status_reason = fields.String(allow_none=True)


class ProviderDetailOut(ProviderSummaryOut):
    actions = fields.Function(lambda r: ActionOut(many=True).dump(r.all_actions))
    orders = fields.Function(lambda r: AffectedOrderOut(many=True).dump(r.orders),
                             metadata={"description": "本机构已接单、服务中和已暂停的订单"})
    default_ban_end = fields.Function(lambda r: _day(r.default_ban_end))


class MyActionsOut(BaseSchema):
    """The provider's own record: the acting body is the city's education bureau, not a named reviewer."""
    entries = fields.Function(lambda r: EntryOut(many=True).dump(r.entries))
    actions = fields.Function(lambda r: ActionOut(many=True, exclude=("actor",)).dump(r.all_actions))
    banned_until = fields.Function(lambda r: _day(r.ban.ends_on) if r.ban else None)

"""Schemas of the quality domain: the school's evaluation and the parents' answer (one input schema each for
the HTML form and /api/v1), and the outputs with explicit field lists. Nothing that identifies a parent is ever
taken or shown; the provider sees comments without school, order or date."""
from marshmallow import fields, validate

from registry.core.schema import BaseSchema
from registry.quality.models import Grade, Interest, SafetyFeeling, Satisfaction, StandingLevel
from registry.quality.services import COMMENT_MAX
from registry.schools.schemas import PagedQueryIn, PageOut, TermOut, text


def choice(enum, what):
    values = [m.value for m in enum]
    labels = "、".join(f"{m.value}（{m.label}）" for m in enum)
    return fields.Enum(enum, required=True, by_value=True, error_messages={
        "required": f"请选择{what}", "unknown": f"{what}应为 {labels} 之一"},
        metadata={"description": f"{what}：{labels}", "enum": values})


def yes_no(what):
    return fields.Boolean(required=True, error_messages={"required": f"请回答：{what}", "invalid": f"{what}应为是或否"},
                          metadata={"description": what})


class EvaluationIn(BaseSchema):
    content = choice(Grade, "活动内容")
    punctuality = choice(Grade, "人员准时到岗")
    safety = choice(Grade, "安全管理")
    engagement = choice(Grade, "学生参与度")
    overall = choice(Satisfaction, "总体满意度")
    comment = text(COMMENT_MAX, "意见建议")


class SurveyAnswerIn(BaseSchema):
    satisfaction = choice(Satisfaction, "总体满意度")
    interest = choice(Interest, "孩子的兴趣")
    safety = choice(SafetyFeeling, "安全感受")
    extra_fee = yes_no("是否被收取公布价格以外的费用")
    voluntary = yes_no("孩子是否自愿参加")
    comment = text(COMMENT_MAX, "意见建议")


class CodeIn(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40, error="请输入问卷码"),
                         error_messages={"required": "请输入问卷码"})


class StandingQueryIn(PagedQueryIn):
    term_id = fields.Integer(metadata={"description": "学期 id"})
    level = fields.String(validate=validate.OneOf([lv.value for lv in StandingLevel], error="等级无效"),
                          metadata={"description": "ok 达标 / few 样本不足 / below 低于满意度标准"})


def labelled(attribute):
    return fields.Function(lambda obj: None if getattr(obj, attribute) is None else
                           {"value": getattr(obj, attribute).value, "label": getattr(obj, attribute).label},
                           metadata={"description": "{value, label}"})


class EvaluationOut(BaseSchema):
    order_id = fields.Integer()
    content = labelled("content")
    punctuality = labelled("punctuality")
    safety = labelled("safety")
    engagement = labelled("engagement")
    overall = labelled("overall")
    comment = fields.String()
    no_show_count = fields.Integer(allow_none=True,
                                   metadata={"description": "闸机记录的未到岗次数（无闸机记录时为空）"})
    updated_at = fields.DateTime()


class SchoolOrderQualityOut(BaseSchema):
    order_id = fields.Function(lambda row: row.order.id)
    project = fields.Function(lambda row: row.order.project.title)
    provider = fields.Function(lambda row: row.order.provider.name)
    term = fields.Function(lambda row: TermOut().dump(row.order.term))
    expected_students = fields.Function(lambda row: row.order.expected_students)
    evaluation_opens_on = fields.Function(lambda row: row.window[0].isoformat())
    evaluation_closes_on = fields.Function(lambda row: row.window[1].isoformat())
    evaluation_open = fields.Boolean(attribute="is_open")
    evaluation = fields.Nested(EvaluationOut, allow_none=True)
    codes_issued = fields.Integer(attribute="issued")
    codes_answered = fields.Integer(attribute="answered")


class SurveyCodesOut(BaseSchema):
    order_id = fields.Integer()
    expires_on = fields.Date()
    codes = fields.List(fields.String(), metadata={"description": "问卷码（仅此一次返回，系统只保存其摘要）"})
    links = fields.List(fields.String())


class SurveyInfoOut(BaseSchema):
    project = fields.String()
    provider = fields.String()
    term = fields.String()
    expires_on = fields.Date()


class SurveyDoneOut(BaseSchema):
    message = fields.String()


class StandingOut(BaseSchema):
    term = fields.Function(lambda s: TermOut().dump(s.term))
    project_id = fields.Integer()
    project = fields.Function(lambda s: s.project.title)
    provider_id = fields.Integer()
    provider = fields.Function(lambda s: s.provider.name)
    parent_responses = fields.Integer()
    parent_rate = fields.Decimal(as_string=True, allow_none=True)
    school_responses = fields.Integer()
    school_rate = fields.Decimal(as_string=True, allow_none=True)
    parent_weight = fields.Decimal(as_string=True)
    rate = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "按本市家长权重合成的满意率"})
    no_show_rate = fields.Decimal(as_string=True, allow_none=True,
                                  metadata={"description": "未到岗率（无闸机记录时为空）"})
    extra_fee_count = fields.Integer()
    not_voluntary_count = fields.Integer()
    level = labelled("level")
    outcome = fields.String(allow_none=True, metadata={"description": "warning 警告 / delisting 移出 / 空"})


class StandingPageOut(PageOut):
    items = fields.List(fields.Nested(StandingOut))


class QualityCommentOut(BaseSchema):
    term = fields.Function(lambda c: c[0])
    project = fields.Function(lambda c: c[1])
    source = fields.Function(lambda c: c[2])
    text = fields.Function(lambda c: c[3])


class ProviderQualityOut(BaseSchema):
    standings = fields.List(fields.Nested(StandingOut))
    comments = fields.List(fields.Nested(QualityCommentOut),
                           metadata={"description": "匿名意见（不含学校、订单和日期）"})


"""Review decisions and verification: input (HTML forms and JSON alike) and output."""
from marshmallow import fields, validate

from registry.applications.schemas import KINDS, ApplicationSummaryOut
from registry.core.schema import BaseSchema

STAGES = ["county_review", "city_review"]
SORTS = ["oldest", "newest"]


# ---------------------------------------------------------------- input

class QueueArgs(BaseSchema):
    stage = fields.String(load_default=None, validate=validate.OneOf(STAGES, error="审核阶段应为县级初审或市级复审"),
                          metadata={"enum": STAGES, "description": "只看某一审核阶段"})
    kind = fields.String(load_default=None,
                         validate=validate.OneOf(KINDS, error="申报类型应为准入、年审、变更或恢复之一"),
                         metadata={"enum": KINDS})
    q = fields.String(load_default=None, validate=validate.Length(max=64, error="机构名称不能超过 64 个字"),
                      metadata={"description": "按机构名称查找"})
    over = fields.Integer(load_default=None,
                          validate=validate.Range(min=1, max=60, error="等待工作日数应在 1 到 60 之间"),
                          metadata={"description": "只看已等待超过这么多个工作日的申报"})
    sort = fields.String(load_default="oldest", validate=validate.OneOf(SORTS, error="排序应为等待最久或最新提交"),
                         metadata={"enum": SORTS, "description": "oldest 等待最久在前（默认），newest 最新提交在前"})


class VersionIn(BaseSchema):
    version = fields.Integer(load_default=None, allow_none=True,
                             metadata={"description": "审核员看到的申报版本号；申报已被他人处理（版本已变）时 409"})


class PassIn(VersionIn):
    note = fields.String(load_default="", validate=validate.Length(max=1000, error="初审意见不能超过 1000 个字"))


class ReturnIn(VersionIn):
    comments = fields.Dict(keys=fields.String(), values=fields.String(
        validate=validate.Length(max=2000, error="每条修改意见不能超过 2000 个字")), load_default=dict,
        metadata={"description": "逐项修改意见：键为审核项，如 organisation:name、doc:12、person:3、project:5"})
    general = fields.String(load_default="", validate=validate.Length(max=2000, error="总体意见不能超过 2000 个字"))


class RejectIn(VersionIn):
    reason = fields.String(load_default="", validate=validate.Length(max=2000, error="理由不能超过 2000 个字"),
                           metadata={"description": "不予通过的理由（必填）"})


class ApproveIn(VersionIn):
    batch_id = fields.Integer(load_default=None, allow_none=True,
                              metadata={"description": "加入本市哪个待公示批次；不填则新建批次"})


class VerifyDocumentIn(BaseSchema):
    application_id = fields.Integer(required=True, error_messages={"required": "请指明在审核哪一份申报时核验"})
    decision = fields.String(required=True,
                             validate=validate.OneOf(["verified", "rejected"], error="请选择核验通过或驳回"),
                             error_messages={"required": "请选择核验通过或驳回"})
    note = fields.String(load_default="", validate=validate.Length(max=500, error="说明不能超过 500 个字"))


class VerifyCheckIn(BaseSchema):
    application_id = fields.Integer(required=True, error_messages={"required": "请指明在审核哪一份申报时核验"})
    decision = fields.String(required=True, validate=validate.OneOf(["verified", "adverse"],
                                                                     error="请选择核验无误或标记为有不良记录"),
                             error_messages={"required": "请选择核验无误或标记为有不良记录"})
    note = fields.String(load_default="", validate=validate.Length(max=500, error="说明不能超过 500 个字"))


# ---------------------------------------------------------------- output

class ProviderBriefOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    county = fields.Function(lambda p: p.county.name)


class ApplicationStateOut(ApplicationSummaryOut):
    """An application's kind, state and version (send the version back with a decision), and its provider."""

    provider = fields.Nested(ProviderBriefOut)


class QueueRowOut(BaseSchema):
    application = fields.Nested(ApplicationStateOut)
    projects = fields.Function(lambda r: [link.project.title for link in r.application.projects])
    waiting_days = fields.Integer(metadata={"description": "自提交起的自然日"})
    waiting_working_days = fields.Integer(metadata={"description": "自提交起的工作日"})
    decision_problem = fields.String(allow_none=True, metadata={"description": "您不能作出决定的原因（可以时为空）"})
    batch = fields.String(allow_none=True, metadata={"description": "已纳入的未发布批次"})


class DiffOut(BaseSchema):
    area = fields.String()
    item_key = fields.String()
    item = fields.String()
    field = fields.String()
    before = fields.String()
    after = fields.String()


class CommentOut(BaseSchema):
    id = fields.Integer(attribute="comment.id")
    snapshot_number = fields.Integer(attribute="comment.snapshot_number")
    item_key = fields.String(attribute="key")
    item = fields.String()
    text = fields.String(attribute="comment.text")
    author = fields.String()
    created_at = fields.DateTime(attribute="comment.created_at")


class VerificationOut(BaseSchema):
    id = fields.Integer()
    verification_status = fields.Function(lambda o: o.verification_status.value)
    verification_note = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)


class CheckVerificationOut(VerificationOut):
    result = fields.Function(lambda c: c.result.value)


class ReviewOut(BaseSchema):
    application = fields.Nested(ApplicationStateOut)
    snapshot_number = fields.Integer()
    snapshot = fields.Dict(metadata={"description": "最近一次提交时冻结的内容"})
    diff = fields.List(fields.Nested(DiffOut), metadata={"description": "与上一次提交相比的变化"})
    comments = fields.List(fields.Nested(CommentOut), metadata={"description": "历次退回修改的逐项意见"})
    decision_problem = fields.String(allow_none=True)
    decisions = fields.List(fields.String(), metadata={"description": "当前阶段可作出的决定"})
    documents = fields.List(fields.Nested(VerificationOut), metadata={"description": "材料的当前核验状态"})
    checks = fields.List(fields.Nested(CheckVerificationOut), metadata={"description": "人员查询的当前核验状态"})
    unverified = fields.List(fields.String(), metadata={
        "description": "尚未核验通过的材料和查询记录（未核验、已驳回或有不良记录）；不为空时不能报送或同意纳入公示"})
    batch = fields.String(allow_none=True)

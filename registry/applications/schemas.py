"""Application input (HTML forms and JSON alike) and output."""
from marshmallow import fields, validate

from registry.core.schema import BaseSchema


class ProjectIdsIn(BaseSchema):
    """The projects to apply for. Nothing else can be set: status, provider and reviewers belong to the services."""

    project_ids = fields.List(fields.Integer(), required=True,
                              validate=validate.Length(min=1, error="请至少选择一个申报项目"),
                              error_messages={"required": "请至少选择一个申报项目"})


KINDS = ["admission", "annual", "change", "reinstatement"]


class CreateApplicationIn(ProjectIdsIn):
    """A new application: its kind (准入 admission, 年审 annual, 变更 change, 恢复 reinstatement) and projects."""

    kind = fields.String(load_default="admission",
                         validate=validate.OneOf(KINDS, error="申报类型应为准入、年审、变更或恢复之一"),
                         metadata={"enum": KINDS, "description": "申报类型；只能选择本机构当前可用的类型"})


class SubmitIn(BaseSchema):
    """Submitting takes no fields; anything sent is refused rather than ignored."""


class WithdrawIn(BaseSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=500, error="撤回理由不能超过 500 个字"))


class ProjectRefOut(BaseSchema):
    id = fields.Integer(attribute="project.id")
    title = fields.String(attribute="project.title")


class ApplicationSummaryOut(BaseSchema):
    id = fields.Integer()
    kind = fields.Function(lambda a: a.kind.value)
    kind_label = fields.String()
    status = fields.Function(lambda a: a.status.value)
    status_label = fields.String()
    version = fields.Integer()
    projects = fields.List(fields.Nested(ProjectRefOut))
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)


class ApplicationOut(ApplicationSummaryOut):
    snapshot_number = fields.Function(lambda a: a.latest_snapshot.number if a.latest_snapshot else None,
                                      allow_none=True)
    snapshot = fields.Function(lambda a: a.latest_snapshot.data if a.latest_snapshot else None, allow_none=True,
                               metadata={"description": "最近一次提交时冻结的申报内容（未提交时为空）"})


class MissingOut(BaseSchema):
    area = fields.String()
    key = fields.String()
    message = fields.String()


class ChecklistOut(BaseSchema):
    application_id = fields.Integer()
    status = fields.String()
    ready = fields.Boolean()
    missing = fields.List(fields.Nested(MissingOut))


class KindOptionOut(BaseSchema):
    kind = fields.Function(lambda o: o.kind.value)
    label = fields.String()
    allowed = fields.Function(lambda o: o.problem is None)
    problem = fields.String(allow_none=True, metadata={"description": "当前不能发起该类型申报的原因"})
    project_ids = fields.Function(lambda o: sorted(o.project_ids) if o.project_ids is not None else None,
                                  allow_none=True, metadata={"description": "该类型只能选择的项目（为空表示不限）"})
    hint = fields.String()

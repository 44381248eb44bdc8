"""Release batches, publicity (公示) and objections: input (HTML forms and
JSON alike) and output. Public output schemas list only what the public may see
(docs/domain.md "What the public sees")."""
from marshmallow import fields, validate

from registry.batches import queries, services
from registry.core.schema import BaseSchema
from registry.projects.schemas import ProjectOut

OUTCOMES = ["return", "reject"]
# What the public sees of a project (docs/domain.md "What the public sees"): category, stage, level and price,
# besides its title.
PUBLIC_PROJECT_FIELDS = ("title", "category", "category_label", "stages", "stage_labels", "level", "level_label",
                         "price")


# ---------------------------------------------------------------- input

class BatchCreateIn(BaseSchema):
    """A new draft batch for the reviewer's city; optionally filled at once with applications at city review."""

    application_ids = fields.List(fields.Integer(), load_default=list,
                                  metadata={"description": "同时加入新批次的申报 id（须处于市级复审阶段）"})


class BatchItemIn(BaseSchema):
    application_id = fields.Integer(required=True, error_messages={"required": "请选择要加入批次的申报"})


class EmptyIn(BaseSchema):
    """Actions that take no fields (start publicity, publish); anything sent is refused rather than ignored."""


class ObjectionIn(BaseSchema):
    """An objection under a real name. Missing name or contact is refused by the service with its own message."""

    application_id = fields.Integer(load_default=None, allow_none=True,
                                    metadata={"description": "被提出异议的机构在本批次中的申报 id"})
    name = fields.String(load_default="", validate=validate.Length(max=64, error="姓名不能超过 64 个字符"),
                         metadata={"description": "异议人真实姓名"})
    contact = fields.String(load_default="", validate=validate.Length(max=128, error="联系方式不能超过 128 个字符"),
                            metadata={"description": "联系电话或电子邮箱"})
    content = fields.String(load_default="", validate=validate.Length(max=2000, error="异议内容不能超过 2000 个字"),
                            metadata={"description": "异议内容（不少于 10 个字）"})


class ResolveIn(BaseSchema):
    upheld = fields.Boolean(required=True, error_messages={"required": "请选择异议是否成立",
                                                            "invalid": "请选择异议是否成立"})
    resolution = fields.String(load_default="", validate=validate.Length(max=2000, error="处理意见不能超过 2000 个字"),
                               metadata={"description": "处理意见；异议不成立时即为理由"})
    outcome = fields.String(load_default="return",
                            validate=validate.OneOf(OUTCOMES,
                                                    error="处理结果应为退回修改（return）或不予通过（reject）"),
                            metadata={"enum": OUTCOMES,
                                      "description": "异议成立时该申报的去向：return 退回修改，reject 不予通过"})


# ---------------------------------------------------------------- reviewer output

class PublicProjectOut(ProjectOut):
    """A project as the public sees it: the project schema restricted to PUBLIC_PROJECT_FIELDS."""

    class Meta:
        fields = PUBLIC_PROJECT_FIELDS


class ProjectBriefOut(ProjectOut):
    class Meta:
        fields = ("id",) + PUBLIC_PROJECT_FIELDS


class BatchItemOut(BaseSchema):
    application_id = fields.Integer()
    application_status = fields.Function(lambda i: i.application.status.value)
    application_status_label = fields.Function(lambda i: i.application.status_label)
    provider_id = fields.Function(lambda i: i.application.provider_id)
    provider_name = fields.Function(lambda i: i.application.provider.name)
    projects = fields.Function(
        lambda i: ProjectBriefOut(many=True).dump([link.project for link in i.application.projects]))
    removed_at = fields.DateTime(allow_none=True)
    removed_reason = fields.String(allow_none=True)


class BatchSummaryOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    city = fields.Function(lambda b: {"id": b.city.id, "code": b.city.code, "name": b.city.name})
    issuer = fields.String()
    status = fields.Function(lambda b: b.status.value)
    status_label = fields.String()
    version = fields.Integer()
    publicity_start = fields.Date(allow_none=True)
    publicity_end = fields.Date(allow_none=True)
    calendar_warning = fields.String(allow_none=True)
    published_on = fields.Date(allow_none=True)


class BatchOut(BatchSummaryOut):
    items = fields.Method("_items")
    open_objections = fields.Method("_open_objections")
    publish_problem = fields.Method("_publish_problem", metadata={"description": "不能发布的原因；可以发布时为空"})

    def _items(self, batch):
        return BatchItemOut(many=True).dump(batch.items)

    def _open_objections(self, batch):
        return queries.open_objection_count(batch)

    def _publish_problem(self, batch):
        return services.publish_problem(batch)


class ObjectionOut(BaseSchema):
    id = fields.Integer()
    batch_id = fields.Integer()
    application_id = fields.Integer()
    provider_name = fields.Function(lambda o: o.application.provider.name)
    name = fields.String()
    contact = fields.String()
    content = fields.String()
    status = fields.Function(lambda o: o.status.value)
    status_label = fields.String()
    version = fields.Integer()
    resolution = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


# ---------------------------------------------------------------- public output (no login)

class PublicProviderOut(BaseSchema):
    """Public fields of a provider: name, USCC, type, county (never contacts, people or files)."""

    application_id = fields.Integer(metadata={"description": "提出异议时使用"})
    name = fields.String()
    uscc = fields.String()
    org_type = fields.String()
    org_type_label = fields.String()
    county = fields.String()
    projects = fields.List(fields.Nested(PublicProjectOut))


class PublicBatchOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    city = fields.String()
    issuer = fields.String()
    publicity_start = fields.Date()
    publicity_end = fields.Date()
    open_for_objections = fields.Boolean()
    providers = fields.List(fields.Nested(PublicProviderOut))


class ObjectionReceiptOut(BaseSchema):
    id = fields.Integer()
    batch_id = fields.Integer()
    status = fields.Function(lambda o: o.status.value)
    status_label = fields.String()
    created_at = fields.DateTime()

"""Public whitelist: query arguments (one schema for the HTML pages, the exports and the JSON API) and
output schemas with explicit field lists. Nothing here can carry a phone number, an ID number or a check."""
from marshmallow import fields, pre_load, validate

from registry.core import clock
from registry.core.schema import BaseSchema
from registry.projects.models import CATEGORY_LABELS, LEVEL_LABELS, STAGE_LABELS, Category, Level, Stage
from registry.whitelist.models import CHANGE_KIND_LABELS, ENTRY_STATUS_LABELS, ChangeKind
from registry.whitelist.queries import county_names

CATEGORY_CHOICES = [(c.value, label) for c, label in CATEGORY_LABELS.items()]
STAGE_CHOICES = [(s.value, label) for s, label in STAGE_LABELS.items()]
LEVEL_CHOICES = [(lv.value, label) for lv, label in LEVEL_LABELS.items()]
STATUS_CHOICES = [("active", ENTRY_STATUS_LABELS["active"]), ("suspended", ENTRY_STATUS_LABELS["suspended"])]
KIND_CHOICES = [(k.value, CHANGE_KIND_LABELS[k.value]) for k in ChangeKind]

_REGION_CODE = validate.Regexp(r"^[0-9A-Z]{6}$", error="行政区划代码应为 6 位")


def _choice(values, label):
    return fields.String(validate=validate.OneOf(values, error=f"{label}无效"))


class _DropEmpty(BaseSchema):
    @pre_load
    def drop_empty(self, data, **_kwargs):
        # An unselected <select> sends "": treat it as "no filter".
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class _Paged(_DropEmpty):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000, error="页码无效"))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100, error="每页条数应在 1–100 之间"))


class WhitelistFilterIn(_DropEmpty):
    city = fields.String(validate=_REGION_CODE, metadata={"description": "设区市代码，如 360100"})
    county = fields.String(validate=_REGION_CODE, metadata={"description": "县（市、区）代码，如 360113"})
    category = _choice([c.value for c in Category], "活动类别")
    stage = _choice([s.value for s in Stage], "学段")
    level = _choice([lv.value for lv in Level], "层次")
    status = _choice(["active", "suspended"], "状态")
    q = fields.String(validate=validate.Length(max=50, error="关键词不能超过 50 个字"),
                      metadata={"description": "机构名称、项目名称中的任意文字，或完整的统一社会信用代码"})


class WhitelistQueryIn(WhitelistFilterIn, _Paged):
    pass


class WhitelistChangesQueryIn(_Paged):
    city = fields.String(validate=_REGION_CODE)
    kind = _choice([k.value for k in ChangeKind], "变更类型")


# ---------------------------------------------------------------- output

def _day(value):
    return value.isoformat() if value is not None else None


class ProviderPublicOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    uscc = fields.String()
    org_type = fields.Function(lambda p: p.org_type.value)
    org_type_label = fields.String()
    county = fields.Function(lambda p: p.county.name)


class ProjectPublicOut(BaseSchema):
    title = fields.String()
    category = fields.Function(lambda p: p.category.value)
    category_label = fields.String()
    stages = fields.Function(lambda p: [s.value for s in p.stages])
    stage_labels = fields.List(fields.String())
    level = fields.Function(lambda p: p.level.value)
    level_label = fields.String()
    price = fields.Function(lambda p: f"{p.price:.2f}", metadata={"description": "元/人·课时"})
    minutes_per_session = fields.Integer(metadata={"description": "每次时长（分钟）"})  # issue 15
    sessions_per_term = fields.Integer(metadata={"description": "每学期次数"})


class BatchPublicOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    issuer = fields.String()
    published_on = fields.Function(lambda b: _day(b.published_on))


class WhitelistEntryOut(BaseSchema):
    id = fields.Integer()
    city = fields.Function(lambda e: e.batch.city.name)
    city_code = fields.Function(lambda e: e.batch.city.code)
    counties = fields.Function(county_names)
    provider = fields.Nested(ProviderPublicOut)
    project = fields.Nested(ProjectPublicOut)
    valid_from = fields.Function(lambda e: _day(e.valid_from))
    valid_until = fields.Function(lambda e: _day(e.valid_until))
    batch = fields.Nested(BatchPublicOut)
    status = fields.Function(lambda e: e.effective_status(clock.today()).value)
    status_label = fields.Function(lambda e: ENTRY_STATUS_LABELS[e.effective_status(clock.today()).value])
    # issue 16: the project's satisfaction rate, only from a term with at least 10 answers (else null)
    satisfaction_rate = fields.Function(
        lambda e: str(e.satisfaction[0]) if getattr(e, "satisfaction", None) else None,
        metadata={"description": "项目最近一个学期的满意率（评价不足 10 份时为空）"})


def page_of(item_schema, name):
    """A page of items with its total (registry.core.pagination.Page)."""
    return BaseSchema.from_dict({"items": fields.List(fields.Nested(item_schema)), "total": fields.Integer(),
                                 "page": fields.Integer(), "per_page": fields.Integer(), "pages": fields.Integer()},
                                name=name)


WhitelistPageOut = page_of(WhitelistEntryOut, "WhitelistPageOut")


class WhitelistProviderEntryOut(BaseSchema):
    """Dumps queries.entry_view(entry, day): the status is the effective one on that day."""
    project = fields.Nested(ProjectPublicOut)
    counties = fields.List(fields.String())
    valid_from = fields.String()
    valid_until = fields.String()
    batch = fields.Nested(BatchPublicOut)
    status = fields.String()
    status_label = fields.String()


class WhitelistProviderOut(BaseSchema):
    provider = fields.Nested(ProviderPublicOut)
    entries = fields.List(fields.Nested(WhitelistProviderEntryOut),
                          metadata={"description": "目前在有效期内的项目（含暂停）"})
    past_entries = fields.List(fields.Nested(WhitelistProviderEntryOut),
                               metadata={"description": "已移出或已过期的项目"})
    certificate_url = fields.String(allow_none=True)


class WhitelistChangeOut(BaseSchema):
    happened_on = fields.Function(lambda c: _day(c.happened_on))
    kind = fields.Function(lambda c: c.kind.value)
    kind_label = fields.String()
    reason_category = fields.String(allow_none=True)
    city = fields.Function(lambda c: c.entry.batch.city.name)
    provider_id = fields.Function(lambda c: c.entry.provider.id)
    provider = fields.Function(lambda c: c.entry.provider.name)
    uscc = fields.Function(lambda c: c.entry.provider.uscc)
    project = fields.Function(lambda c: c.entry.project.title)
    appeal_pending = fields.Function(lambda c: getattr(c, "appeal_pending", False),
                                     metadata={"description": "机构已对该决定提出申诉，复核中（原决定仍然有效）"})


WhitelistChangePageOut = page_of(WhitelistChangeOut, "WhitelistChangePageOut")


class AuditHeadOut(BaseSchema):
    """One closed day's audit chain head (registry.audit.anchors): the format `audit-verify --against` reads."""
    date = fields.String(metadata={"description": "日期（北京时间，YYYY-MM-DD）"})
    seq = fields.Integer(metadata={"description": "当日最后一条审计记录的序号"})
    hash = fields.String(metadata={"description": "该条记录的链式哈希（SHA-256，64 位十六进制）"})




class CertificateVerifyOut(BaseSchema):
    status = fields.String(metadata={"description": "valid | partly_suspended | suspended | delisted | expired"})
    status_label = fields.String()
    checked_on = fields.String()
    provider = fields.Nested(ProviderPublicOut)
    entries = fields.List(fields.Nested(WhitelistProviderEntryOut))

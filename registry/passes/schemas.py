"""Schemas for entry passes and the gate (issue 14). Output for the public verification page lists only: valid
or not, the masked name, the provider, the project and the school."""
from marshmallow import fields, validate

from registry.core.schema import BaseSchema
from registry.passes import services
from registry.passes.models import ScanDirection, ScanResult

RESULTS = [r.value for r in ScanResult]


def _reason(what):
    return fields.String(required=True, error_messages={"required": f"{what}须填写原因"},
                         validate=[validate.Length(max=200, error="原因不能超过 200 个字"),
                                   validate.Regexp(r"[\s\S]*\S", error=f"{what}须填写原因")])


# ---------------------------------------------------------------- input

class ScanIn(BaseSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=1000, error="请扫描二维码或输入通行码"),
                         metadata={"description": "扫描到的二维码内容，或手工输入的 8 位通行码"})


class SyncItemIn(BaseSchema):
    client_id = fields.String(required=True,
                              validate=validate.Length(min=8, max=64, error="client_id 应为 8–64 个字符"))
    text = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    scanned_at = fields.AwareDateTime(required=True, metadata={"description": "离线扫码时间（ISO 8601，带时区）"})
    offline_result = fields.String(required=True,
                                   validate=validate.OneOf(RESULTS, error="离线判定应为 allowed 或 denied"))


class SyncIn(BaseSchema):
    scans = fields.List(fields.Nested(SyncItemIn), required=True,
                        validate=validate.Length(max=500, error="每次最多同步 500 条"))


class SchoolPassIn(BaseSchema):
    person_id = fields.Integer(required=True)
    weekdays = fields.List(fields.Integer(), load_default=list,
                           metadata={"description": "入校日：0 = 周一 … 6 = 周日（至少一天）"})
    time_slot = fields.String(required=True, validate=validate.Length(max=32),
                              metadata={"description": "时段，如 16:30-17:30"})
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)


class RevokeIn(BaseSchema):
    reason = _reason("撤销通行证")


class PhotoIn(BaseSchema):
    consent_on = fields.Date(required=True, error_messages={"required": "上传照片须本人同意，请填写本人同意的日期"})


class GateKeeperIn(BaseSchema):
    username = fields.String(required=True, validate=validate.Length(min=3, max=64))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True)


class NoShowQuery(BaseSchema):
    start = fields.Date(load_default=None)
    end = fields.Date(load_default=None)


# ---------------------------------------------------------------- output

class PassOut(BaseSchema):
    id = fields.Integer()
    kind = fields.Function(lambda p: p.kind.value)
    kind_label = fields.String()
    code = fields.Function(lambda p: services.format_code(p.code))
    person_id = fields.Integer()
    name = fields.Function(lambda p: p.person.name)
    id_masked = fields.Function(lambda p: p.person.id_masked)
    provider = fields.Function(lambda p: p.order.provider.name if p.order else None, allow_none=True)
    project = fields.Function(lambda p: p.order.project.title if p.order else None, allow_none=True)
    school_id = fields.Integer()
    school = fields.Function(lambda p: p.school.name)
    order_id = fields.Integer(allow_none=True)
    weekdays = fields.List(fields.Integer())
    weekdays_text = fields.Function(lambda p: services.weekdays_text(p.weekdays))
    time_slot = fields.String()
    valid_from = fields.Date()
    valid_until = fields.Date()
    revoked = fields.Function(lambda p: p.revoked_at is not None)
    revoked_reason = fields.String(allow_none=True)
    key_id = fields.String()
    qr_text = fields.Function(lambda p: services.qr_text(p), metadata={"description": "二维码内容（公开核验地址）"})
    phone_link = fields.Function(lambda p: f"/pass/{p.link_key}", metadata={"description": "本人手机查看页（凭链接）"})


class ScanPassOut(BaseSchema):
    id = fields.Integer()
    name = fields.Function(lambda p: p.person.name)
    id_masked = fields.Function(lambda p: p.person.id_masked)
    provider = fields.Function(lambda p: p.order.provider.name if p.order else "（学校自聘）")
    project = fields.Function(lambda p: p.order.project.title if p.order else (p.person.engagement_label or ""))
    school = fields.Function(lambda p: p.school.name)
    session = fields.Function(lambda p: services.session_text(p))
    photo_url = fields.Function(lambda p: getattr(p, "photo_url", None), allow_none=True)


class DecisionOut(BaseSchema):
    allowed = fields.Boolean()
    result = fields.Function(lambda d: d.result.value)
    result_label = fields.Function(lambda d: d.result.label)
    direction = fields.Function(lambda d: ScanDirection(d.direction).value)
    direction_label = fields.Function(lambda d: ScanDirection(d.direction).label)
    reasons = fields.List(fields.String())
    entry_pass = fields.Nested(ScanPassOut, allow_none=True, data_key="pass")
    scan_id = fields.Integer(allow_none=True)


class SyncResultOut(BaseSchema):
    client_id = fields.String()
    duplicate = fields.Boolean()
    result = fields.String(allow_none=True)
    reasons = fields.List(fields.String())
    alert = fields.Boolean(metadata={"description": "离线放行而实时规则拒绝：已通知学校和县区"})


class KitOut(BaseSchema):
    school_id = fields.Integer()
    keys = fields.Dict(keys=fields.String(), values=fields.String(),
                       metadata={"description": "{key id: Ed25519 公钥（32 字节，base64url）}"})
    deny = fields.List(fields.Integer(), metadata={"description": "离线时必须拒绝的通行证 id"})
    window_minutes = fields.Integer()
    generated_at = fields.DateTime()


class DenyListOut(BaseSchema):
    school_id = fields.Integer()
    deny = fields.List(fields.Integer(), metadata={"description": "离线时必须拒绝的通行证 id"})
    generated_at = fields.DateTime()


class OnSiteOut(BaseSchema):
    entry_pass = fields.Nested(ScanPassOut, data_key="pass")
    since = fields.DateTime()


class NoShowOut(BaseSchema):
    entry_pass = fields.Nested(ScanPassOut, data_key="pass")
    day = fields.Date()


class PublicPassOut(BaseSchema):
    """The public verification answer: nothing else (no ID number, phone or check)."""
    valid = fields.Boolean()
    name = fields.String()
    provider = fields.String()
    project = fields.String()
    school = fields.String()

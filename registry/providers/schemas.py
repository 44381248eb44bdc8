"""Input and output schemas for registration, profile, colleagues and documents (HTML forms and JSON alike)."""
from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from registry.auth.schemas import RegionRefOut
from registry.core.errors import ValidationFailed
from registry.core.schema import BaseSchema
from registry.providers import services
from registry.providers.models import ORG_TYPE_LABELS, VERIFICATION_LABELS, DocType, OrgType

ORG_TYPES = [t.value for t in OrgType]
DOC_TYPES = [t.value for t in DocType]
# A mobile number (11 digits) or a landline with area code (0791-86000000, extension allowed).
PHONE = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$"


def _length(low, high, label):
    return validate.Length(min=low, max=high, error=f"{label}长度应为 {low}–{high} 个字符")


def _uscc(value):
    try:
        services.validate_uscc(value)
    except ValidationFailed as exc:
        raise ValidationError(exc.message) from exc


class ProfileIn(BaseSchema):
    """What a provider may change about itself (not its USCC or registered county)."""

    name = fields.String(required=True, validate=_length(2, 128, "机构名称"))
    org_type = fields.String(required=True, validate=validate.OneOf(ORG_TYPES, error="机构类型无效"),
                             metadata={"enum": ORG_TYPES})
    legal_representative = fields.String(required=True, validate=_length(1, 64, "法定代表人"))
    contact_name = fields.String(required=True, validate=_length(1, 64, "联系人"))
    contact_phone = fields.String(required=True, validate=validate.Regexp(
        PHONE, error="联系电话应为 11 位手机号或带区号的固定电话（如 0791-86000000）"))
    address = fields.String(required=True, validate=_length(2, 255, "地址"))
    service_county_ids = fields.List(fields.Integer(), load_default=list,
                                     metadata={"description": "服务的县（市、区）id，须与注册地同属一个设区市"})
    description = fields.String(load_default="",
                                validate=validate.Length(max=2000, error="机构简介不能超过 2000 个字符"))


class ProfilePatchIn(ProfileIn):
    """PATCH: any subset of the profile fields."""

    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class RegisterIn(ProfileIn):
    uscc = fields.String(required=True, validate=_uscc, metadata={"description": "统一社会信用代码（18 位）"})
    county_id = fields.Integer(required=True, metadata={"description": "注册地所在县（市、区）的 id"})
    admin_username = fields.String(required=True)
    admin_display_name = fields.String(required=True, validate=_length(1, 64, "管理员姓名"))
    admin_password = fields.String(required=True, load_only=True)
    admin_email = fields.Email(load_default=None)


class RegisterFormIn(RegisterIn):
    """The HTML form also asks for the password twice."""

    admin_password_confirm = fields.String(required=True, load_only=True)

    @validates_schema
    def _passwords_match(self, data, **_kwargs):
        if data.get("admin_password") != data.get("admin_password_confirm"):
            raise ValidationError("两次输入的密码不一致", "admin_password_confirm")


class ColleagueIn(BaseSchema):
    username = fields.String(required=True)
    display_name = fields.String(required=True, validate=_length(1, 64, "姓名"))
    email = fields.Email(load_default=None)
    password = fields.String(required=True, load_only=True, metadata={"description": "初始密码，首次登录须修改"})


class DocumentMetaIn(BaseSchema):
    """A document's metadata; a blank expiry date means the document is permanent."""

    title = fields.String(load_default="", validate=validate.Length(max=128, error="材料名称不能超过 128 个字符"))
    number = fields.String(required=True, validate=_length(1, 64, "证照编号"))
    issuer = fields.String(required=True, validate=_length(1, 128, "发证机关"))
    issue_date = fields.Date(required=True)
    expiry_date = fields.Date(load_default=None, allow_none=True, metadata={"description": "留空表示长期有效"})

    @pre_load
    def _blank_is_none(self, data, **_kwargs):
        data = dict(data)
        for key in ("expiry_date", "title"):
            if key in data and (data[key] is None or str(data[key]).strip() == ""):
                data.pop(key)
        return data


class DocumentIn(DocumentMetaIn):
    doc_type = fields.String(required=True, validate=validate.OneOf(DOC_TYPES, error="材料类型无效"),
                             metadata={"enum": DOC_TYPES})


def _file_field():
    return Upload(required=True, metadata={"description": "PDF、JPG 或 PNG，按文件内容识别"})


class DocumentUploadIn(DocumentIn):
    """The multipart body of POST /api/v1/providers/me/documents."""

    file = _file_field()


class DocumentReplaceIn(DocumentMetaIn):
    """The multipart body of a replacement: the type is the replaced document's."""

    file = _file_field()


# ---------------------------------------------------------------- output

class ProviderOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    uscc = fields.String()
    org_type = fields.Function(lambda p: p.org_type.value)
    org_type_label = fields.Function(lambda p: ORG_TYPE_LABELS[p.org_type])
    legal_representative = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String()
    address = fields.String()
    county = fields.Nested(RegionRefOut)
    city = fields.Nested(RegionRefOut)
    service_counties = fields.Function(lambda p: RegionRefOut(many=True).dump([a.county for a in p.service_areas]))
    description = fields.String()
    pending_changes = fields.Dict(allow_none=True, metadata={
        "description": "已列入白名单的机构：机构名称、类型（name、org_type）的待审修改。上面各字段始终是公布值；"
                       "待审修改须经变更申报审核、公示并发布后生效"})
    pending_message = fields.String(allow_none=True, metadata={"description": "有待审修改时的说明"})
    created_at = fields.DateTime()


class ColleagueOut(BaseSchema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    must_change_password = fields.Boolean()
    disabled = fields.Function(lambda u: u.disabled_at is not None)
    created_at = fields.DateTime()


class RegisteredOut(BaseSchema):
    provider = fields.Nested(ProviderOut)
    admin = fields.Nested(ColleagueOut)


class FileRefOut(BaseSchema):
    id = fields.Integer()
    name = fields.String(attribute="original_name")
    content_type = fields.String()
    size = fields.Integer()
    download_url = fields.Function(lambda f: url_for("files.download", file_id=f.id))


class DocumentOut(BaseSchema):
    id = fields.Integer()
    doc_type = fields.Function(lambda d: d.doc_type.value)
    doc_type_label = fields.String()
    title = fields.String()
    number = fields.String()
    issuer = fields.String()
    issue_date = fields.Date()
    expiry_date = fields.Date(allow_none=True)
    expiry_flag = fields.Function(lambda d: services.expiry_flag(d.expiry_date), allow_none=True,
                                  metadata={"description": "expired、within_7、within_30 或 null"})
    sha256 = fields.String()
    verification_status = fields.Function(lambda d: d.verification_status.value)
    verification_label = fields.Function(lambda d: VERIFICATION_LABELS[d.verification_status])
    verified_at = fields.DateTime(allow_none=True)
    verification_note = fields.String(allow_none=True)
    replaces_id = fields.Integer(allow_none=True)
    superseded_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    file = fields.Nested(FileRefOut)

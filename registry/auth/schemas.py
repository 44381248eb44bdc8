from marshmallow import fields, validate

from registry.auth.roles import Role
from registry.core.schema import BaseSchema

ROLE_CHOICES = [r.value for r in Role]


class LoginIn(BaseSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64, error="用户名长度应为 1–64 个字符"))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128, error="密码长度应为 1–128 个字符"))
    next = fields.String(load_default=None)


class CodeIn(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=6, max=8, error="请输入 6 位动态验证码"))


class ChangePasswordIn(BaseSchema):
    current_password = fields.String(required=True)
    new_password = fields.String(required=True)
    confirm_password = fields.String(required=True)


class UserCreateIn(BaseSchema):
    username = fields.String(required=True)
    display_name = fields.String(required=True,
                                 validate=validate.Length(min=1, max=64, error="姓名长度应为 1–64 个字符"))
    email = fields.Email(load_default=None)
    role = fields.String(required=True, validate=validate.OneOf(ROLE_CHOICES, error="角色无效"))
    region_id = fields.Integer(load_default=None)
    password = fields.String(required=True)


class AssignRoleIn(BaseSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLE_CHOICES, error="角色无效"))
    region_id = fields.Integer(load_default=None)


class ResetPasswordIn(BaseSchema):
    new_password = fields.String(required=True)


class TokenCreateIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64, error="令牌名称长度应为 1–64 个字符"))
    days = fields.Integer(load_default=90, validate=validate.Range(min=1, max=366, error="有效期须在 1 到 366 天之间"))


class TokenOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenCreatedOut(TokenOut):
    token = fields.String(metadata={"description": "明文令牌，仅此一次返回"})


class RegionRefOut(BaseSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class MeOut(BaseSchema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.Function(lambda u: u.role.value)
    role_label = fields.String()
    region = fields.Nested(RegionRefOut, allow_none=True)
    mfa_enrolled = fields.Boolean()

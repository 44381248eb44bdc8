"""Schemas for staff (从业人员): the same input schemas serve the HTML forms, the Excel import and /api/v1.

Output schemas never carry the full ID number; only RevealOut does, for an explicit, audited reveal.
"""
from marshmallow import ValidationError, fields, validate, validates

from registry.core.errors import ValidationFailed
from registry.core.schema import BaseSchema
from registry.people import services
from registry.people.models import (
    CHECK_RESULT_LABELS,
    CHECK_TYPE_LABELS,
    ENGAGEMENT_LABELS,
    GENDER_LABELS,
    QUALIFICATION_LABELS,
    STAFF_ROLE_LABELS,
)
from registry.providers.schemas import FileRefOut  # one file reference shape across the API

GENDER_CHOICES = [g.value for g in GENDER_LABELS]
ROLE_CHOICES = [r.value for r in STAFF_ROLE_LABELS]
CHECK_TYPE_CHOICES = [c.value for c in CHECK_TYPE_LABELS]
CHECK_RESULT_CHOICES = [r.value for r in CHECK_RESULT_LABELS]
QUAL_CHOICES = [q.value for q in QUALIFICATION_LABELS]
ENGAGEMENT_CHOICES = [e.value for e in ENGAGEMENT_LABELS]

PHONE_RULE = validate.Regexp(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
                             error="手机号应为 11 位手机号码（如 13900000000）或带区号的固定电话")


def _one_of(choices, labels, what):
    return validate.OneOf(choices, error=f"{what}应为：" + "、".join(labels))


def _text(max_len, what, required=False, nonempty=None):
    """A text field with a Chinese length rule; `nonempty` (default: same as required) refuses blank text."""
    nonempty = required if nonempty is None else nonempty
    if nonempty:
        rules = [validate.Length(min=1, max=max_len, error=f"{what}长度应为 1–{max_len} 个字符"),
                 validate.Regexp(r"[\s\S]*\S", error=f"{what}不能为空")]
        return fields.String(required=True, validate=rules) if required else fields.String(validate=rules)
    return fields.String(load_default="",
                         validate=validate.Length(max=max_len, error=f"{what}不能超过 {max_len} 个字符"))


# ---------------------------------------------------------------- input

class PersonFields(BaseSchema):
    name = _text(64, "姓名", required=True)
    gender = fields.String(required=True, validate=_one_of(GENDER_CHOICES, GENDER_LABELS.values(), "性别"))
    phone = fields.String(required=True, validate=PHONE_RULE)
    staff_role = fields.String(required=True, validate=_one_of(ROLE_CHOICES, STAFF_ROLE_LABELS.values(), "岗位"))
    specialties = _text(255, "专长")


class PersonIn(PersonFields):
    id_number = fields.String(required=True,
                              metadata={"description": "18 位居民身份证号码；只在创建时提交，之后只返回脱敏值"})

    @validates("id_number")
    def _valid_id(self, value, **_kwargs):
        try:
            services.validate_id_number(value)
        except ValidationFailed as exc:
            raise ValidationError(exc.errors["id_number"]) from exc


class SchoolPersonIn(PersonIn):
    """A person the school engages itself (issue 14): how they come in instead of a provider's post."""

    engagement = fields.String(required=True, validate=_one_of(ENGAGEMENT_CHOICES, ENGAGEMENT_LABELS.values(),
                                                               "人员类别"))
    staff_role = fields.String(load_default="teacher",
                               validate=_one_of(ROLE_CHOICES, STAFF_ROLE_LABELS.values(), "岗位"))


class PersonUpdateIn(BaseSchema):
    """Every field optional (PATCH); the ID number cannot be changed (register the person again instead)."""

    name = _text(64, "姓名", nonempty=True)
    gender = fields.String(validate=_one_of(GENDER_CHOICES, GENDER_LABELS.values(), "性别"))
    phone = fields.String(validate=PHONE_RULE)
    staff_role = fields.String(validate=_one_of(ROLE_CHOICES, STAFF_ROLE_LABELS.values(), "岗位"))
    specialties = fields.String(validate=validate.Length(max=255, error="专长不能超过 255 个字符"))
    engagement = fields.String(validate=_one_of(ENGAGEMENT_CHOICES, ENGAGEMENT_LABELS.values(), "人员类别"),
                               metadata={"description": "仅学校自聘人员"})


class CheckIn(BaseSchema):
    check_type = fields.String(required=True,
                               validate=_one_of(CHECK_TYPE_CHOICES, CHECK_TYPE_LABELS.values(), "查询类型"))
    result = fields.String(required=True, validate=_one_of(CHECK_RESULT_CHOICES, CHECK_RESULT_LABELS.values(), "结果"))
    check_date = fields.Date(required=True)
    valid_until = fields.Date(load_default=None,
                              metadata={"description": "健康证明不填时按所在城市规定（默认 365 天）计算"})
    authority = _text(128, "出具机关", required=True)
    reference_no = _text(64, "文书编号")


class QualificationIn(BaseSchema):
    qual_type = fields.String(required=True, validate=_one_of(QUAL_CHOICES, QUALIFICATION_LABELS.values(), "证书类型"))
    name = _text(128, "证书名称")
    number = _text(64, "证书编号", required=True)
    issuer = _text(128, "发证机关", required=True)
    issue_date = fields.Date(required=True)
    expiry_date = fields.Date(load_default=None)


class ConsentIn(BaseSchema):
    consent_date = fields.Date(required=True)
    note = _text(500, "备注")


class RevealIn(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(
        min=4, max=200, error="查看完整身份证号码须填写理由（4–200 个字）"))


class ClearanceQuery(BaseSchema):
    date = fields.Date(load_default=None, metadata={"description": "YYYY-MM-DD，默认今天"})
    required_qualification = fields.String(
        load_default=None, validate=_one_of(QUAL_CHOICES, QUALIFICATION_LABELS.values(), "证书类型"),
        metadata={"description": "项目要求的资格证书类型；不填时任一有效证书即可"})


# ---------------------------------------------------------------- output

class CheckOut(BaseSchema):
    id = fields.Integer()
    check_type = fields.Function(lambda c: c.check_type.value)
    check_type_label = fields.String()
    result = fields.Function(lambda c: c.result.value)
    result_label = fields.String()
    check_date = fields.Date()
    valid_until = fields.Date(allow_none=True)
    authority = fields.String()
    reference_no = fields.String()
    verification_status = fields.Function(lambda c: c.verification_status.value)
    file = fields.Nested(FileRefOut, allow_none=True)
    created_at = fields.DateTime()


class QualificationOut(BaseSchema):
    id = fields.Integer()
    qual_type = fields.Function(lambda q: q.qual_type.value)
    qual_type_label = fields.String()
    name = fields.String()
    number = fields.String()
    issuer = fields.String()
    issue_date = fields.Date()
    expiry_date = fields.Date(allow_none=True)
    file = fields.Nested(FileRefOut, allow_none=True)


class ConsentOut(BaseSchema):
    id = fields.Integer()
    consent_date = fields.Date()
    note = fields.String()
    file = fields.Nested(FileRefOut)
    created_at = fields.DateTime()


class ExpiringOut(BaseSchema):
    item = fields.String()
    date = fields.Date()


class ClearanceOut(BaseSchema):
    date = fields.Date()
    cleared = fields.Boolean()
    reasons = fields.List(fields.String())
    expiring = fields.List(fields.Nested(ExpiringOut))


class PersonOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    id_masked = fields.String(metadata={"description": "脱敏身份证号码，如 360102********1236"})
    gender = fields.Function(lambda p: p.gender.value)
    gender_label = fields.String()
    phone = fields.String()
    staff_role = fields.Function(lambda p: p.staff_role.value)
    staff_role_label = fields.String()
    specialties = fields.String()
    school_id = fields.Integer(allow_none=True, metadata={"description": "学校自聘人员所属学校；机构人员为 null"})
    engagement = fields.Function(lambda p: p.engagement.value if p.engagement else None, allow_none=True)
    engagement_label = fields.String()
    has_consent = fields.Function(lambda p: services.has_consent(p))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PersonListOut(PersonOut):
    clearance = fields.Nested(ClearanceOut, metadata={"description": "今天的准入情况"})


class PersonDetailOut(PersonListOut):
    checks = fields.List(fields.Nested(CheckOut))
    qualifications = fields.List(fields.Nested(QualificationOut))
    consents = fields.List(fields.Nested(ConsentOut))


class RevealOut(BaseSchema):
    id_number = fields.String(metadata={"description": "完整身份证号码（本次查看已记入审计日志）"})


def clearance_out(result, day):
    """Clearance -> the dict ClearanceOut dumps."""
    return {"date": day, "cleared": result.cleared, "reasons": list(result.reasons),
            "expiring": [{"item": label, "date": when} for label, when in result.expiring]}

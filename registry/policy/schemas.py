"""The city's public-notice settings as the admin's form and any later API load them (issue 19)."""
import re
import string

from marshmallow import ValidationError, fields, validate, validates

from registry.core.schema import BaseSchema

PHONE = re.compile(r"^[0-9][0-9\-]{4,30}$")
PHONE_MESSAGE = "电话只能包含数字和连字符，如 0791-86761234"


def _text(label, size):
    return fields.String(load_default="", validate=validate.Length(max=size, error=f"{label}不能超过 {size} 个字"),
                         metadata={"description": label})


class NoticeSettingsIn(BaseSchema):
    notice_contact = _text("联系人", 64)
    notice_phone = _text("联系电话", 32)
    objection_address = _text("书面异议邮寄地址", 255)
    supervision_phone = _text("监督电话", 32)
    doc_number_pattern = _text("文号格式", 64)

    @validates("notice_phone")
    def _phone(self, value, **_kwargs):
        if value.strip() and not PHONE.match(value.strip()):
            raise ValidationError(PHONE_MESSAGE)

    @validates("supervision_phone")
    def _supervision(self, value, **_kwargs):
        if value.strip() and not PHONE.match(value.strip()):
            raise ValidationError(PHONE_MESSAGE)

    @validates("doc_number_pattern")
    def _pattern(self, value, **_kwargs):
        if not value.strip():
            return
        try:
            names = {name for _text, name, _spec, _conv in string.Formatter().parse(value) if name is not None}
        except ValueError:
            raise ValidationError("文号格式中的花括号不成对") from None
        if names != {"year", "seq"}:
            raise ValidationError("文号格式须包含 {year}（年份）和 {seq}（批次序号），且不能有其他占位符，"
                                  "如 洪教基字〔{year}〕{seq}号")

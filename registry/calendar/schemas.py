"""The working-day calendar's admin forms (HTML only)."""
from marshmallow import fields, validate

from registry.core.schema import BaseSchema


class CalendarDayIn(BaseSchema):
    day = fields.Date(required=True, error_messages={"required": "请填写日期"})
    is_workday = fields.Boolean(required=True, error_messages={"required": "请选择放假或调休上班",
                                                                "invalid": "请选择放假或调休上班"})
    note = fields.String(load_default="", validate=validate.Length(max=64, error="说明不能超过 64 个字符"))


class CalendarDayRefIn(BaseSchema):
    day = fields.Date(required=True, error_messages={"required": "请填写日期"})


class CalendarYearIn(BaseSchema):
    year = fields.Integer(required=True, error_messages={"required": "请填写年份"})
    source = fields.String(load_default="", validate=validate.Length(max=128, error="依据不能超过 128 个字符"))

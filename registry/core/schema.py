"""Schema base: unknown fields are refused, messages are Chinese, integers stay within the database's range,
money has at most two decimals, and HTML forms load through the same schemas."""
import datetime
import decimal
from collections.abc import Mapping

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load

from registry.core.api import INT_MAX, INT_MIN
from registry.core.errors import ValidationFailed
from registry.core.http import UNKNOWN_FIELD
from registry.core.inputs import CONTROL, CONTROL_MESSAGE

fields.Field.default_error_messages = {
    **fields.Field.default_error_messages,
    "required": "此项为必填项",
    "null": "此项不能为空",
    "validator_failed": "取值无效",
}
_CHINESE = {
    fields.String: {"invalid": "应为文本"},
    fields.Integer: {"invalid": "应为整数", "too_large": "数值过大", "out_of_range": f"应为 {INT_MIN} 到 {INT_MAX} 之间的整数"},
    fields.Number: {"invalid": "应为数字", "too_large": "数值过大"},
    fields.Decimal: {"invalid": "应为数字", "special": "应为有效数字"},
    fields.Boolean: {"invalid": "应为是或否"},
    fields.Date: {"invalid": "日期格式应为 YYYY-MM-DD", "format": "日期格式无效"},
    fields.DateTime: {"invalid": "时间格式无效", "format": "时间格式无效"},
    fields.Email: {"invalid": "电子邮箱格式不正确"},
    fields.List: {"invalid": "应为列表"},
    fields.Nested: {"type": "格式无效"},
}
for _cls, _msgs in _CHINESE.items():
    _cls.default_error_messages = {**_cls.default_error_messages, **_msgs}


_integer_validated = fields.Integer._validated


def _bounded_integer(self, value):
    """Every Integer field, in bodies, query strings and forms alike, refuses what no id or count column
    holds (a PostgreSQL integer; SQLite's 64 bits are wider), so 2**31 is a 422 naming the field rather than a
    database error. One rule for the ~120 Integer fields of the schemas, and for those added later;
    registry/core/api.py documents the bounds in the OpenAPI document."""
    number = _integer_validated(self, value)
    if number is not None and not INT_MIN <= number <= INT_MAX:
        raise self.make_error("out_of_range", input=value)
    return number


fields.Integer._validated = _bounded_integer

_datetime_serialize = fields.DateTime._serialize


def _utc_datetime(self, value, attr, obj, **kwargs):
    """The database's datetimes are naive UTC (registry/core/clock.py); the API says so: RFC 3339, which the
    OpenAPI "date-time" format requires, has an offset."""
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return _datetime_serialize(self, value, attr, obj, **kwargs)


fields.DateTime._serialize = _utc_datetime

MONEY_STEP = decimal.Decimal("0.01")
MONEY_LIMIT = decimal.Decimal("100000000")


class Money(fields.Decimal):
    """An amount in yuan with at most two decimals: 0.001 is refused (and never rounded to 0.00, i.e. free)."""

    default_error_messages = {"places": "金额最多保留两位小数", "too_large": "金额过大"}

    def __init__(self, **kwargs):
        kwargs.setdefault("places", 2)
        super().__init__(**kwargs)

    def _validated(self, value):
        places, self.places = self.places, None
        try:
            number = super()._validated(value)
        finally:
            self.places = places
        if number is None:
            return None
        if abs(number) >= MONEY_LIMIT:
            raise self.make_error("too_large", input=value)
        if number != number.quantize(MONEY_STEP):
            raise self.make_error("places", input=value)
        return number.quantize(MONEY_STEP)


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {"unknown": UNKNOWN_FIELD, "type": "请求体格式无效"}

    @pre_load
    def _no_control_characters(self, data, **_kwargs):
        """Requests are checked before any view runs (registry/core/inputs.py); this catches what reaches a
        schema by another way: the rows of an uploaded spreadsheet, a CLI command."""
        if not isinstance(data, Mapping):
            return data
        errors = {}
        for key, value in data.items():
            stack = [value]
            while stack:
                node = stack.pop()
                if isinstance(node, str) and CONTROL.search(node):
                    errors[key] = [f"{key}{CONTROL_MESSAGE}"]
                    break
                if isinstance(node, Mapping):
                    stack.extend([*node.keys(), *node.values()])
                elif isinstance(node, (list, tuple)):
                    stack.extend(node)
        if errors:
            raise ValidationError(errors)
        return data


def load(schema, data):
    """Load data with a schema; raise ValidationFailed with Chinese messages per field."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(_flatten(exc.messages)) from exc


def _flatten(messages, prefix=""):
    out = {}
    for key, value in (messages.items() if isinstance(messages, dict) else [("_schema", messages)]):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = [m if m != UNKNOWN_FIELD else f"{UNKNOWN_FIELD}：{key}" for m in value]
    return out


def form_data(multi=()):
    """The submitted form without the CSRF token; `multi` names fields that carry several values."""
    data = {}
    for key in request.form:
        if key == "csrf_token":
            continue
        data[key] = request.form.getlist(key) if key in multi else request.form.get(key)
    return data


def parse_form(schema, multi=(), drop_empty=True):
    data = form_data(multi)
    if drop_empty:
        data = {k: v for k, v in data.items() if v not in ("", None)}
    return load(schema, data)

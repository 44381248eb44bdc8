"""Schema base: unknown fields are refused, messages are Chinese, integers stay within the database's range,
money has at most two decimals, and HTML forms load through the same schemas."""
import datetime
import decimal
import functools
import numbers
from collections.abc import Mapping

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load

from registry.core.api import INT_MAX, INT_MIN
from registry.core.errors import ValidationFailed
from registry.core.http import UNKNOWN_FIELD
from registry.core.inputs import CONTROL, CONTROL_MESSAGE

# Chinese messages, by the field class that defines the message's key. BaseSchema.on_bind_field gives each
# field of a schema these messages in place of marshmallow's English defaults (messages a field was given by
# its own `error_messages=` stay); marshmallow's classes themselves are left alone.
_CHINESE = {
    fields.Field: {"required": "此项为必填项", "null": "此项不能为空", "validator_failed": "取值无效"},
    fields.String: {"invalid": "应为文本"},
    fields.Integer: {"invalid": "应为整数", "too_large": "数值过大",
                     "out_of_range": f"应为 {INT_MIN} 到 {INT_MAX} 之间的整数"},
    fields.Number: {"invalid": "应为数字", "too_large": "数值过大"},
    fields.Decimal: {"invalid": "应为数字", "special": "应为有效数字"},
    fields.Boolean: {"invalid": "应为是或否"},
    fields.Date: {"invalid": "日期格式应为 YYYY-MM-DD", "format": "日期格式无效"},
    fields.DateTime: {"invalid": "时间格式无效", "format": "时间格式无效"},
    fields.Email: {"invalid": "电子邮箱格式不正确"},
    fields.List: {"invalid": "应为列表"},
    fields.Nested: {"type": "格式无效"},
}


@functools.cache
def _class_messages(cls, chinese):
    """The messages a field of `cls` starts with, as Field.__init__ collects them along the class's MRO;
    with `chinese`, each class's messages are followed by its Chinese ones."""
    messages = {}
    for klass in reversed(cls.__mro__):
        messages.update(vars(klass).get("default_error_messages", {}))
        if chinese:
            messages.update(_CHINESE.get(klass, {}))
    return messages


def _chinese_messages(field):
    """The field's messages in Chinese, except the ones its `error_messages=` argument set. Fields of one class
    with the same messages share one (read-only) dict, computed once."""
    messages = tuple(field.error_messages.items())
    try:
        field.error_messages = _chinese_for(type(field), messages)
    except TypeError:  # an unhashable message
        field.error_messages = _chinese_for.__wrapped__(type(field), messages)


@functools.cache
def _chinese_for(cls, messages):
    english = _class_messages(cls, chinese=False)
    own = {key: msg for key, msg in messages if english.get(key, _ABSENT) != msg}
    return {**_class_messages(cls, chinese=True), **own}


_ABSENT = object()


class _Bounded:
    """The bound every Integer field enforces, in bodies, query strings and forms alike: a value no id or count
    column holds (a PostgreSQL integer; SQLite's 64 bits are wider) is refused with "out_of_range" before the
    field's validators run, so 2**31 is a 422 naming the field rather than a database error. A field
    `pre_load` processor (marshmallow >= 4.3), last after the field's own: it reads the value as the Integer
    field will (booleans and, for a strict field, non-integers are left to the field's "invalid").
    registry/core/api.py documents the bounds in the OpenAPI document."""

    def __init__(self, field):
        self.field = field

    def __call__(self, value):
        if value is True or value is False or (self.field.strict and not isinstance(value, numbers.Integral)):
            return value
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            return value
        if not INT_MIN <= number <= INT_MAX:
            raise self.field.make_error("out_of_range", input=value)
        return value


def _utc(serialize):
    def serialize_utc(value):
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return serialize(value)
    return serialize_utc


@functools.cache
def _utc_functions(cls):
    return {name: _utc(func) for name, func in cls.SERIALIZATION_FUNCS.items()}


def _prepare(field):
    """What every field of the registry's schemas gets, inner fields of lists and mappings included."""
    _chinese_messages(field)
    if isinstance(field, fields.Integer):
        field.pre_load = [*field.pre_load, _Bounded(field)]
    if isinstance(field, fields.DateTime):
        # The database's datetimes are naive UTC (registry/core/clock.py); the API says so: RFC 3339, which
        # the OpenAPI "date-time" format requires, has an offset.
        field.SERIALIZATION_FUNCS = _utc_functions(type(field))
    inner = [getattr(field, "inner", None), getattr(field, "key_field", None), getattr(field, "value_field", None),
             *getattr(field, "tuple_fields", ())]
    for sub in inner:
        if sub is not None:
            _prepare(sub)


MONEY_STEP = decimal.Decimal("0.01")
MONEY_LIMIT = decimal.Decimal("100000000")


class Money(fields.Decimal):
    """An amount in yuan with at most two decimals: 0.001 is refused (and never rounded to 0.00, i.e. free)."""

    default_error_messages = {"places": "金额最多保留两位小数", "too_large": "金额过大"}

    def __init__(self, **kwargs):
        kwargs.setdefault("places", 2)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        places, self.places = self.places, None
        try:
            number = super()._deserialize(value, attr, data, **kwargs)
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

    def on_bind_field(self, field_name, field_obj):
        """marshmallow's public hook for each field a schema binds: Chinese messages, the Integer bound and
        UTC datetimes (_prepare). Every schema of the registry derives from BaseSchema
        (tests/unit/test_schema_fields.py)."""
        _prepare(field_obj)

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


CONFIRM_FIELD = "confirmed"


def form_data(multi=()):
    """The submitted form without the CSRF token; `multi` names fields that carry several values."""
    data = {}
    for key in request.form:
        if key in ("csrf_token", CONFIRM_FIELD):  # the confirmation step's mark is no data (core/confirm.py)
            continue
        data[key] = request.form.getlist(key) if key in multi else request.form.get(key)
    return data


def parse_form(schema, multi=(), drop_empty=True):
    data = form_data(multi)
    if drop_empty:
        data = {k: v for k, v in data.items() if v not in ("", None)}
    return load(schema, data)

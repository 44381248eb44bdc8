"""The registry's schema rules (Chinese messages, bounded integers, UTC datetimes) come from BaseSchema's
public on_bind_field hook, not from patches to marshmallow's classes."""
import datetime
import importlib
import pkgutil

import pytest
from marshmallow import Schema, ValidationError, fields, validate

import registry
from registry.core.api import INT_MAX, INT_MIN, ErrorSchema
from registry.core.schema import BaseSchema, Money


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_schema_of_the_registry_derives_from_base_schema():
    for module in pkgutil.walk_packages(registry.__path__, "registry."):
        importlib.import_module(module.name)
    schemas = [cls for cls in _all_subclasses(Schema) if cls.__module__.startswith("registry.")]
    assert len(schemas) > 50
    # ErrorSchema only dumps the error body; it loads nothing.
    assert [cls for cls in schemas if not issubclass(cls, BaseSchema)] == [ErrorSchema]


def test_marshmallow_itself_is_left_alone():
    assert fields.Field.default_error_messages["required"] == "Missing data for required field."
    assert fields.Integer.default_error_messages == {"invalid": "Not a valid integer."}
    assert fields.Integer().deserialize(2 ** 31) == 2 ** 31
    plain = Schema.from_dict({"n": fields.Integer(required=True)})()
    with pytest.raises(ValidationError) as exc:
        plain.load({})
    assert exc.value.messages == {"n": ["Missing data for required field."]}


def test_base_schema_fields_speak_chinese_and_keep_their_own_messages():
    schema = BaseSchema.from_dict({
        "n": fields.Integer(required=True),
        "s": fields.String(error_messages={"invalid": "自定义"}),
        "d": fields.Date(),
        "m": Money(),
        "xs": fields.List(fields.Integer()),
    })()
    with pytest.raises(ValidationError) as exc:
        schema.load({"s": 1, "d": "x", "m": "1e9", "xs": ["a"]})
    assert exc.value.messages == {"n": ["此项为必填项"], "s": ["自定义"], "d": ["日期格式应为 YYYY-MM-DD"],
                                  "m": ["金额过大"], "xs": {0: ["应为整数"]}}


@pytest.mark.parametrize("value", [INT_MAX + 1, INT_MIN - 1, str(INT_MAX + 1), float(2 ** 40)])
def test_every_integer_is_bounded_before_its_validators(value):
    schema = BaseSchema.from_dict({"n": fields.Integer(validate=validate.Range(min=1)),
                                   "xs": fields.List(fields.Integer())})()
    message = f"应为 {INT_MIN} 到 {INT_MAX} 之间的整数"
    with pytest.raises(ValidationError) as exc:
        schema.load({"n": value, "xs": [1, value]})
    assert exc.value.messages == {"n": [message], "xs": {1: [message]}}
    assert schema.load({"n": INT_MAX, "xs": [INT_MIN]}) == {"n": INT_MAX, "xs": [INT_MIN]}


def test_integer_bound_leaves_invalid_values_to_the_field():
    schema = BaseSchema.from_dict({"n": fields.Integer(), "k": fields.Integer(strict=True)})()
    with pytest.raises(ValidationError) as exc:
        schema.load({"n": True, "k": "5"})
    assert exc.value.messages == {"n": ["应为整数"], "k": ["应为整数"]}


def test_naive_datetimes_dump_as_utc():
    schema = BaseSchema.from_dict({"at": fields.DateTime(), "ats": fields.List(fields.DateTime())})()
    naive = datetime.datetime(2026, 3, 1, 8, 30)
    aware = datetime.datetime(2026, 3, 1, 8, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    assert schema.dump({"at": naive, "ats": [naive, aware]}) == {
        "at": "2026-03-01T08:30:00+00:00", "ats": ["2026-03-01T08:30:00+00:00", "2026-03-01T08:30:00+08:00"]}
    assert fields.DateTime().serialize("at", {"at": naive}) == "2026-03-01T08:30:00"

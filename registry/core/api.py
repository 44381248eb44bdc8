"""flask-smorest helpers shared by the JSON blueprints, and the Api object's house rules: one error
schema {code, message, field} for every documented error response, and integers bounded everywhere."""
from apispec import BasePlugin
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.routing import IntegerConverter

# A PostgreSQL `integer` (every id column): anything outside is not a row, and must never reach the database.
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1


class MultipartParser(FlaskParser):
    """Location "form" also sees the uploaded files, so ONE schema parses and documents a multipart body
    (flask-smorest documents only one request body per operation: a form schema plus a files schema
    would leave the form fields out of the OpenAPI requestBody)."""

    def load_form(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class MultipartBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()


# @blp.arguments(Schema, **MULTIPART) for a multipart body whose schema includes its Upload fields.
MULTIPART = {"location": "form", "content_type": "multipart/form-data"}


class ErrorSchema(Schema):
    """Every error the application answers in JSON (registry/core/http.py error_response); "Error" in the
    OpenAPI document."""

    code = fields.String(required=True, metadata={"description": "机器可读的错误代码，如 not_found、invalid、conflict"})
    message = fields.String(required=True, metadata={"description": "中文错误说明"})
    field = fields.String(required=True, allow_none=True, metadata={"description": "出错的字段（无则为 null）"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "校验失败时每个字段的全部错误"})


class BoundedIntConverter(IntegerConverter):
    """Flask's `int` URL converter, bounded to the id columns' range: /x/99999999999 is a 404, not a 500."""

    def __init__(self, map, fixed_digits=0, min=0, max=INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class ErrorResponsesPlugin(BasePlugin):
    """An error response documented by description only (`@blp.alt_response(409, description=…)`) gets the
    error schema, so the OpenAPI document says what every error body looks like."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if (isinstance(response, dict) and str(status)[:1] in ("4", "5") and "content" not in response
                        and "$ref" not in response):
                    response["content"] = {"application/json": {"schema": "Error"}}


def _int_bounds(self, field, ret=None, **kwargs):
    """Document the bound every Integer field enforces (registry/core/schema.py)."""
    if not isinstance(field, fields.Integer):
        return {}
    ret = ret or {}
    return {"minimum": max(ret.get("minimum", INT_MIN), INT_MIN), "maximum": min(ret.get("maximum", INT_MAX), INT_MAX)}


def _decimal_strings(self, field, **kwargs):
    """A Decimal dumped as a string ("3.00") is a string in the document, not a number."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
    return {}


class RegistryApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("spec_kwargs", {"extra_plugins": [ErrorResponsesPlugin()]})
        super().__init__(*args, **kwargs)

    def init_app(self, app, **kwargs):
        # Before any blueprint registers a rule: every <int:…> of the app, HTML and JSON, is bounded.
        app.url_map.converters["int"] = BoundedIntConverter
        super().init_app(app, **kwargs)
        self.ma_plugin.converter.add_attribute_function(_int_bounds)
        self.ma_plugin.converter.add_attribute_function(_decimal_strings)

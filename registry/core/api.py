"""flask-smorest helpers shared by the JSON blueprints."""
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict


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

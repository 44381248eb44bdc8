"""A browsable API reference rendered on the server from the OpenAPI spec.

Swagger UI and ReDoc load scripts from a CDN, which a bureau intranet and our CSP
(script-src 'self') both refuse; this page needs neither.
"""
from flask import Blueprint, render_template

from registry.extensions import api

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def docs():
    spec = api.spec.to_dict()
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            if method == "parameters":
                continue
            operations.append({
                "path": path, "method": method.upper(), "summary": op.get("summary", ""),
                "tags": op.get("tags", []), "parameters": op.get("parameters", []),
                "body": op.get("requestBody"), "responses": op.get("responses", {}),
            })
    return render_template("api/docs.html", spec=spec, operations=operations,
                           schemas=spec.get("components", {}).get("schemas", {}))

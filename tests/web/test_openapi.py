"""The published OpenAPI document is valid OpenAPI 3 and lists every JSON endpoint."""
from openapi_spec_validator import validate

from registry.auth.permissions import TABLE


def test_spec_is_valid_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert spec["info"]["title"]


def test_every_api_route_is_documented(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {path for path in spec["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint in TABLE and "openapi" not in rule.endpoint \
                and rule.endpoint != "api_docs.docs":
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
            assert path in documented, path


def test_docs_page_renders_every_operation(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/whitelist" in page or "/api/v1/regions" in page
    assert "Bearer" in page

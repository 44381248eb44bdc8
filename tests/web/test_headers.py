"""docs/architecture.md "Security" (CSRF and headers): security headers on every kind of response, HSTS only over HTTPS
in production, no traceback on a 500."""
import logging

import pytest

from tests.conftest import make_app


def csp_directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.strip().split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def assert_security_headers(response):
    directives = csp_directives(response)
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'none'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/api/v1/regions", "/api/v1/openapi.json",
                                  "/no-such-page", "/api/v1/no-such-thing", "/dashboard", "/api/v1/me"])
def test_security_headers_on_every_kind_of_response(client, path):
    response = client.get(path)
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers


def test_security_headers_on_logged_in_pages(login_as):
    client, _user = login_as("sys_admin")
    for path in ("/dashboard", "/admin/users", "/account/"):
        response = client.get(path)
        assert response.status_code == 200
        assert_security_headers(response)
        assert "no-store" in response.headers["Cache-Control"]


def test_hsts_only_in_production_over_https(db):
    production = make_app(PRODUCTION=True)
    development = make_app(PRODUCTION=False)
    secure = production.test_client().get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(secure.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 15552000
    assert "Strict-Transport-Security" not in production.test_client().get("/login").headers
    assert "Strict-Transport-Security" not in development.test_client().get("/login", base_url="https://localhost").headers


def test_hsts_behind_a_proxy_follows_x_forwarded_proto(db):
    app = make_app(PRODUCTION=True, PROXY_COUNT=1)
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


class Boom(RuntimeError):
    pass


def explode(*args, **kwargs):
    raise Boom("secret internal detail /etc/registry.conf")


@pytest.fixture
def broken_app(db):
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    app.view_functions["main.index"] = explode
    app.view_functions["api_regions.Regions"] = explode
    return app


def test_500_page_is_chinese_without_traceback(broken_app, caplog):
    caplog.set_level(logging.ERROR)
    response = broken_app.test_client().get("/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "服务器内部错误" in page
    for leak in ("Traceback", "Boom", "secret internal detail", "File \"", ".py"):
        assert leak not in page
    assert_security_headers(response)
    # The detail goes to the log for the operators.
    assert "Boom" in caplog.text


def test_500_on_the_api_is_the_json_error_format(broken_app):
    response = broken_app.test_client().get("/api/v1/regions")
    assert response.status_code == 500
    body = response.get_json()
    assert set(body) >= {"code", "message", "field"}
    assert body["code"] == "server_error" and "服务器内部错误" in body["message"] and body["field"] is None
    assert "Boom" not in response.get_data(as_text=True)


@pytest.mark.parametrize("status, path, method", [
    (404, "/no-such-page", "GET"),
    (405, "/logout", "GET"),
])
def test_error_pages_are_chinese(client, status, path, method):
    response = client.open(path, method=method)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "Traceback" not in page
    assert any("\u4e00" <= ch <= "\u9fff" for ch in page)


@pytest.mark.parametrize("path, method", [("/api/v1/nothing-here", "GET"), ("/api/v1/regions", "DELETE")])
def test_api_errors_are_json(client, path, method):
    response = client.open(path, method=method)
    assert response.status_code in (404, 405)
    body = response.get_json()
    assert set(body) >= {"code", "message", "field"}

"""Error pages, the JSON error format {code, message, field}, and security headers."""
import logging

from flask import current_app, jsonify, make_response, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from registry.core import inputs
from registry.core.db import UNAVAILABLE_RESPONSE, rollback_quietly
from registry.core.errors import DomainError, unique_conflict
from registry.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: "请求有误",
    401: "需要登录或有效的访问令牌",
    403: "您没有权限访问此页面或执行此操作",
    404: "您访问的页面或记录不存在",
    405: "不支持该请求方法",
    409: "操作与当前状态冲突",
    413: "上传的内容过大",
    422: "提交的内容有误",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后再试",
    503: "服务暂时不可用，请稍后再试",
}
DATABASE_UNAVAILABLE = "数据库暂时无法响应，请稍后再试"
RETRY_AFTER_SECONDS = 5
UNKNOWN_FIELD = "未知字段"

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def wants_json():
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status, code, message, field=None, errors=None):
    if wants_json():
        body = {"code": code, "message": message, "field": field}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message, field=field), status


def _first_webargs_error(messages):
    """webargs nests messages as {location: {field: [msg]}}; find the first leaf."""
    node, path = messages, []
    while isinstance(node, dict) and node:
        key = next(iter(node))
        if key not in ("json", "query", "form", "files", "headers", "path", "_schema"):
            path.append(str(key))
        node = node[key]
    if isinstance(node, list):
        node = node[0] if node else ""
        if isinstance(node, dict):
            sub_field, sub_msg = _first_webargs_error(node)
            return ".".join(path + ([sub_field] if sub_field else [])), sub_msg
    return ".".join(path) or None, str(node)


def handle_http_exception(exc):
    status = exc.code or 500
    if status == 422 and getattr(exc, "data", None) and "messages" in exc.data:
        field, message = _first_webargs_error(exc.data["messages"])
        if message.startswith(UNKNOWN_FIELD):
            return error_response(400, "unknown_field", f"{UNKNOWN_FIELD}：{field}", field)
        return error_response(422, "invalid", f"{field}:{message}" if field else message, field)
    if status == 413:
        limit = current_app.config["MAX_UPLOAD_MB"]
        return error_response(413, "too_large", f"上传的文件过大：每个文件不能超过 {limit} MB", "file")
    message = MESSAGES.get(status, exc.description or "请求有误")
    code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
            409: "conflict", 429: "rate_limited"}.get(status, "error")
    response, status = error_response(status, code, message)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response = current_app.make_response(response)
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110: a 405 lists what is allowed
    return response, status


def handle_domain_error(exc: DomainError):
    errors = getattr(exc, "errors", None)
    return error_response(exc.status, exc.code, exc.message, exc.field, errors)


def handle_integrity_error(exc: IntegrityError):
    """Two requests racing past a service's "is it taken?" check both insert; the database's unique
    constraint refuses the second, which is a 409 naming the field, not a 500."""
    conflict = unique_conflict(exc)
    if conflict is None:
        return handle_unexpected(exc)
    db.session.rollback()
    return handle_domain_error(conflict)


def handle_csrf(exc):
    return error_response(400, "csrf", "页面已过期或缺少安全令牌（CSRF），请刷新页面后重试")


def handle_rate_limit(exc):
    return error_response(429, "rate_limited", "请求过于频繁，请一分钟后再试")


def handle_database_unavailable(exc):
    """The database did not answer in time (connect or statement timeout, a locked SQLite file) or the pool
    had no free connection: 503 with Retry-After, in HTML and JSON alike."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path, str(exc).splitlines()[0])
    rollback_quietly()
    if wants_json():
        response = make_response(jsonify({"code": "database_unavailable", "message": DATABASE_UNAVAILABLE,
                                          "field": None}), 503)
    else:  # a page of its own: base.html reads the current user, i.e. the database
        response = make_response(render_template("errors/unavailable.html", status=503,
                                                 message=DATABASE_UNAVAILABLE), 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_unexpected(exc):
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return error_response(500, "server_error", MESSAGES[500])


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    # A page may widen it for itself: the gate page (issue 14) asks for camera=(self).
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["PRODUCTION"] and request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


def unavailable_response(error):
    """The 503 that replaces a page whose single commit the database refused (core/db.py asks for it at the
    end of the request, after security_headers already ran on the page it replaces)."""
    return security_headers(make_response(handle_database_unavailable(error)))


def init_app(app):
    app.extensions[UNAVAILABLE_RESPONSE] = unavailable_response
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(RateLimitExceeded, handle_rate_limit)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(sa_exc.OperationalError, handle_database_unavailable)
    app.register_error_handler(sa_exc.TimeoutError, handle_database_unavailable)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(Exception, handle_unexpected)
    app.after_request(security_headers)
    inputs.init_app(app)

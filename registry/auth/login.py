"""Flask-Login wiring: cookie sessions for HTML, bearer tokens for /api."""
from flask import current_app, request, session
from flask.sessions import SecureCookieSessionInterface

from registry.auth import services
from registry.core.errors import Unauthorized
from registry.extensions import login_manager


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, which holds only the server-side session token. A request without the
    cookie (anonymous pages, the API) gets an empty session without building a signing serializer."""

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def login_rate_limit():
    """The limit on attempts to log in or register (REGISTRY_LOGIN_RATE_LIMIT), for Flask-Limiter."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def init_app(app):
    app.session_interface = SessionInterface()
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = None  # our own server-side sessions do the revocation

    @login_manager.user_loader
    def load_user(token):
        if request.path.startswith("/api/"):
            return None  # the API never trusts the cookie
        user = services.load_session(token)
        if user is None:
            session.clear()
        return user

    @login_manager.request_loader
    def load_from_header(req):
        header = req.headers.get("Authorization", "")
        if not req.path.startswith("/api/") or not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized("仅支持 Authorization: Bearer 访问令牌", code="invalid_token")
        return services.authenticate_token(token.strip())

"""JSON API for the caller's own account and tokens (same services as the HTML pages)."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.auth import schemas, services

blp = Blueprint("api_account", __name__, url_prefix="/me", description="当前用户与访问令牌")


@blp.route("")
class Me(MethodView):
    @blp.response(200, schemas.MeOut)
    def get(self):
        """当前令牌所属用户"""
        return current_user._get_current_object()


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, schemas.TokenOut(many=True))
    def get(self):
        """列出自己的访问令牌"""
        return services.list_tokens(current_user)

    @blp.arguments(schemas.TokenCreateIn)
    @blp.response(201, schemas.TokenCreatedOut)
    def post(self, data):
        """创建访问令牌（明文只返回一次）"""
        row, plaintext = services.create_token(current_user._get_current_object(), name=data["name"], days=data["days"])
        # Hand the response schema raw values: it dumps them itself (dumping twice fails on dates).
        out = {name: getattr(row, name) for name in schemas.TokenOut().fields}
        out["token"] = plaintext
        return out


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @blp.response(204)
    def delete(self, token_id):
        """吊销访问令牌"""
        services.revoke_token(current_user._get_current_object(), token_id)

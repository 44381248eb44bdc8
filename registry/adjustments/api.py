"""JSON API for dynamic adjustment: the city reviewer's providers and manual actions, and the provider's own
record of actions with their reasons. The same schemas, queries and services as the HTML pages; a provider
outside the reviewer's city answers 404; a refused action answers 422 {code, message, field, errors}."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.adjustments import queries, schemas
from registry.adjustments import services as adjustments
from registry.core import clock
from registry.core.pagination import paginate

blp = Blueprint("api_adjustments", __name__, url_prefix="/adjustments",
                description="动态调整：警告、暂停、移出、禁入、恢复，以及机构查看处理原因")


def _actor():
    return current_user._get_current_object()


def _provider(provider_id):
    return queries.reviewer_provider(_actor(), provider_id)


def _view(action):
    return queries.action_views([action])[0]


@blp.route("/providers")
class Providers(MethodView):
    @blp.arguments(schemas.ProviderQueryIn, location="query")
    @blp.response(200, schemas.ProviderPageOut)
    def get(self, args):
        """本市白名单机构：各条目当前状态、最近的处理记录、是否处于禁入期"""
        day = clock.today()
        page = paginate(queries.city_providers_stmt(_actor(), args, day), args["page"], args["per_page"])
        return {"items": queries.provider_rows(page.items, day), "total": page.total, "page": page.page,
                "per_page": page.per_page, "pages": page.pages}


@blp.route("/providers/<int:provider_id>")
class ProviderById(MethodView):
    @blp.response(200, schemas.ProviderDetailOut)
    def get(self, provider_id):
        """一家机构：白名单条目、受影响的订单、全部处理记录（自动规则附触发依据）"""
        return queries.provider_detail(_provider(provider_id))


@blp.route("/providers/<int:provider_id>/warning")
class ProviderWarning(MethodView):
    @blp.arguments(schemas.WarnIn)
    @blp.response(201, schemas.ActionOut)
    def post(self, data, provider_id):
        """警告"""
        return _view(adjustments.warn(_provider(provider_id), actor=_actor(), **data))


@blp.route("/providers/<int:provider_id>/suspension")
class ProviderSuspension(MethodView):
    @blp.arguments(schemas.SuspendIn)
    @blp.response(201, schemas.ActionOut)
    def post(self, data, provider_id):
        """暂停（可指定项目；可设自动解除日期）：受影响的订单同时暂停，学校和机构收到通知"""
        return _view(adjustments.suspend(_provider(provider_id), actor=_actor(), **data))


@blp.route("/providers/<int:provider_id>/delisting")
class ProviderDelisting(MethodView):
    @blp.arguments(schemas.DelistIn)
    @blp.response(201, schemas.ActionOut)
    def post(self, data, provider_id):
        """移出白名单（可同时禁入至 ban_until）：受影响的订单暂停，学校和机构收到通知"""
        return _view(adjustments.delist(_provider(provider_id), actor=_actor(), **data))


@blp.route("/providers/<int:provider_id>/ban")
class ProviderBan(MethodView):
    @blp.arguments(schemas.BanIn)
    @blp.response(201, schemas.ActionOut)
    def post(self, data, provider_id):
        """禁入至 ends_on（不填为本市默认禁入期）：禁入期内不能申报，现有条目移出"""
        provider = _provider(provider_id)
        data["ends_on"] = data.get("ends_on") or adjustments.default_ban_end(provider)
        return _view(adjustments.ban(provider, actor=_actor(), **data))


@blp.route("/providers/<int:provider_id>/reinstatement")
class ProviderReinstatement(MethodView):
    @blp.arguments(schemas.ReinstateIn)
    @blp.response(201, schemas.ActionOut)
    def post(self, data, provider_id):
        """恢复：解除暂停、恢复移出的条目（有效期内）、结束禁入，暂停的订单恢复"""
        return _view(adjustments.reinstate(_provider(provider_id), actor=_actor(), **data))


@blp.route("/mine")
class MyActions(MethodView):
    @blp.response(200, schemas.MyActionsOut)
    def get(self):
        """本机构的白名单条目状态和全部动态调整记录及原因"""
        return queries.provider_detail(current_user.provider, with_orders=False)

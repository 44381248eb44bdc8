"""JSON API for a provider_admin: incoming orders, the people who may be assigned, accepting and declining.
The same schemas and services as the HTML pages; another provider's order answers 404. A refused
acceptance answers 422 {code, message, field, errors} with every Chinese reason."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.core import clock
from registry.core.pagination import paginate
from registry.orders import queries, schemas
from registry.orders import services as orders
from registry.orders.schemas import OrderOut, OrderPageOut

blp = Blueprint("api_provider_orders", __name__, url_prefix="/provider-orders",
                description="机构接单：收到的点单、接单与拒绝")


def _actor():
    return current_user._get_current_object()


def own_order(order_id):
    return queries.provider_order(current_user.provider_id, order_id)


@blp.route("")
class ProviderOrders(MethodView):
    @blp.arguments(schemas.ProviderOrderQueryIn, location="query")
    @blp.response(200, OrderPageOut)
    def get(self, args):
        """本机构收到的点单，最新在前；status 按当前状态筛选"""
        page = paginate(queries.provider_orders_stmt(current_user.provider_id, args.get("status")), args["page"],
                        args["per_page"])
        return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page,
                "pages": page.pages}


@blp.route("/<int:order_id>")
class ProviderOrderById(MethodView):
    @blp.response(200, OrderOut)
    def get(self, order_id):
        """订单详情：学校、项目、时间安排、单价与总价、白名单条目和批次、授课人员（身份证号码脱敏）"""
        return own_order(order_id)


@blp.route("/<int:order_id>/candidates")
class ProviderOrderCandidates(MethodView):
    @blp.response(200, schemas.CandidateOut(many=True))
    def get(self, order_id):
        """可指派的本机构人员：今天是否准入合格（按项目要求的资格）及原因、学期结束前是否将失效"""
        return queries.candidates(own_order(order_id), clock.today())


@blp.route("/<int:order_id>/accept")
class ProviderOrderAccept(MethodView):
    @blp.arguments(schemas.AcceptIn)
    @blp.response(200, schemas.AcceptOut)
    def post(self, data, order_id):
        """接单并指派授课人员（每人今天须准入合格）；返回学期结束前将失效人员的提醒"""
        result = orders.accept_order(own_order(order_id), actor=_actor(), person_ids=data["person_ids"])
        return result


@blp.route("/<int:order_id>/replace-staff")
class ProviderOrderReplaceStaff(MethodView):
    @blp.arguments(schemas.ReplaceStaffIn)
    @blp.response(200, OrderOut)
    @blp.alt_response(409, description="订单不是已接单或服务中（order_not_live）")
    def post(self, data, order_id):
        """更换已接单或服务中订单的授课人员（issue 14）：接替人员今天须准入合格；学校收到通知，原人员通行证立即失效"""
        return orders.replace_staff(own_order(order_id), actor=_actor(), **data)


@blp.route("/<int:order_id>/decline")
class ProviderOrderDecline(MethodView):
    @blp.arguments(schemas.DeclineIn)
    @blp.response(200, OrderOut)
    def post(self, data, order_id):
        """拒绝点单（须填写原因，学校可以看到）"""
        return orders.decline_order(own_order(order_id), actor=_actor(), reason=data["reason"])

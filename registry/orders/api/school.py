"""JSON API for a school_admin: the catalog, orders (list, create, detail, cancel), the school's own
after-school projects per term and the third-party share. The same schemas and services as the HTML
pages; another school's order or project answers 404. A refused order answers 422
{code, message, field, errors} with every Chinese reason."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.core import cache, clock
from registry.core import db as core_db
from registry.core.errors import ValidationFailed
from registry.core.pagination import paginate
from registry.orders import catalog as catalog_queries
from registry.orders import queries, schemas
from registry.orders import services as orders
from registry.schools import queries as school_queries
from registry.schools import schemas as school_schemas
from registry.schools import services as schools

blp = Blueprint("api_school_orders", __name__, url_prefix="/school",
                description="学校点单、本校课后服务项目与第三方占比")
core_db.reads_only("api_school_orders.Catalog",   # the catalog page, computed or cached, writes nothing
                  "api_school_orders.CatalogEntry")   # issue 20: a project page reads only, cached eligibility
_PAGE_OUT = schemas.CatalogPageOut(exclude=("items",))   # the page's numbers; its items are dumped already


def _actor():
    return current_user._get_current_object()


def own_order(order_id):
    return queries.school_order(current_user.school_id, order_id)


def _page(page, **extra):
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page,
            "pages": page.pages, **extra}


_STANDING = schemas.CatalogStandingOut()


@blp.route("/catalog")
class Catalog(MethodView):
    @blp.arguments(schemas.CatalogQueryIn(), location="query")  # one instance: building a schema per request is slow
    @blp.response(200, schemas.CatalogPageOut)
    def get(self, args):
        """本校今天可以点单的白名单项目（show=all 时同时列出本市不能点单的项目及中文原因），可筛选、排序、分页"""
        school = current_user.school

        def build():
            page, hidden = catalog_queries.catalog_items(school, args, schemas.CATALOG_ITEM_OWN.dump,
                                                         page=args["page"], per_page=args["per_page"],
                                                         dump_standing=_STANDING.dump)
            return {**_PAGE_OUT.dump(_page(page, hidden=hidden)), "items": page.items}

        return cache.cached_json("catalog", catalog_queries.cache_key(school, args), build)


@blp.route("/catalog/<int:entry_id>")
class CatalogEntry(MethodView):
    @blp.response(200, schemas.CatalogItemOut)
    def get(self, entry_id):
        """一个白名单项目：机构、价格、有效期、批次、今日准入合格的授课人员数，以及本校能否点单"""
        return catalog_queries.catalog_entry(current_user.school, entry_id)


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(schemas.OrderQueryIn, location="query")
    @blp.response(200, schemas.OrderPageOut)
    def get(self, args):
        """本校的点单，最新在前；status 按当前状态筛选（已接单且学期已开始即为 active）"""
        return _page(paginate(queries.school_orders_stmt(current_user.school_id, args), args["page"], args["per_page"]))

    @blp.arguments(schemas.OrderIn)
    @blp.response(201, schemas.OrderOut)
    def post(self, data):
        """点单：价格按公布价格复制（填写 price 时不能更高）；不能点单时 422 并说明每条原因"""
        order = orders.create_order(current_user.school, actor=_actor(), **data)
        return own_order(order.id)


@blp.route("/orders/<int:order_id>")
class OrderById(MethodView):
    @blp.response(200, schemas.OrderOut)
    def get(self, order_id):
        """订单详情：状态及原因、授课人员（身份证号码脱敏）、白名单条目和批次"""
        return own_order(order_id)


@blp.route("/orders/<int:order_id>/cancel")
class OrderCancel(MethodView):
    @blp.arguments(schemas.CancelIn)
    @blp.response(200, schemas.OrderOut)
    def post(self, data, order_id):
        """取消点单（待机构确认或已暂停的订单）"""
        return orders.cancel_order(own_order(order_id), actor=_actor(), reason=data["reason"])


def _term(term_id):
    term = school_queries.default_term(clock.today()) if term_id is None else school_queries.get_term(term_id)
    if term is None:
        raise ValidationFailed({"term_id": ["尚未设置学期，请联系系统管理员"]})
    return term


@blp.route("/terms")
class SchoolTerms(MethodView):
    @blp.response(200, school_schemas.TermOut(many=True))
    def get(self):
        """尚未结束、可以点单的学期"""
        return school_queries.open_terms(clock.today())


@blp.route("/projects")
class OwnProjects(MethodView):
    @blp.arguments(school_schemas.TermQueryIn, location="query")
    @blp.response(200, school_schemas.OwnProjectOut(many=True))
    def get(self, args):
        """本校某学期的自有课后服务项目（不填 term_id 时为当前学期）"""
        return school_queries.own_projects(current_user.school, _term(args["term_id"]))

    @blp.arguments(school_schemas.OwnProjectIn)
    @blp.response(201, school_schemas.OwnProjectOut)
    def post(self, data):
        """登记本校自有课后服务项目（名称、类别、授课教师）"""
        return schools.add_own_project(current_user.school, actor=_actor(), **data)


@blp.route("/projects/<int:project_id>")
class OwnProjectById(MethodView):
    @blp.response(204)
    def delete(self, project_id):
        """删除本校自有课后服务项目（删除后第三方占比超过上限时不允许）"""
        schools.remove_own_project(school_queries.own_project(current_user.school, project_id), actor=_actor())


@blp.route("/share")
class Share(MethodView):
    @blp.arguments(school_schemas.TermQueryIn, location="query")
    @blp.response(200, school_schemas.ShareOut)
    def get(self, args):
        """某学期第三方项目占本校课后服务项目的比例与本市上限"""
        return schools.share_view(current_user.school, _term(args["term_id"]))

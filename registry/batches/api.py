"""JSON API for release batches, publicity (公示) and objections: the same schemas and services as the HTML pages.

/api/v1/batches... and /api/v1/objections... are the city reviewer's; /api/v1/publicity... is public.
"""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.batches import queries, ratelimit, schemas, services

blp = Blueprint("api_batches", __name__, url_prefix="/batches", description="公示批次（市级审核员）")
objections_blp = Blueprint("api_objections", __name__, url_prefix="/objections",
                           description="公示异议处理（市级审核员）")
publicity_blp = Blueprint("api_publicity", __name__, url_prefix="/publicity", description="公示（公开，无需登录）")


def _actor():
    return current_user._get_current_object()


def _batch(batch_id):
    return queries.own_batch(current_user, batch_id)


@blp.route("")
class Batches(MethodView):
    @blp.response(200, schemas.BatchSummaryOut(many=True))
    def get(self):
        """本市的公示批次（最新在前）"""
        return queries.city_batches(current_user.region_id)

    @blp.arguments(schemas.BatchCreateIn)
    @blp.response(201, schemas.BatchOut)
    def post(self, data):
        """新建待公示批次，可同时加入处于市级复审阶段的申报（同意纳入公示）"""
        return services.create_with(_actor(), data["application_ids"])


@blp.route("/<int:batch_id>")
class BatchById(MethodView):
    @blp.response(200, schemas.BatchOut)
    def get(self, batch_id):
        """批次详情：申报、公示日期、日历提示、未处理异议数，以及暂不能发布的原因"""
        return _batch(batch_id)


@blp.route("/<int:batch_id>/items")
class BatchItems(MethodView):
    @blp.arguments(schemas.BatchItemIn)
    @blp.response(201, schemas.BatchOut)
    @blp.alt_response(409, description="批次已不是待公示状态，或申报不在市级复审阶段、已在其他批次中，"
                                       "或尚有未核验通过的材料或查询记录"
                                       "（code unverified_items，errors.items 逐项列出）")
    def post(self, data, batch_id):
        """把市级复审通过的申报加入待公示批次"""
        batch = _batch(batch_id)
        services.add_to_batch(batch, queries.city_application(batch, data["application_id"]), actor=_actor())
        return batch


@blp.route("/<int:batch_id>/items/<int:application_id>")
class BatchItemById(MethodView):
    @blp.response(204)
    @blp.alt_response(409, description="公示开始后只能通过处理异议移出申报")
    def delete(self, batch_id, application_id):
        """从待公示批次中移出申报"""
        services.remove_from_batch(_batch(batch_id), application_id, actor=_actor())


@blp.route("/<int:batch_id>/publicity")
class BatchPublicity(MethodView):
    @blp.arguments(schemas.EmptyIn)
    @blp.response(200, schemas.BatchOut)
    @blp.alt_response(409, description="批次当前状态不能开始公示（消息中给出当前状态）")
    def post(self, _data, batch_id):
        """开始公示：结束日期按本市公示工作日数计算；缺少节假日数据的年份在 calendar_warning 中说明"""
        return services.start_publicity(_batch(batch_id), actor=_actor())


@blp.route("/<int:batch_id>/publish")
class BatchPublish(MethodView):
    @blp.arguments(schemas.EmptyIn)
    @blp.response(200, schemas.BatchOut)
    @blp.alt_response(409, description="公示期未结束（消息给出可发布的日期）或仍有未处理的异议")
    def post(self, _data, batch_id):
        """发布批次：生成白名单条目，申报通过，通知机构"""
        return services.publish(_batch(batch_id), actor=_actor())


@blp.route("/<int:batch_id>/objections")
class BatchObjections(MethodView):
    @blp.response(200, schemas.ObjectionOut(many=True))
    def get(self, batch_id):
        """该批次收到的异议"""
        return queries.batch_objections(_batch(batch_id))


@objections_blp.route("/<int:objection_id>/resolve")
class ObjectionResolve(MethodView):
    @objections_blp.arguments(schemas.ResolveIn)
    @objections_blp.response(200, schemas.ObjectionOut)
    @objections_blp.alt_response(409, description="该异议已处理")
    def post(self, data, objection_id):
        """处理异议：成立则该机构移出批次、申报退回修改（return）或不予通过（reject）；不成立须说明理由"""
        objection = queries.own_objection(current_user, objection_id)
        return services.resolve_objection(objection, actor=_actor(), **data)


@publicity_blp.route("")
class Publicity(MethodView):
    @publicity_blp.response(200, schemas.PublicBatchOut(many=True))
    def get(self):
        """正在公示的批次（各设区市），仅含公开信息"""
        return [queries.public_view(batch) for batch in queries.publicity_batches()]


@publicity_blp.route("/<int:batch_id>")
class PublicityById(MethodView):
    @publicity_blp.response(200, schemas.PublicBatchOut)
    def get(self, batch_id):
        """一个公示批次的公开信息"""
        return queries.public_view(queries.public_batch_or_404(batch_id))


@publicity_blp.route("/<int:batch_id>/objections")
class PublicityObjections(MethodView):
    decorators = [ratelimit.objection_limited(ratelimit.objection_limited_json)]

    @publicity_blp.arguments(schemas.ObjectionIn)
    @publicity_blp.response(201, schemas.ObjectionReceiptOut)
    @publicity_blp.alt_response(409, description="不在公示期内")
    @publicity_blp.alt_response(429, description="提交过于频繁")
    def post(self, data, batch_id):
        """在公示期内对公示机构提出异议：须填写真实姓名、联系方式和具体内容；按网络地址限制频率"""
        return services.file_objection(queries.public_batch_or_404(batch_id), **data)

"""JSON API for a school_admin: its served orders with their evaluation and survey figures, the term
evaluation (PUT, open in the term's last four weeks) and a fresh set of parent survey codes (returned once,
stored only as hashes). Another school's order answers 404."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.quality import pdf, queries, schemas, services

blp = Blueprint("api_school_quality", __name__, url_prefix="/school/quality",
                description="学校：学期评价与家长问卷码（质量评估）")


def _own(order_id):
    return queries.school_order(current_user.school_id, order_id)


@blp.route("/orders")
class QualityOrders(MethodView):
    @blp.response(200, schemas.SchoolOrderQualityOut(many=True))
    def get(self):
        """本校已接单的第三方服务订单：学期评价开放时间、评价内容、问卷码发放与作答数"""
        return queries.school_orders(current_user.school_id)


@blp.route("/orders/<int:order_id>")
class QualityOrder(MethodView):
    @blp.response(200, schemas.SchoolOrderQualityOut)
    def get(self, order_id):
        """一个订单的学期评价与家长问卷情况"""
        return _own(order_id)


@blp.route("/orders/<int:order_id>/evaluation")
class Evaluation(MethodView):
    @blp.arguments(schemas.EvaluationIn)
    @blp.response(200, schemas.EvaluationOut)
    @blp.alt_response(409, description="不在学期最后四周，或订单没有提供服务")
    def put(self, data, order_id):
        """提交或修改学期评价：活动内容、人员准时到岗、安全管理、学生参与度（好/一般/差），总体满意度（满意/基本满意/不满意）和意见"""
        return services.save_evaluation(_own(order_id).order, actor=current_user._get_current_object(), **data)


@blp.route("/orders/<int:order_id>/survey-codes")
class SurveyCodes(MethodView):
    @blp.response(201, schemas.SurveyCodesOut)
    @blp.alt_response(409, description="订单没有提供服务、学期已结束或家长均已作答")
    def post(self, order_id):
        """生成一套家长问卷码（每名尚未作答的学生一个，原未使用的作废）；问卷码只在此次返回，系统只保存摘要"""
        order = _own(order_id).order
        codes = services.issue_codes(order, actor=current_user._get_current_object())
        return {"order_id": order.id, "expires_on": order.term.ends_on,
                "codes": [services.format_code(c) for c in codes],
                "links": [pdf.survey_url(c) for c in codes]}

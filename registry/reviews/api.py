"""JSON API for reviewers: the queue, the review of one application, decisions and verification.
The same schemas, services and queries as the HTML pages; errors are {code, message, field}."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.applications import queries
from registry.reviews import queries as review_queries
from registry.reviews import schemas
from registry.reviews import services as reviews

blp = Blueprint("api_reviews", __name__, url_prefix="/reviews", description="申报审核（县级、市级审核员）")

CONFLICT = ("申报已被他人处理（version 已变），或当前状态不能作出该决定；message 给出当前状态。"
            "报送和同意纳入公示时，尚有未核验、已驳回或有不良记录的材料或查询记录：code 为 unverified_items，"
            "errors.items 逐项列出")


def _actor():
    return current_user._get_current_object()


def _decide(application_id, decision, data):
    app = queries.readable_application(current_user, application_id)
    reviews.decide(app, decision, data, _actor())
    return app


@blp.route("/queue")
class ReviewQueue(MethodView):
    @blp.arguments(schemas.QueueArgs, location="query")
    @blp.response(200, schemas.QueueRowOut(many=True))
    def get(self, args):
        """待我审核的申报：本人审核阶段、本辖区，含等待的自然日和工作日"""
        return review_queries.queue_rows(current_user, args)


@blp.route("/applications/<int:application_id>")
class ReviewById(MethodView):
    @blp.response(200, schemas.ReviewOut)
    def get(self, application_id):
        """一份申报的审核视图：冻结的提交内容、与上次提交相比的变化、历次逐项意见、可作出的决定"""
        return review_queries.review_data(queries.readable_application(current_user, application_id), current_user)


@blp.route("/applications/<int:application_id>/pass")
class ReviewPass(MethodView):
    @blp.arguments(schemas.PassIn)
    @blp.response(200, schemas.ApplicationStateOut)
    @blp.alt_response(409, description=CONFLICT)
    def post(self, data, application_id):
        """县级初审通过，报送市级复审"""
        return _decide(application_id, "pass", data)


@blp.route("/applications/<int:application_id>/approve-in-principle")
class ReviewApprove(MethodView):
    @blp.arguments(schemas.ApproveIn)
    @blp.response(200, schemas.ApplicationStateOut)
    @blp.alt_response(409, description=CONFLICT)
    def post(self, data, application_id):
        """市级复审同意，纳入本市待公示批次（batch_id 不填则新建批次）"""
        return _decide(application_id, "approve", data)


@blp.route("/applications/<int:application_id>/return")
class ReviewReturn(MethodView):
    @blp.arguments(schemas.ReturnIn)
    @blp.response(200, schemas.ApplicationStateOut)
    @blp.alt_response(409, description=CONFLICT)
    def post(self, data, application_id):
        """退回修改：comments 为逐项意见（至少一项或填写总体意见 general）"""
        return _decide(application_id, "return", data)


@blp.route("/applications/<int:application_id>/reject")
class ReviewReject(MethodView):
    @blp.arguments(schemas.RejectIn)
    @blp.response(200, schemas.ApplicationStateOut)
    @blp.alt_response(409, description=CONFLICT)
    def post(self, data, application_id):
        """不予通过（必须填写理由）"""
        return _decide(application_id, "reject", data)


@blp.route("/documents/<int:document_id>/verify")
class DocumentVerify(MethodView):
    @blp.arguments(schemas.VerifyDocumentIn)
    @blp.response(200, schemas.VerificationOut)
    def post(self, data, document_id):
        """核验申报中的一份材料：verified 通过，rejected 驳回（须填写原因）"""
        return reviews.verify_document_for(document_id, data, _actor())[1]


@blp.route("/checks/<int:check_id>/verify")
class CheckVerify(MethodView):
    @blp.arguments(schemas.VerifyCheckIn)
    @blp.response(200, schemas.CheckVerificationOut)
    def post(self, data, check_id):
        """核验人员的一条查询记录：verified 核验无误；adverse 有不良记录（须填写依据；该人员全省禁入并提请市级核查）"""
        return reviews.verify_check_for(check_id, data, _actor())[1]

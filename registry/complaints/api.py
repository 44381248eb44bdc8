"""JSON API for complaints and appeals (issue 17): the same schemas, queries and services as the HTML pages.

Public: file a complaint (rate-limited; real name and phone, never returned), follow it by tracking code, add
evidence, rate the handling, monthly statistics. Schools and inspectors file from their accounts. Handlers
work their queue. Providers and schools answer statement requests and read decisions (no complainant).
Providers appeal; a city reviewer other than the original decider decides."""
from flask import url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload

from registry.auth.roles import Role
from registry.complaints import queries, ratelimit, schemas
from registry.complaints import services as complaints
from registry.core.errors import NotFound
from registry.core.schema import BaseSchema
from registry.files import services as files

blp = Blueprint("api_complaints", __name__, description="投诉（五个严禁等）的受理、办理、回访，以及机构申诉复核")


class EvidenceIn(BaseSchema):
    file = Upload(required=True, metadata={"description": "照片（JPG、PNG）或 PDF，与资质材料相同的检查"})


def _actor():
    return current_user._get_current_object()


def _tracked(code):
    return queries.by_tracking_code(code)


def _with_contact(complaint):
    complaint.complainant = complaints.complainant(complaint)
    return complaint


# ---------------------------------------------------------------- public

@blp.route("/complaints/public")
class PublicComplaints(MethodView):
    decorators = [ratelimit.complaint_limited(ratelimit.complaint_limited_json)]

    @blp.arguments(schemas.PublicComplaintIn)
    @blp.response(201, schemas.TrackingOut)
    @blp.alt_response(429, description="提交过于频繁")
    def post(self, data):
        """家长或公众投诉：实名和联系电话必填（仅承办教育局可见）；返回查询码。

        证据用 /complaints/track/{code}/evidence 补充。"""
        name, phone = data.pop("name"), data.pop("phone")
        case = complaints.open_case(source="public", complainant_name=name, complainant_phone=phone, **data)
        return {"tracking_code": case.tracking_code,
                "status_url": url_for("complaints.track", code=case.tracking_code, _external=False)}


@blp.route("/complaints/track/<code>")
class Tracking(MethodView):
    @blp.response(200, schemas.ComplaintStatusOut)
    def get(self, code):
        """凭查询码查看办理进度和结果（不含投诉人信息）"""
        return _tracked(code)


@blp.route("/complaints/track/<code>/evidence")
class TrackingEvidence(MethodView):
    decorators = [ratelimit.complaint_limited(ratelimit.complaint_limited_json)]

    @blp.arguments(EvidenceIn, location="files")
    @blp.response(201, schemas.ComplaintStatusOut)
    def post(self, files_data, code):
        """为办理中的投诉补充证据（每件最多 6 个文件）"""
        complaint = _tracked(code)
        if complaint.filed_by_id is not None:
            raise NotFound("查询码不存在，请核对后重试", field="code")
        return complaints.add_evidence(complaint, [files.read_upload(files_data.get("file"))])


@blp.route("/complaints/track/<code>/rating")
class TrackingRating(MethodView):
    @blp.arguments(schemas.RateIn)
    @blp.response(200, schemas.ComplaintStatusOut)
    def post(self, data, code):
        """回访：对已办结投诉的办理情况评价（1–5），投诉随即关闭"""
        complaint = _tracked(code)
        if complaint.filed_by_id is not None:
            raise NotFound("查询码不存在，请核对后重试", field="code")
        return complaints.rate(complaint, **data)


@blp.route("/complaints/stats")
class Stats(MethodView):
    @blp.arguments(schemas.StatsQueryIn, location="query")
    @blp.response(200, schemas.StatsOut(many=True))
    def get(self, args):
        """各设区市每月各类投诉件数和办结天数中位数（只有数量，不含内容）"""
        return queries.public_stats(args.get("city_id"))


# ---------------------------------------------------------------- schools and inspectors

@blp.route("/complaints/filed")
class Filed(MethodView):
    @blp.response(200, schemas.ComplaintStatusOut(many=True))
    def get(self):
        """本账号提交的投诉"""
        return queries.filed_by(_actor())

    @blp.arguments(schemas.AccountComplaintIn)
    @blp.response(201, schemas.ComplaintStatusOut)
    def post(self, data):
        """学校或责任督学投诉（学校的投诉固定为本校）"""
        user = _actor()
        if user.role == Role.school_admin:
            data["school_id"] = user.school_id
        return complaints.open_case(source="school" if user.role == Role.school_admin else "inspector", actor=user,
                                    **data)


@blp.route("/complaints/filed/<code>/evidence")
class FiledEvidence(MethodView):
    @blp.arguments(EvidenceIn, location="files")
    @blp.response(201, schemas.ComplaintStatusOut)
    def post(self, files_data, code):
        """为本账号提交的办理中投诉补充证据"""
        complaint = _tracked(code)
        if complaint.filed_by_id != _actor().id:
            raise NotFound("投诉不存在")
        return complaints.add_evidence(complaint, [files.read_upload(files_data.get("file"))], actor=_actor())


@blp.route("/complaints/filed/<code>/rating")
class FiledRating(MethodView):
    @blp.arguments(schemas.RateIn)
    @blp.response(200, schemas.ComplaintStatusOut)
    def post(self, data, code):
        """回访：评价本账号提交的已办结投诉"""
        complaint = _tracked(code)
        if complaint.filed_by_id != _actor().id:
            raise NotFound("投诉不存在")
        return complaints.rate(complaint, actor=_actor(), **data)


# ---------------------------------------------------------------- handling bureaus

@blp.route("/complaints/queue")
class Queue(MethodView):
    @blp.arguments(schemas.QueueQueryIn, location="query")
    @blp.response(200, schemas.ComplaintOut(many=True))
    def get(self, args):
        """承办的投诉，按期限排列（逾期在前）；show=all 含已办结"""
        return [_with_contact(c) for c in queries.queue(_actor(), args["show"])]


def _own(complaint_id):
    return queries.own_complaint(_actor(), complaint_id)


@blp.route("/complaints/<int:complaint_id>")
class ComplaintById(MethodView):
    @blp.response(200, schemas.ComplaintOut)
    def get(self, complaint_id):
        """一件投诉（含投诉人姓名和电话，仅承办教育局可见）"""
        return _with_contact(_own(complaint_id))


@blp.route("/complaints/<int:complaint_id>/acknowledgement")
class ComplaintAcknowledge(MethodView):
    @blp.response(200, schemas.ComplaintOut)
    def post(self, complaint_id):
        """确认受理"""
        return _with_contact(complaints.acknowledge(_own(complaint_id), actor=_actor()))


@blp.route("/complaints/<int:complaint_id>/extension")
class ComplaintExtend(MethodView):
    @blp.arguments(schemas.ReasonIn)
    @blp.response(200, schemas.ComplaintOut)
    def post(self, data, complaint_id):
        """延长办理期限（只能一次，须说明理由）"""
        return _with_contact(complaints.extend(_own(complaint_id), actor=_actor(), **data))


@blp.route("/complaints/<int:complaint_id>/response-request")
class ComplaintResponseRequest(MethodView):
    @blp.arguments(schemas.ResponseRequestIn)
    @blp.response(200, schemas.ComplaintOut)
    def post(self, data, complaint_id):
        """请被投诉的机构或学校陈述（有陈述期限）"""
        return _with_contact(complaints.request_response(_own(complaint_id), actor=_actor(), **data))


@blp.route("/complaints/<int:complaint_id>/decision")
class ComplaintDecision(MethodView):
    @blp.arguments(schemas.DecideIn)
    @blp.response(200, schemas.ComplaintOut)
    def post(self, data, complaint_id):
        """处理结论：成立或不成立，附理由（须在收到陈述或陈述期满后）；成立且涉及机构时提出处理建议"""
        return _with_contact(complaints.decide(_own(complaint_id), actor=_actor(), **data))


@blp.route("/complaints/<int:complaint_id>/sanction")
class ComplaintSanction(MethodView):
    @blp.arguments(schemas.SanctionIn)
    @blp.response(200, schemas.ComplaintOut)
    def post(self, data, complaint_id):
        """市级审核员确认或不予确认处理建议（移出并禁入，或警告）"""
        return _with_contact(complaints.confirm_sanction(_own(complaint_id), actor=_actor(), **data))


# ---------------------------------------------------------------- the provider and the school answer

@blp.route("/provider/complaints")
class ProviderComplaints(MethodView):
    @blp.response(200, schemas.ProviderComplaintOut(many=True))
    def get(self):
        """关于本机构的投诉：待陈述的和已办结的（不含投诉人信息）"""
        return queries.for_provider(_actor().provider_id)


@blp.route("/provider/complaints/<int:complaint_id>/response")
class ProviderComplaintResponse(MethodView):
    @blp.arguments(schemas.RespondIn)
    @blp.response(200, schemas.ProviderComplaintOut)
    def post(self, data, complaint_id):
        """提交陈述"""
        complaint = queries.own_provider_complaint(_actor().provider_id, complaint_id)
        return complaints.respond(complaint, actor=_actor(), **data)


@blp.route("/school/complaints")
class SchoolComplaints(MethodView):
    @blp.response(200, schemas.ProviderComplaintOut(many=True))
    def get(self):
        """关于本校的投诉：待陈述的和已办结的（不含投诉人信息）"""
        return queries.for_school(_actor().school_id)


@blp.route("/school/complaints/<int:complaint_id>/response")
class SchoolComplaintResponse(MethodView):
    @blp.arguments(schemas.RespondIn)
    @blp.response(200, schemas.ProviderComplaintOut)
    def post(self, data, complaint_id):
        """学校提交陈述"""
        complaint = next((c for c in queries.for_school(_actor().school_id) if c.id == complaint_id), None)
        if complaint is None:
            raise NotFound("投诉不存在")
        return complaints.respond(complaint, actor=_actor(), **data)


# ---------------------------------------------------------------- appeals

@blp.route("/provider/appeals")
class ProviderAppeals(MethodView):
    @blp.response(200, schemas.AppealOut(many=True))
    def get(self):
        """本机构的申诉及复核结果"""
        return queries.appeals_for_provider(_actor().provider_id)

    @blp.arguments(schemas.AppealIn)
    @blp.response(201, schemas.AppealOut)
    def post(self, data):
        """对不予通过、移出、禁入或投诉成立的决定申诉（申诉期内，附理由）；复核期间原决定继续有效"""
        user = _actor()
        return complaints.file_appeal(user.provider, actor=user, **data)


@blp.route("/provider/appeals/<int:appeal_id>/evidence")
class ProviderAppealEvidence(MethodView):
    @blp.arguments(EvidenceIn, location="files")
    @blp.response(201, schemas.AppealOut)
    def post(self, files_data, appeal_id):
        """为复核中的申诉补充证据（PDF、JPG、PNG）"""
        appeal = queries.own_provider_appeal(_actor().provider_id, appeal_id)
        return complaints.add_appeal_evidence(appeal, [files.read_upload(files_data.get("file"))], actor=_actor())


@blp.route("/provider/appeals/appealable")
class ProviderAppealable(MethodView):
    @blp.response(200, schemas.AppealableOut(many=True))
    def get(self):
        """目前可以申诉的决定及各自的申诉截止日期"""
        return queries.appealable(_actor().provider)


@blp.route("/appeals")
class Appeals(MethodView):
    @blp.response(200, schemas.AppealOut(many=True))
    def get(self):
        """本市待复核的申诉"""
        return queries.appeal_queue(_actor())


@blp.route("/appeals/<int:appeal_id>")
class AppealById(MethodView):
    @blp.response(200, schemas.AppealOut)
    def get(self, appeal_id):
        """一件申诉"""
        return queries.own_appeal(_actor(), appeal_id)


@blp.route("/appeals/<int:appeal_id>/decision")
class AppealDecision(MethodView):
    @blp.arguments(schemas.AppealDecisionIn)
    @blp.response(200, schemas.AppealOut)
    def post(self, data, appeal_id):
        """复核决定：维持（confirm）或撤销/变更（change，随之恢复白名单或申报回到市级复审）；原决定人不能办理"""
        return complaints.decide_appeal(queries.own_appeal(_actor(), appeal_id), actor=_actor(), **data)

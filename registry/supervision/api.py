"""JSON API for supervision (/api/v1/supervision): assignments, visits and their photos, rectification
tasks, the dashboards with every indicator (province → city → county → school) and the monthly report's
numbers. The same schemas, queries and services as the pages; anything outside the caller's region
answers 404. Photos and evidence are uploaded as multipart/form-data (field `file`)."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest.fields import Upload
from marshmallow import fields

from registry.core import clock
from registry.core.api import MULTIPART, MultipartBlueprint
from registry.core.pagination import paginate
from registry.extensions import db
from registry.files import services as files
from registry.supervision import exports, indicators, queries, schemas
from registry.supervision import services as supervision

blp = MultipartBlueprint("api_supervision", __name__, url_prefix="/supervision",
                         description="督导：挂牌督导、每月到校督导、整改任务、督导指标与月报")


def _actor():
    return current_user._get_current_object()


def _page(page):
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page,
            "pages": page.pages}


def _as_of(args):
    return min(args["as_of"] or clock.today(), clock.today())


class PhotoUploadIn(schemas.BaseSchema):
    file = Upload(required=True, metadata={"description": "照片：JPG、PNG 或 PDF"})
    item = fields.String(load_default=None, metadata={"description": "所属检查项（可选）"})


class RespondUploadIn(schemas.RespondIn):
    file = Upload(metadata={"description": "整改佐证材料：PDF、JPG 或 PNG（可选）"})


# ---------------------------------------------------------------- assignments

@blp.route("/assignments")
class Assignments(MethodView):
    @blp.response(200, schemas.AssignmentOut(many=True))
    def get(self):
        """本县（市、区）当前的挂牌督导关系（县级审核员）"""
        rows = db.session.execute(queries.county_schools_stmt(_actor().region_id)).all()
        return [a for _s, a in rows if a is not None]

    @blp.arguments(schemas.AssignIn)
    @blp.response(201, schemas.AssignmentOut)
    def post(self, data):
        """把本县（市、区）的一所学校挂牌给一名责任督学（原督学的挂牌于前一天结束）"""
        school = queries.county_school(_actor(), data["school_id"])
        return supervision.assign(school, inspector_id=data["inspector_id"], actor=_actor(),
                                  started_on=data["started_on"])


@blp.route("/assignments/<int:assignment_id>/end")
class AssignmentEnd(MethodView):
    @blp.arguments(schemas.EndAssignmentIn)
    @blp.response(200, schemas.AssignmentOut)
    def post(self, data, assignment_id):
        """结束挂牌督导"""
        row = queries.assignment_in_county(_actor(), assignment_id)
        return supervision.end_assignment(row, actor=_actor(), ended_on=data["ended_on"])


# ---------------------------------------------------------------- visits

@blp.route("/my-schools")
class MySchools(MethodView):
    @blp.response(200, schemas.MySchoolOut(many=True))
    def get(self):
        """责任督学挂牌的学校：本月督导次数、最近一次督导、未销号整改任务"""
        return [{"school_id": r["school"].id, "school_name": r["school"].name,
                 "visits_this_month": r["visits_this_month"], "last_visit": r["last_visit"],
                 "open_tasks": r["open_tasks"]} for r in queries.inspector_schools(_actor(), clock.today())]


@blp.route("/visits")
class Visits(MethodView):
    @blp.arguments(schemas.PageIn, location="query")
    @blp.response(200, schemas.VisitPageOut)
    def get(self, args):
        """督导记录（责任督学：本人的；其他角色：辖区内的）"""
        return _page(paginate(queries.visits_stmt(_actor()), args["page"], args["per_page"]))

    @blp.arguments(schemas.VisitIn)
    @blp.response(201, schemas.VisitOut)
    def post(self, data):
        """登记一次到校督导：八个检查项各填 conforms / fails / not_applicable 和备注（不符合须写明问题）"""
        school = queries.assigned_school(_actor(), data["school_id"])
        return supervision.record_visit(school, actor=_actor(), visited_at=data["visited_at"], items=data["items"],
                                        summary=data["summary"])


@blp.route("/visits/<int:visit_id>")
class VisitById(MethodView):
    @blp.response(200, schemas.VisitOut)
    def get(self, visit_id):
        """一次督导记录（照片只列出编号和受保护的下载地址）"""
        return queries.visit_for(_actor(), visit_id)


@blp.route("/visits/<int:visit_id>/photos")
class VisitPhotos(MethodView):
    @blp.arguments(PhotoUploadIn, **MULTIPART)
    @blp.response(201, schemas.VisitPhotoOut)
    def post(self, data, visit_id):
        """为督导记录补充一张照片（multipart/form-data：file，可选 item）"""
        visit = queries.visit_for(_actor(), visit_id)
        name, content = files.read_upload(data["file"], field="file")
        return supervision.add_photo(visit, actor=_actor(), item=data["item"], filename=name, data=content)


@blp.route("/visits/<int:visit_id>/tasks")
class VisitTasks(MethodView):
    @blp.arguments(schemas.TaskIn)
    @blp.response(201, schemas.TaskOut)
    def post(self, data, visit_id):
        """把一个“不符合”检查项转为整改任务（学校或在该校服务的机构），限期整改"""
        visit = queries.visit_for(_actor(), visit_id)
        return supervision.open_task(visit, data["item"], actor=_actor(), target=data["target"],
                                     requirement=data["requirement"], deadline=data["deadline"],
                                     provider_id=data["provider_id"])


@blp.route("/visits/<int:visit_id>/complaint")
class VisitComplaint(MethodView):
    @blp.arguments(schemas.ComplaintIn)
    @blp.response(201, schemas.VisitOut)
    def post(self, data, visit_id):
        """把一个“不符合”检查项转为投诉案件（每个检查项一次；再次转交答复 409 already_referred）"""
        visit = queries.visit_for(_actor(), visit_id)
        supervision.refer_to_complaint(visit, data["item"], actor=_actor())
        return visit


# ---------------------------------------------------------------- tasks

@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(schemas.TaskQueryIn, location="query")
    @blp.response(200, schemas.TaskPageOut)
    def get(self, args):
        """整改任务（学校、机构：本单位的；督学和审核员：辖区内的）；overdue=true 只列逾期的"""
        stmt = queries.tasks_stmt(_actor(), args["status"], args["overdue"], clock.today())
        return _page(paginate(stmt, args["page"], args["per_page"]))


@blp.route("/tasks/<int:task_id>")
class TaskById(MethodView):
    @blp.response(200, schemas.TaskOut)
    def get(self, task_id):
        """一项整改任务"""
        return queries.task_for(_actor(), task_id)


@blp.route("/tasks/<int:task_id>/response")
class TaskRespond(MethodView):
    @blp.arguments(RespondUploadIn, **MULTIPART)
    @blp.response(200, schemas.TaskOut)
    def post(self, data, task_id):
        """学校或机构反馈整改情况（multipart/form-data：response，可选佐证文件 file）"""
        task = queries.task_for(_actor(), task_id)
        storage = data.pop("file", None)
        evidence = [files.read_upload(storage, field="file")] if storage is not None and storage.filename else []
        return supervision.respond(task, actor=_actor(), response=data["response"], evidence=evidence)


@blp.route("/tasks/<int:task_id>/close")
class TaskClose(MethodView):
    @blp.arguments(schemas.CloseIn)
    @blp.response(200, schemas.TaskOut)
    def post(self, data, task_id):
        """责任督学复核通过，整改销号（须已有整改反馈）"""
        return supervision.close(queries.task_for(_actor(), task_id), actor=_actor(), note=data["note"])


@blp.route("/tasks/<int:task_id>/reopen")
class TaskReopen(MethodView):
    @blp.arguments(schemas.ReopenIn)
    @blp.response(200, schemas.TaskOut)
    def post(self, data, task_id):
        """责任督学复核未通过，退回继续整改"""
        return supervision.reopen(queries.task_for(_actor(), task_id), actor=_actor(), note=data["note"])


# ---------------------------------------------------------------- dashboards and reports

@blp.route("/indicators")
class Indicators(MethodView):
    @blp.response(200, schemas.IndicatorDefOut(many=True))
    def get(self):
        """指标定义（landed=false：数据来源尚未上线）"""
        return [{"key": i.key, "label": i.label, "unit": i.unit, "source": i.source, "landed": i.landed,
                 "description": i.description} for i in indicators.INDICATORS]


@blp.route("/dashboard")
class DashboardHome(MethodView):
    @blp.arguments(schemas.AsOfIn, location="query")
    @blp.response(200, schemas.DashboardOut)
    def get(self, args):
        """本人辖区的督导指标（省→市→县→校逐级下钻：见 /dashboard/regions/{id}）"""
        return _dashboard(queries.home_region(_actor()), _as_of(args))


@blp.route("/dashboard/regions/<int:region_id>")
class DashboardRegion(MethodView):
    @blp.arguments(schemas.AsOfIn, location="query")
    @blp.response(200, schemas.DashboardOut)
    def get(self, args, region_id):
        """一个区划的督导指标：本级数字、各下级单位数字、本学期各月末趋势"""
        return _dashboard(queries.region_in_scope(_actor(), region_id), _as_of(args))


def _dashboard(region, as_of):
    data = exports.dashboard_dict(indicators.dashboard(region, as_of))
    month, overdue = queries.overdue_visits(as_of, region)
    data["overdue_visits_month"] = month.strftime("%Y-%m")
    data["overdue_visits"] = [{"school_id": r.school_id, "school_name": r.name, "visits": r.visits,
                               "required": r.required} for r in overdue]
    return data


@blp.route("/dashboard/schools/<int:school_id>")
class DashboardSchool(MethodView):
    @blp.arguments(schemas.AsOfIn, location="query")
    @blp.response(200, schemas.SchoolDashboardOut)
    def get(self, args, school_id):
        """一所学校的督导指标、最近督导记录和整改任务"""
        user = _actor()
        school = queries.school_in_scope(user, school_id)
        as_of = _as_of(args)
        figures = indicators.school_figures(school, as_of)
        return {"school_id": school.id, "school_name": school.name, "as_of": as_of,
                "indicators": [{"key": i.key, "label": i.label, "unit": i.unit, "landed": i.landed,
                                "value": figures[i.key].value if i.landed else None}
                               for i in indicators.INDICATORS],
                "visits": db.session.scalars(queries.visits_stmt(user, school_id=school.id).limit(12)).all(),
                "tasks": db.session.scalars(queries.tasks_stmt(user, school_id=school.id)).all()}


@blp.route("/reports/regions/<int:region_id>")
class MonthlyReport(MethodView):
    @blp.arguments(schemas.MonthIn, location="query")
    @blp.response(200, schemas.DashboardOut)
    def get(self, args, region_id):
        """月报的数字（截至该月最后一天）；PDF 和 XLSX 见 /supervision/regions/{id}/report/{YYYY-MM}.pdf|.xlsx"""
        region = queries.region_in_scope(_actor(), region_id)
        report = indicators.monthly_report(region, supervision.parse_month(args["month"]))
        data = exports.dashboard_dict(report.dashboard)
        data["overdue_visits_month"] = report.month.strftime("%Y-%m")
        data["overdue_visits"] = [{"school_id": r.school_id, "school_name": r.name, "visits": r.visits,
                                   "required": r.required} for r in report.unvisited]
        return data




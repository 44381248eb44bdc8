"""JSON API for applications: the same schemas and services as the HTML pages."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.applications import queries, schemas
from registry.applications import services as applications

blp = Blueprint("api_applications", __name__, url_prefix="/applications", description="申报")


def _actor():
    return current_user._get_current_object()


@blp.route("")
class Applications(MethodView):
    @blp.response(200, schemas.ApplicationSummaryOut(many=True))
    def get(self):
        """本机构的全部申报（最新在前）"""
        return applications.list_for_provider(current_user.provider_id)

    @blp.arguments(schemas.CreateApplicationIn)
    @blp.response(201, schemas.ApplicationOut)
    def post(self, data):
        ("""创建申报草稿：准入、年审（有效期届满前开放）、变更（已在白名单内）或恢复；"""
         """同一机构同一时间只能有一份未办结的申报；禁入期间 403""")
        return applications.create_application(current_user.provider, actor=_actor(), project_ids=data["project_ids"],
                                               kind=data["kind"])


@blp.route("/kinds")
class ApplicationKinds(MethodView):
    @blp.response(200, schemas.KindOptionOut(many=True))
    def get(self):
        """本机构当前可发起的申报类型（准入、年审、变更、恢复），以及其他类型不可用的原因"""
        return applications.kind_options(current_user.provider)


@blp.route("/<int:application_id>")
class ApplicationById(MethodView):
    @blp.response(200, schemas.ApplicationOut)
    def get(self, application_id):
        """申报状态、项目，以及已提交时冻结的内容"""
        return queries.own_application(current_user, application_id)


@blp.route("/<int:application_id>/checklist")
class ApplicationChecklist(MethodView):
    @blp.response(200, schemas.ChecklistOut)
    def get(self, application_id):
        """完整性清单：提交前仍缺的每一项"""
        app = queries.own_application(current_user, application_id)
        missing = applications.checklist(app)
        return {"application_id": app.id, "status": app.status.value, "ready": not missing, "missing": missing}


@blp.route("/<int:application_id>/projects")
class ApplicationProjects(MethodView):
    @blp.arguments(schemas.ProjectIdsIn)
    @blp.response(200, schemas.ApplicationOut)
    def put(self, data, application_id):
        """替换申报项目（仅草稿）"""
        app = queries.own_application(current_user, application_id)
        applications.set_projects(app, actor=_actor(), project_ids=data["project_ids"])
        return app


@blp.route("/<int:application_id>/submit")
class ApplicationSubmit(MethodView):
    @blp.arguments(schemas.SubmitIn)
    @blp.response(200, schemas.ApplicationOut)
    def post(self, _data, application_id):
        """提交申报：材料不全时 422 并列出每一项；非草稿时 409"""
        app = queries.own_application(current_user, application_id)
        return applications.submit(app, actor=_actor())


@blp.route("/<int:application_id>/withdraw")
class ApplicationWithdraw(MethodView):
    @blp.arguments(schemas.WithdrawIn)
    @blp.response(200, schemas.ApplicationOut)
    def post(self, data, application_id):
        """审核决定作出前撤回申报；状态不允许时 409"""
        app = queries.own_application(current_user, application_id)
        return applications.withdraw(app, actor=_actor(), reason=data["reason"])

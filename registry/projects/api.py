"""JSON API for service projects: the same schema and services as the HTML pages."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.projects import queries, schemas
from registry.projects import services as projects

blp = Blueprint("api_projects", __name__, url_prefix="/projects", description="服务项目")


def _actor():
    return current_user._get_current_object()


@blp.route("")
class Projects(MethodView):
    @blp.response(200, schemas.ProjectOut(many=True))
    def get(self):
        """本机构的服务项目"""
        return projects.list_projects(current_user.provider_id)

    @blp.arguments(schemas.ProjectIn)
    @blp.response(201, schemas.ProjectOut)
    def post(self, data):
        """添加服务项目（学科类内容、超过本市收费上限、他机构人员均被拒绝）"""
        staff_ids = data.pop("staff_ids")
        return projects.create_project(current_user.provider, actor=_actor(), staff_ids=staff_ids, **data)


@blp.route("/<int:project_id>")
class ProjectById(MethodView):
    @blp.response(200, schemas.ProjectOut)
    def get(self, project_id):
        """一个服务项目"""
        return queries.own_project(current_user.provider_id, project_id)

    @blp.arguments(schemas.ProjectPatchIn(partial=True))
    @blp.response(200, schemas.ProjectOut)
    @blp.alt_response(202, schema=schemas.ProjectOut,
                      description="项目已列入白名单：所给的审核事项（名称、类别、学段、涨价、资质要求）未直接生效，"
                                  "已保存为待审变更（pending_changes），须通过变更申报审核发布后生效；其余字段和降价已生效")
    def patch(self, data, project_id):
        ("""修改服务项目（只改所给字段；给出 staff_ids 时替换指派人员）。"""
         """已列入白名单的项目，审核事项的修改保存为待审变更，答复 202""")
        project = queries.own_project(current_user.provider_id, project_id)
        staff_ids = data.pop("staff_ids", None)
        project = projects.update_project(project, actor=_actor(), staff_ids=staff_ids, **data)
        deferred = [key for key in data if key in (project.pending_changes or {})]
        return (project, 202) if deferred else project

"""JSON API for schools management (sys_admin everywhere, county_reviewer in their county) and terms
(sys_admin): the same schemas and services as the HTML pages. Another county's school answers 404."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest.fields import Upload

from registry.core.pagination import paginate
from registry.core.schema import BaseSchema
from registry.files import services as files
from registry.schools import importer, queries, schemas, services

blp = Blueprint("api_schools", __name__, url_prefix="/schools", description="学校管理与学期设置")


class ImportFileIn(BaseSchema):
    file = Upload(required=True, metadata={"description": "按模板填写的 Excel（.xlsx）或 CSV 文件"})


def _actor():
    return current_user._get_current_object()


@blp.route("")
class Schools(MethodView):
    @blp.arguments(schemas.SchoolQueryIn, location="query")
    @blp.response(200, schemas.SchoolPageOut)
    def get(self, args):
        """本辖区的学校（系统管理员：全部），可按名称或学校标识码、区县筛选"""
        page = paginate(queries.schools_stmt(_actor(), args), args["page"], args["per_page"])
        return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page,
                "pages": page.pages}

    @blp.arguments(schemas.SchoolIn)
    @blp.response(201, schemas.SchoolOut)
    def post(self, data):
        """登记学校（学校标识码 10 位且不重复；县级审核员只能登记本辖区学校）"""
        return services.create_school(actor=_actor(), **data)


@blp.route("/<int:school_id>")
class SchoolById(MethodView):
    @blp.response(200, schemas.SchoolOut)
    def get(self, school_id):
        """学校详情"""
        return queries.managed_school(_actor(), school_id)

    @blp.arguments(schemas.SchoolUpdateIn)
    @blp.response(200, schemas.SchoolOut)
    def patch(self, data, school_id):
        """修改学校信息（只提交要修改的字段）"""
        return services.update_school(queries.managed_school(_actor(), school_id), actor=_actor(), **data)


@blp.route("/<int:school_id>/admins")
class SchoolAdmins(MethodView):
    @blp.response(200, schemas.SchoolAdminOut(many=True))
    def get(self, school_id):
        """学校管理员账号"""
        return queries.school_admins(queries.managed_school(_actor(), school_id))

    @blp.arguments(schemas.SchoolAdminIn)
    @blp.response(201, schemas.SchoolAdminOut)
    def post(self, data, school_id):
        """为学校创建学校管理员账号（首次登录须修改密码）"""
        return services.create_school_admin(queries.managed_school(_actor(), school_id), actor=_actor(), **data)


@blp.route("/import")
class SchoolImport(MethodView):
    @blp.arguments(ImportFileIn, location="files")
    @blp.response(201, schemas.ImportOut)
    def post(self, files_data):
        """从 Excel（.xlsx）或 CSV 批量导入学校：任何一行有错误时不导入任何学校，errors 按“第N行”列出每处错误"""
        _filename, data = files.read_upload(files_data.get("file"))
        created = importer.import_schools(actor=_actor(), data=data)
        return {"created": len(created), "schools": created}


@blp.route("/terms")
class Terms(MethodView):
    @blp.response(200, schemas.TermOut(many=True))
    def get(self):
        """全部学期，最近的在前"""
        return queries.list_terms()

    @blp.arguments(schemas.TermIn)
    @blp.response(201, schemas.TermOut)
    def post(self, data):
        """添加学期（名称不重复，结束日期晚于开始日期）"""
        return services.create_term(actor=_actor(), **data)


@blp.route("/terms/<int:term_id>")
class TermById(MethodView):
    @blp.arguments(schemas.TermIn)
    @blp.response(200, schemas.TermOut)
    def put(self, data, term_id):
        """修改学期名称和起止日期"""
        return services.update_term(queries.get_term(term_id), actor=_actor(), **data)

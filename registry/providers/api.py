"""JSON API for registration, the caller's own provider, its colleagues and documents (same services as HTML)."""
from flask import request
from flask.views import MethodView
from flask_login import current_user

from registry.auth.login import login_rate_limit
from registry.core.api import MULTIPART, MultipartBlueprint
from registry.extensions import limiter
from registry.files import services as files
from registry.providers import queries, schemas, services

blp = MultipartBlueprint("api_providers", __name__, url_prefix="/providers", description="机构注册、资料与资质材料")


def _actor():
    return current_user._get_current_object()


def _provider():
    return services.get_provider(current_user.provider_id)


def own_document(provider, document_id):
    return queries.own_document(provider, document_id, request.path)


@blp.route("")
class Providers(MethodView):
    decorators = [limiter.limit(login_rate_limit, methods=["POST"])]

    @blp.arguments(schemas.RegisterIn)
    @blp.response(201, schemas.RegisteredOut)
    @blp.alt_response(409, description="统一社会信用代码或用户名已被注册")
    def post(self, data):
        """机构自助注册（同时创建首个机构管理员账户）"""
        provider, admin = services.register_provider(**data)
        return {"provider": provider, "admin": admin}


@blp.route("/me")
class ProviderMe(MethodView):
    @blp.response(200, schemas.ProviderOut)
    def get(self):
        """本机构资料"""
        return _provider()

    @blp.arguments(schemas.ProfilePatchIn)
    @blp.response(200, schemas.ProviderOut)
    @blp.alt_response(202, schema=schemas.ProviderOut,
                      description="机构已列入白名单：所给的机构名称或类型未直接生效，已保存为待审变更（pending_changes），"
                                  "须通过变更申报审核发布后生效；其余字段已生效")
    def patch(self, data):
        ("""修改本机构资料（统一社会信用代码和注册地不能修改）。"""
         """已列入白名单的机构，名称和类型的修改保存为待审变更，答复 202""")
        provider = services.update_profile(_provider(), actor=_actor(), **data)
        deferred = [key for key in data if key in (provider.pending_changes or {})]
        return (provider, 202) if deferred else provider


@blp.route("/me/colleagues")
class Colleagues(MethodView):
    @blp.response(200, schemas.ColleagueOut(many=True))
    def get(self):
        """本机构的账户"""
        return services.list_colleagues(_provider())

    @blp.arguments(schemas.ColleagueIn)
    @blp.response(201, schemas.ColleagueOut)
    @blp.alt_response(409, description="用户名已被使用")
    def post(self, data):
        """为本机构添加同事账户（首次登录须修改初始密码）"""
        return services.add_colleague(_provider(), actor=_actor(), **data)


@blp.route("/me/documents")
class Documents(MethodView):
    @blp.response(200, schemas.DocumentOut(many=True))
    def get(self):
        """本机构现行的资质材料（不含已被替换的旧版本）"""
        return services.current_documents(current_user.provider_id)

    @blp.arguments(schemas.DocumentUploadIn, **MULTIPART)
    @blp.response(201, schemas.DocumentOut)
    @blp.alt_response(413, description="文件超过大小上限")
    def post(self, data):
        """上传资质材料（multipart/form-data;PDF、JPG 或 PNG，按内容识别）"""
        filename, content = files.read_upload(data.pop("file"))
        return services.upload_document(_provider(), actor=_actor(), filename=filename, data=content, **data)


@blp.route("/me/documents/<int:document_id>/replace")
class DocumentReplace(MethodView):
    @blp.arguments(schemas.DocumentReplaceIn, **MULTIPART)
    @blp.response(201, schemas.DocumentOut)
    @blp.alt_response(404, description="材料不存在")
    @blp.alt_response(409, description="该材料已被替换，请替换最新版本")
    @blp.alt_response(413, description="文件超过大小上限")
    def post(self, data, document_id):
        """上传某份材料的新版本；旧版本保留并标记为已替换"""
        provider = _provider()
        previous = own_document(provider, document_id)
        filename, content = files.read_upload(data.pop("file"))
        return services.upload_document(provider, actor=_actor(), doc_type=previous.doc_type, filename=filename,
                                        data=content, replaces_id=previous.id, **data)


@blp.route("/me/documents/<int:document_id>/history")
class DocumentHistory(MethodView):
    @blp.response(200, schemas.DocumentOut(many=True))
    @blp.alt_response(404, description="材料不存在")
    def get(self, document_id):
        """某份材料的全部版本，最新在前"""
        document = own_document(_provider(), document_id)
        return services.document_history(services.latest_version(document))

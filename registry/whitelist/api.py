"""JSON API of the public whitelist (no token needed): the same queries and schemas as the HTML pages."""
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from registry.audit import anchors
from registry.core import cache
from registry.core import db as core_db
from registry.whitelist import queries, schemas

blp = Blueprint("api_whitelist", __name__, url_prefix="/whitelist", description="公开白名单（无需登录）")

# The public list is answered from the shared cache in front of the app (registry.core.cache.FrontCache)
# for the day, under a generation that every commit writing one of the tables it shows bumps: entries and
# their counties, providers, projects, batches, regions.
cache.watch("whitelist", "whitelist_entry", "entry_county", "provider", "project", "release_batch", "region")
cache.watch("whitelist", "project_standing")  # issue 16: the satisfaction rate shown with each entry
cache.serve_from_cache("api_whitelist.Whitelist", "whitelist")
core_db.reads_only("api_whitelist.Whitelist", "api_whitelist.WhitelistVerify", "api_whitelist.WhitelistAuditHeads")


@blp.route("")
class Whitelist(MethodView):
    @blp.arguments(schemas.WhitelistQueryIn(), location="query")  # one instance: building a schema per request is slow
    @blp.response(200, schemas.WhitelistPageOut)
    def get(self, args):
        """今日在有效期内的白名单条目（含暂停，不含已移出和已过期），可按城市、区县、类别、学段、层次筛选，按名称搜索"""
        return queries.list_entries(args, args["page"], args["per_page"])


@blp.route("/providers/<int:provider_id>")
class WhitelistProvider(MethodView):
    @blp.response(200, schemas.WhitelistProviderOut)
    @blp.alt_response(404, description="机构不在白名单中")
    def get(self, provider_id):
        """白名单机构：基本信息、在有效期内的项目、已移出或已过期的项目"""
        view = queries.provider_page(provider_id)
        certificate_url = (url_for("whitelist.certificate", provider_id=provider_id)
                           if view.certificate is not None and view.has_active else None)
        return {"provider": view.provider,
                "entries": [queries.entry_view(e, view.day) for e in view.current],
                "past_entries": [queries.entry_view(e, view.day) for e in view.past],
                "certificate_url": certificate_url}


@blp.route("/changes")
class WhitelistChanges(MethodView):
    @blp.arguments(schemas.WhitelistChangesQueryIn, location="query")
    @blp.response(200, schemas.WhitelistChangePageOut)
    def get(self, args):
        """白名单变更公告：新增、续期、暂停、恢复、移出、到期，最新在前"""
        return queries.list_changes(args, args["page"], args["per_page"])


@blp.route("/changes/audit-heads")
class WhitelistAuditHeads(MethodView):
    @blp.response(200, schemas.AuditHeadOut(many=True))
    def get(self):
        """审计日志每日链头：每个已结束日期的最后一条审计记录的序号和哈希，最早在前。可保存此文件，日后用
        `flask registry audit-verify --against <文件或网址>` 核验审计日志在公布后未被改写"""
        return anchors.published_heads()


@blp.route("/verify/<token>")
class WhitelistVerify(MethodView):
    @blp.response(200, schemas.CertificateVerifyOut)
    @blp.alt_response(404, description="证明不存在或二维码无效")
    def get(self, token):
        """核验准入证明的实时状态：valid 有效 / partly_suspended 部分项目暂停 / suspended 暂停 / delisted 已移出 /
        expired 已过期"""
        result = queries.verification(token, counties=True)
        return {"status": result.status, "status_label": result.label, "checked_on": result.day.isoformat(),
                "provider": result.provider,
                "entries": [queries.entry_view(e, result.day) for e in result.entries]}


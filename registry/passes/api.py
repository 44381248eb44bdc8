"""JSON API for entry passes and the gate (issue 14, item 7): passes (list, issue, detail, revoke), scan,
the on-site list, 未到岗, offline sync, the public keys and the deny list. The same services as the pages.
A provider_admin sees the passes of its orders; a school_admin its school's; a gate_keeper scans, syncs and
reads the on-site list, the keys and the deny list of its school only."""
from flask import url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.core.errors import NotAllowed
from registry.passes import queries, schemas, services

blp = Blueprint("api_passes", __name__, url_prefix="", description="入校通行证与门岗核验")


def _actor():
    return current_user._get_current_object()


def _school():
    if current_user.school_id is None:
        raise NotAllowed("只有学校账号（学校管理员或门卫）可以使用门岗接口")
    return current_user.school


def _photo_url(person_id):
    return url_for("passes.photo", person_id=person_id)


@blp.route("/passes")
class Passes(MethodView):
    @blp.response(200, schemas.PassOut(many=True))
    def get(self):
        """通行证列表：机构看本机构订单人员的通行证，学校看本校的通行证"""
        if current_user.provider_id is not None:
            return queries.provider_passes(current_user.provider_id)
        return queries.school_passes(_school().id)

    @blp.arguments(schemas.SchoolPassIn)
    @blp.response(201, schemas.PassOut)
    def post(self, data):
        """为本校自聘人员签发通行证（人员今天须准入合格；入校日与时段由学校设定）"""
        return services.issue_school_pass(_school(), actor=_actor(), **data)


@blp.route("/passes/<int:pass_id>")
class PassById(MethodView):
    @blp.response(200, schemas.PassOut)
    def get(self, pass_id):
        """一张通行证（含二维码内容和本人手机页链接）"""
        return queries.managed_pass(_actor(), pass_id)


@blp.route("/passes/<int:pass_id>/revoke")
class PassRevoke(MethodView):
    @blp.arguments(schemas.RevokeIn)
    @blp.response(200, schemas.PassOut)
    def post(self, data, pass_id):
        """撤销通行证（须填写原因），门岗立即拒绝"""
        return services.revoke(queries.managed_pass(_actor(), pass_id), actor=_actor(), reason=data["reason"])


@blp.route("/gate/scan")
class GateScan(MethodView):
    @blp.arguments(schemas.ScanIn)
    @blp.response(200, schemas.DecisionOut)
    def post(self, data):
        """门岗核验一次扫码或通行码：按实时规则给出允许进入/禁止进入及全部原因，并记录；同一天第二次扫码记为离校"""
        decision, _row = services.scan(_school(), user=_actor(), text=data["text"])
        return services.with_photo_url(decision, _photo_url)


@blp.route("/gate/sync")
class GateSync(MethodView):
    @blp.arguments(schemas.SyncIn)
    @blp.response(200, schemas.SyncResultOut(many=True))
    def post(self, data):
        """同步离线扫码：逐条按实时规则复核并记录；离线放行而实时规则拒绝的，通知学校和县区"""
        return services.sync(_school(), user=_actor(), items=data["scans"])


@blp.route("/gate/onsite")
class GateOnSite(MethodView):
    @blp.response(200, schemas.OnSiteOut(many=True))
    def get(self):
        """在校人员：今天已扫码进校、尚未扫码离校的人员"""
        return queries.on_site(_school().id)


@blp.route("/gate/no-shows")
class GateNoShows(MethodView):
    @blp.arguments(schemas.NoShowQuery, location="query")
    @blp.response(200, schemas.NoShowOut(many=True))
    def get(self, args):
        """未到岗：排定的服务日没有进校扫码的人员（默认近 7 天）"""
        if current_user.provider_id is not None:
            return queries.no_shows(provider_id=current_user.provider_id, **args)
        return queries.no_shows(school_id=_school().id, **args)


@blp.route("/gate/keys")
class GateKeys(MethodView):
    @blp.response(200, schemas.KitOut)
    def get(self):
        """离线核验数据：Ed25519 公钥（按 key id）、本校禁止名单、时段容差和生成时间"""
        return services.offline_kit(_school())


@blp.route("/gate/deny-list")
class GateDenyList(MethodView):
    @blp.response(200, schemas.DenyListOut)
    def get(self):
        """本校禁止名单：已撤销、人员已更换、订单或条目不在有效状态、人员今日未准入的通行证 id"""
        return services.offline_kit(_school())

"""JSON API for a provider: its projects' standings per term and the latest comments, anonymised."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.quality import queries, schemas

blp = Blueprint("api_provider_quality", __name__, url_prefix="/provider/quality", description="机构：服务质量评估")


@blp.route("")
class ProviderQuality(MethodView):
    @blp.response(200, schemas.ProviderQualityOut)
    def get(self):
        """本机构各项目每学期的质量评估，以及家长和学校的匿名意见（不含学校、订单和日期）"""
        return queries.provider_quality(current_user.provider_id)

"""JSON API of the standings for the bureaus (a city reviewer: the city's providers; a county reviewer or an
inspector: the county's), per provider, project and term."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.core.pagination import paginate
from registry.quality import queries, schemas

blp = Blueprint("api_quality_standings", __name__, url_prefix="/quality", description="质量评估（教育局）")


@blp.route("/standings")
class Standings(MethodView):
    @blp.arguments(schemas.StandingQueryIn, location="query")
    @blp.response(200, schemas.StandingPageOut)
    def get(self, args):
        """本辖区机构各项目每学期的质量评估：家长与学校满意率分列及合成、未到岗率、额外收费与非自愿反映数、处理结果"""
        page = paginate(queries.standings_stmt(current_user, args), args["page"], args["per_page"])
        return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page,
                "pages": page.pages}

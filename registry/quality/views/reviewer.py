"""The bureaus' standings (city reviewers: their city's providers; county reviewers and inspectors: their
county's): per provider, project and term, with the XLSX export of the same list."""
from flask import Blueprint, render_template, request
from flask_login import current_user
from marshmallow import EXCLUDE

from registry.core import clock
from registry.core.pagination import paginate
from registry.core.schema import load
from registry.extensions import db, limiter
from registry.quality import exports, queries, schemas
from registry.quality.models import StandingLevel

bp = Blueprint("quality_standings", __name__)

EXPORT_RATE_LIMIT = "30 per minute"


def _args():
    return load(schemas.StandingQueryIn(unknown=EXCLUDE), request.args.to_dict())


@bp.get("/quality/standings")
def index():
    args = _args()
    page = paginate(queries.standings_stmt(current_user, args), args["page"], args["per_page"])
    return render_template("quality/standings.html", page=page, args=args, terms=queries.terms_with_standings(),
                           levels=StandingLevel.labels(), region=queries.region_name(current_user),
                           export_args={k: v for k, v in request.args.items() if k not in ("page", "per_page") and v})


@bp.get("/quality/standings.xlsx")
@limiter.limit(EXPORT_RATE_LIMIT)
def export_xlsx():
    args = _args()
    standings = db.session.scalars(queries.standings_stmt(current_user, args)).unique().all()
    region = queries.region_name(current_user)
    day = clock.today()
    data = exports.to_xlsx(standings, f"{region}课后服务质量评估（{day.isoformat()} 导出）")
    return exports.response(data, region, day)

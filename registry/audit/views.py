"""The auditor's read-only view of the audit log: in Chinese, filtered by person, action and date, exported."""
from flask import Blueprint, abort, render_template, request

from registry.audit import exports, queries, services
from registry.core.clock import CST
from registry.core.pagination import page_args, paginate
from registry.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")

RESULTS = queries.RESULTS


@bp.get("/")
def index():
    filters = queries.filters_from(request.args)
    page = paginate(queries.log_stmt(filters), *page_args(default_per_page=50))
    export_args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    return render_template("audit/index.html", page=page, results=RESULTS, args=request.args, tz=CST,
                           words=queries, actors=queries.actor_names(), action_groups=queries.action_choices(),
                           export_args=export_args,
                           all_objects_args={k: v for k, v in export_args.items() if k != "object"})


@bp.get("/export.<fmt>")
def export(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    stmt = queries.log_stmt(queries.filters_from(request.args)).limit(exports.MAX_ROWS)
    return exports.response(db.session.scalars(stmt).all(), fmt)


@bp.post("/verify")
def verify():
    result = services.verify_chain()
    services.record("audit.verify", result="success" if result.ok else "failure",
                    details={"checked": result.checked, "first_bad_seq": result.first_bad_seq})
    return render_template("audit/verify.html", result=result)

"""The auditor's read-only view of the audit log."""
from datetime import datetime, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select

from registry.audit import services
from registry.audit.models import AuditLog
from registry.core.clock import CST
from registry.core.pagination import page_args, paginate

bp = Blueprint("audit", __name__, url_prefix="/audit")

RESULTS = {"success": "成功", "failure": "失败", "denied": "拒绝"}


def _date(name):
    try:
        return datetime.strptime(request.args.get(name, ""), "%Y-%m-%d")
    except ValueError:
        return None


@bp.get("/")
def index():
    stmt = select(AuditLog).order_by(AuditLog.seq.desc())
    args = request.args
    if args.get("action"):
        stmt = stmt.where(AuditLog.action.startswith(args["action"].strip(), autoescape=True))
    if args.get("actor"):
        stmt = stmt.where(AuditLog.actor_name == args["actor"].strip())
    if args.get("result") in RESULTS:
        stmt = stmt.where(AuditLog.result == args["result"])
    if args.get("object_type"):
        stmt = stmt.where(AuditLog.object_type == args["object_type"].strip())
    offset = timedelta(hours=8)  # the filter dates are China dates; rows are UTC
    if (start := _date("from")) is not None:
        stmt = stmt.where(AuditLog.created_at >= start - offset)
    if (end := _date("to")) is not None:
        stmt = stmt.where(AuditLog.created_at < end + timedelta(days=1) - offset)
    page = paginate(stmt, *page_args(default_per_page=50))
    return render_template("audit/index.html", page=page, results=RESULTS, args=args, tz=CST)


@bp.post("/verify")
def verify():
    result = services.verify_chain()
    services.record("audit.verify", result="success" if result.ok else "failure",
                    details={"checked": result.checked, "first_bad_seq": result.first_bad_seq})
    return render_template("audit/verify.html", result=result)

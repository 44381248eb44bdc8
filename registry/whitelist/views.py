"""The public whitelist (no login): the list, provider pages, exports, the change feed, the batch
announcement and admission-certificate PDFs, and certificate verification (/verify/<token>)."""
from flask import Blueprint, render_template, request
from marshmallow import EXCLUDE

from registry.audit import anchors
from registry.batches import pdf as batches_pdf
from registry.batches import queries as batches_queries
from registry.core import clock, tabular
from registry.core import db as core_db
from registry.core import pdf as core_pdf
from registry.core.schema import load
from registry.extensions import db, limiter
from registry.whitelist import exports, pdf, queries, schemas
from registry.whitelist.models import ENTRY_STATUS_LABELS

bp = Blueprint("whitelist", __name__)

# The change feed shows the latest daily audit chain heads; the JSON lists them all.
AUDIT_HEADS_SHOWN = 7

# PDFs are rendered on request in a child process: cap how often one address can ask for them.
PDF_RATE_LIMIT = "30 per minute"
EXPORT_RATE_LIMIT = "30 per minute"
STATUS_BADGES = {"active": "badge-ok", "suspended": "badge-warn", "partly_suspended": "badge-warn",
                 "delisted": "badge-err", "expired": "badge-err",
                 "valid": "badge-ok"}


def _render(template, **context):
    return render_template(template, badges=STATUS_BADGES, status_labels=ENTRY_STATUS_LABELS,
                           county_names=queries.county_names, **context)


def _args(schema_class):
    # Unknown query arguments are ignored, as the API does for its query string: shared links carry
    # tracking arguments (WeChat adds from=singlemessage&isappinstalled=0) and must still open.
    return load(schema_class(unknown=EXCLUDE), request.args.to_dict())


@bp.get("/whitelist")
def index():
    args = _args(schemas.WhitelistQueryIn)
    page = queries.list_entries(args, args["page"], args["per_page"])
    return _render(
        "whitelist/index.html", page=page, args=args, regions=queries.region_choices(),
        batches=batches_queries.recent_batches(args.get("city"), limit=6), today=clock.today(),
        categories=schemas.CATEGORY_CHOICES, stages=schemas.STAGE_CHOICES, levels=schemas.LEVEL_CHOICES,
        statuses=schemas.STATUS_CHOICES,
        export_args={k: v for k, v in request.args.items() if k not in ("page", "per_page") and v})


def _export(fmt):
    args = _args(schemas.WhitelistFilterIn)
    day = clock.today()
    entries = queries.all_entries(args, day)
    if fmt == "csv":
        data = exports.to_csv(entries)
    elif fmt == "xlsx":
        data = exports.to_xlsx(entries)
    else:
        data = exports.to_json(entries, day)
    return exports.response(data, fmt, day)


@bp.get("/whitelist/export.csv")
@limiter.limit(EXPORT_RATE_LIMIT)
def export_csv():
    return _export("csv")


@bp.get("/whitelist/export.xlsx")
@limiter.limit(EXPORT_RATE_LIMIT)
def export_xlsx():
    return _export("xlsx")


@bp.get("/whitelist/export.json")
@limiter.limit(EXPORT_RATE_LIMIT)
def export_json():
    return _export("json")


@bp.get("/whitelist/providers/<int:provider_id>")
def provider(provider_id):
    view = queries.provider_page(provider_id)
    return _render("whitelist/provider.html", view=view)


@bp.get("/whitelist/changes")
def changes():
    args = _args(schemas.WhitelistChangesQueryIn)
    page = queries.list_changes(args, args["page"], args["per_page"])
    heads = anchors.published_heads(latest=AUDIT_HEADS_SHOWN)[::-1]  # newest first, as the feed
    return _render("whitelist/changes.html", page=page, args=args, regions=queries.region_choices(),
                           kinds=schemas.KIND_CHOICES, audit_heads=heads, export_args=_export_args())


def _export_args():
    return {k: v for k, v in request.args.items() if k not in ("page", "per_page") and v}


@bp.get("/whitelist/changes/export.<fmt>")
@limiter.limit(EXPORT_RATE_LIMIT)
def changes_export(fmt):
    """The change feed with the page's filters, as CSV or XLSX (public: no reason text, only its category)."""
    args = _args(schemas.WhitelistChangesQueryIn)
    items = db.session.scalars(queries.changes_stmt(args).limit(exports.MAX_CHANGES)).unique()
    day = clock.today()
    data = tabular.export_table(exports.CHANGE_COLUMNS, exports.change_rows(items), fmt, sheet="白名单变更")
    return tabular.export_response(data, fmt, f"白名单变更-{day.isoformat()}", f"whitelist-changes-{day.isoformat()}")


@bp.get("/whitelist/batches/<int:batch_id>/announcement.pdf")
@limiter.limit(PDF_RATE_LIMIT)
def announcement(batch_id):
    batch = batches_queries.published_batch(batch_id)
    return core_pdf.pdf_response(batches_pdf.render_announcement(batch, queries.announcement_rows(batch), cached=True),
                                 batches_pdf.announcement_filename(batch))


@bp.get("/whitelist/providers/<int:provider_id>/certificate.pdf")
@limiter.limit(PDF_RATE_LIMIT)
def certificate(provider_id):
    view, cert = pdf.certificate_of(provider_id)
    return core_pdf.pdf_response(pdf.render_certificate(view, cert), pdf.certificate_filename(view))


core_db.reads_only("whitelist.verify")


@bp.get("/verify/<token>")
def verify(token):
    result = queries.verification(token)
    return _render("whitelist/verify.html", result=result)

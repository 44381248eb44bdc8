"""The public whitelist (no login): the list, provider pages, exports, the change feed, the batch
announcement and admission-certificate PDFs, and certificate verification (/verify/<token>)."""
from flask import Blueprint, render_template, request
from marshmallow import EXCLUDE

from registry.audit import anchors
from registry.auth.views import qr_data_uri
from registry.core import clock, pdf
from registry.core import db as core_db
from registry.core.errors import Conflict
from registry.core.schema import load
from registry.extensions import limiter
from registry.whitelist import exports, queries, schemas
from registry.whitelist.models import ENTRY_STATUS_LABELS

bp = Blueprint("whitelist", __name__)

# The change feed shows the latest daily audit chain heads; the JSON lists them all.
AUDIT_HEADS_SHOWN = 7

# PDFs are rendered on request in a child process: cap how often one address can ask for them.
PDF_RATE_LIMIT = "30 per minute"
EXPORT_RATE_LIMIT = "30 per minute"
# The announcement's table, a text grid (registry.core.pdf.TextGrid): widths in half-ems of its 8pt font,
# 127 of them = 508pt of the 510pt between the page margins. A row is as many lines as its tallest cell:
# two for nearly all (the validity always takes two; names of up to 28 characters and titles of up to 18
# fit in two), three for longer names or titles.
ANNOUNCEMENT_GRID = pdf.TextGrid((
    pdf.GridColumn("序号", 7, center=True),
    pdf.GridColumn("机构名称", 30),
    pdf.GridColumn("统一社会信用代码", 20),
    pdf.GridColumn("服务项目", 21),
    pdf.GridColumn("活动类别 · 适用年级", 23),
    pdf.GridColumn("价格\n（元/人·\n课时）", 11, center=True),
    pdf.GridColumn("有效期", 15),
), font_size_pt=8)
# Rows per page of the announcement table. A two-line row is 28.1pt (two 10.4pt lines, 6.8pt padding and
# its rule), the three-line header 38.5pt, a page 739.8pt high: 22 rows take 657.2pt with the header, and
# the 82.6pt left over hold seven more lines, so a page of 22 rows still fits when seven of them have a
# third line. The first page also carries the title and the introduction (~185pt): 16 rows, with the same
# room. tests/web/test_pdfs.py renders both cases. (The table cells before took as many lines.)
ANNOUNCEMENT_FIRST_PAGE_ROWS = 16
ANNOUNCEMENT_ROWS_PER_PAGE = 22
# The room (in rows) that the closing note and signature take on the last page (~100pt).
ANNOUNCEMENT_CLOSING_ROWS = 3
STATUS_BADGES = {"active": "badge-ok", "suspended": "badge-warn", "delisted": "badge-err", "expired": "badge-err",
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
        batches=queries.recent_batches(args.get("city"), limit=6), today=clock.today(),
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
                           kinds=schemas.KIND_CHOICES, audit_heads=heads)


@bp.get("/whitelist/batches/<int:batch_id>/announcement.pdf")
@limiter.limit(PDF_RATE_LIMIT)
def announcement(batch_id):
    batch = queries.published_batch(batch_id)
    # Kept by content digest (registry.core.pdf): the rows show live provider and project fields, so a
    # renamed provider or an edited project makes a new document, never a stale one.
    data = render_announcement(batch, queries.announcement_rows(batch), cache_name=f"announcement-{batch.id}")
    return pdf.pdf_response(data, f"{batch.issuer}{batch.name}白名单公告.pdf")


def category_and_grades(project):
    """"美育（艺术） · 4–9年级" for the announcement's shared column: word joiners (U+2060, not printed)
    between the characters of each half, so the cell wraps at the dot and never inside a name or range."""
    return " · ".join("\u2060".join(text) for text in (project.category_label, queries.grades(project.stages_mask)))


def announcement_row(number, row):
    """One row of the announcement's table as the lines of its text grid (the validity wraps before 至)."""
    return ANNOUNCEMENT_GRID.row((
        str(number), row.provider.name, row.provider.uscc, row.project.title, category_and_grades(row.project),
        f"{row.project.price:.2f}", f"{row.valid_from.isoformat()} 至\u00a0{row.valid_until.isoformat()}"))


def announcement_blocks(rows):
    return queries.page_blocks(rows, ANNOUNCEMENT_FIRST_PAGE_ROWS, ANNOUNCEMENT_ROWS_PER_PAGE,
                               ANNOUNCEMENT_CLOSING_ROWS)


def render_announcement(batch, rows, cache_name=None):
    """The announcement PDF: one page per block, rendered in parallel parts (registry.core.pdf)."""
    return pdf.render_paged_pdf("announcement.html", announcement_blocks(rows), cache_name=cache_name, batch=batch,
                                row_count=len(rows), provider_count=len({r.provider.id for r in rows}),
                                grid=ANNOUNCEMENT_GRID, announcement_row=announcement_row)


@bp.get("/whitelist/providers/<int:provider_id>/certificate.pdf")
@limiter.limit(PDF_RATE_LIMIT)
def certificate(provider_id):
    view = queries.provider_page(provider_id)
    cert = queries.certificate_for(provider_id)
    if not view.has_active:
        raise Conflict("该机构目前没有有效的白名单项目，不出具准入证明；可扫描原证明二维码或在白名单中查询其状态",
                       code="no_active_entry")
    url = queries.verify_url(cert)
    active = [e for e in view.current if e.effective_status(view.day).value == "active"]
    data = pdf.render_pdf("certificate.html", view=view, cert=cert, entries=active, verify_url=url,
                          qr=qr_data_uri(url), issued_on=view.day)
    return pdf.pdf_response(data, f"{view.provider.name}准入证明.pdf")


core_db.reads_only("whitelist.verify")


@bp.get("/verify/<token>")
def verify(token):
    result = queries.verification(token)
    return _render("whitelist/verify.html", result=result)

"""The whitelist's PDFs: the batch announcement (白名单公告) and the admission certificate (准入证明).

The announcement lists what a published batch granted, one row per provider and project, as a text grid
(registry.core.pdf.TextGrid) cut into page-sized blocks, rendered in parallel parts
(registry.core.pdf.render_paged_pdf). The certificate is issued only while the provider has an active
entry; its QR code points at /verify/<token>, which tells the live status.
"""
from registry.auth.views import qr_data_uri
from registry.core import pdf
from registry.core.errors import Conflict
from registry.whitelist import queries

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


# ---------------------------------------------------------------- the batch announcement

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


def render_announcement(batch, rows=None, cached=False):
    """The announcement PDF of a published batch: its rows (queries.announcement_rows, unless given), one
    page per block, rendered in parallel parts. `cached` keeps the document in PDF_CACHE_DIR by content
    digest (registry.core.pdf.cache): the rows show live provider and project fields, so a renamed
    provider or an edited project makes a new document, never a stale one."""
    if rows is None:
        rows = queries.announcement_rows(batch)
    return pdf.render_paged_pdf("announcement.html", announcement_blocks(rows),
                                cache_name=f"announcement-{batch.id}" if cached else None, batch=batch,
                                row_count=len(rows), provider_count=len({r.provider.id for r in rows}),
                                grid=ANNOUNCEMENT_GRID, announcement_row=announcement_row)


def announcement_filename(batch):
    return f"{batch.issuer}{batch.name}白名单公告.pdf"


# ---------------------------------------------------------------- the admission certificate

def certificate_of(provider_id):
    """(the provider's page, its certificate): NotFound for an unknown provider or one without a
    certificate, Conflict while it has no active entry."""
    view = queries.provider_page(provider_id)
    cert = queries.certificate_for(provider_id)
    if not view.has_active:
        raise Conflict("该机构目前没有有效的白名单项目，不出具准入证明；可扫描原证明二维码或在白名单中查询其状态",
                       code="no_active_entry")
    return view, cert


def render_certificate(view, cert):
    """The certificate PDF: the provider's active entries and a QR code of the certificate's verify URL."""
    url = queries.verify_url(cert)
    active = [e for e in view.current if e.effective_status(view.day).value == "active"]
    return pdf.render_pdf("certificate.html", view=view, cert=cert, entries=active, verify_url=url,
                          qr=qr_data_uri(url), issued_on=view.day)


def certificate_filename(view):
    return f"{view.provider.name}准入证明.pdf"

"""A published batch's announcement (白名单公告).

The announcement lists what a published batch granted, one row per provider and project (the rows are the
whitelist's: registry.whitelist.queries.announcement_rows, which the whitelist's page passes in), as a text
grid (registry.core.pdf.TextGrid) cut into page-sized blocks, rendered in parallel parts
(registry.core.pdf.render_paged_pdf).
"""
import functools

from registry.core import pdf
from registry.policy import services as policy

# The announcement's table, a text grid (registry.core.pdf.TextGrid) set in the certificate's proportional
# Noto Sans CJK SC at 7.5pt (issue 19; its advance widths come from the font file, FontMetrics): widths in
# half-ems of the font size, 140 of them = 525pt between the announcement's 12mm side margins (527pt).
# A row is as many lines as its
# tallest cell: two for nearly all (the validity and the category over the grades always take two; names
# of up to 28 characters, titles of up to 18 and two or three service counties fit in two), three for
# longer names or titles. A credit code (18 proportional characters, 10.3–11.5 em) fits its column on one line.
ANNOUNCEMENT_GRID = pdf.TextGrid((
    pdf.GridColumn("序号", 7, center=True),
    pdf.GridColumn("机构名称", 30),
    pdf.GridColumn("统一社会信用代码", 25),
    pdf.GridColumn("服务项目", 20),
    pdf.GridColumn("活动类别\n适用年级", 15),
    pdf.GridColumn("服务区县", 16),
    pdf.GridColumn("价格\n（元/人·\n课时）", 11, center=True),
    pdf.GridColumn("有效期", 16),
), font_size_pt=7.5, font=pdf.PROPORTIONAL_FONT)
COUNTY_LINES = 2   # more service counties than fit in two lines read "…等 N 个区县"
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
    """"美育（艺术）" over "4–9年级" in the announcement's shared column: word joiners (U+2060, not printed)
    between the characters of each, so neither wraps inside a name or range."""
    return "\n".join("\u2060".join(text) for text in (project.category_label, grades(project.stages_mask)))


@functools.lru_cache(maxsize=4096)
def service_counties(names):
    """The service counties as the announcement's cell: each name kept whole (word joiners), joined by 、,
    and when they need more than COUNTY_LINES lines, as many as fit followed by "等 N 个区县"."""
    column = ANNOUNCEMENT_GRID.columns[5]

    def cell(shown, more):
        text = "、".join("\u2060".join(name) for name in shown)
        return text + (f"等\u2060{len(names)}\u2060个\u2060区\u2060县" if more else "")

    for count in range(len(names), 0, -1):
        text = cell(names[:count], count < len(names))
        if len(ANNOUNCEMENT_GRID.wrap(text, column)) <= COUNTY_LINES:
            return text
    return cell(names[:1], len(names) > 1)


def announcement_row(number, row):
    """One row of the announcement's table as the lines of its text grid (the validity wraps before 至)."""
    return ANNOUNCEMENT_GRID.row((
        str(number), row.provider.name, row.provider.uscc, row.project.title, category_and_grades(row.project),
        service_counties(tuple(row.counties)), f"{row.project.price:.2f}",
        f"{row.valid_from.isoformat()} 至\u00a0{row.valid_until.isoformat()}"))


def announcement_blocks(rows):
    return page_blocks(rows, ANNOUNCEMENT_FIRST_PAGE_ROWS, ANNOUNCEMENT_ROWS_PER_PAGE,
                               ANNOUNCEMENT_CLOSING_ROWS)


def render_announcement(batch, rows, cached=False):
    """The announcement PDF of a published batch: its rows (registry.whitelist.queries.announcement_rows), one
    page per block, rendered in parallel parts. `cached` keeps the document in PDF_CACHE_DIR by content
    digest (registry.core.pdf.cache): the rows show live provider and project fields, so a renamed
    provider or an edited project makes a new document, never a stale one."""
    rules = policy.for_city(batch.city)
    return pdf.render_paged_pdf("announcement.html", announcement_blocks(rows),
                                cache_name=f"announcement-{batch.id}" if cached else None, batch=batch,
                                row_count=len(rows), provider_count=len({r.provider.id for r in rows}),
                                grid=ANNOUNCEMENT_GRID, announcement_row=announcement_row,
                                doc_number=policy.doc_number(rules, batch), notice=rules)


def announcement_filename(batch):
    return f"{batch.issuer}{batch.name}白名单公告.pdf"


# ---------------------------------------------------------------- layout helpers

def page_blocks(rows, first, per_page, closing=0):
    """Number the rows and cut them into page-sized blocks (the first page also carries the title).
    Each block is one page of the table (a text grid block, see registry.core.pdf.TextGrid), and
    page-sized blocks let the PDF be rendered in parts (registry.core.pdf.render_paged_pdf).
    The last page also carries the closing text, which takes the room of `closing` rows: when the last
    block has no room left for it, its final rows move to a page of their own."""
    numbered = list(enumerate(rows, start=1))
    blocks = [numbered[:first]]
    blocks += [numbered[i:i + per_page] for i in range(first, len(numbered), per_page)]
    room = (first if len(blocks) == 1 else per_page) - closing
    if closing and len(blocks[-1]) > room:
        last = blocks.pop()
        blocks += [last[:room], last[room:]]
    return blocks


def grades(stages_mask):
    """Stages as a compact grade range for PDF tables: 1–3年级, 1–6年级, 4–9年级, 1–3、7–9年级 …"""
    spans, start, end = [], None, None
    for bit, (low, high) in ((1, (1, 3)), (2, (4, 6)), (4, (7, 9))):
        if stages_mask & bit:
            start, end = (low if start is None else start), high
        elif start is not None:
            spans.append((start, end))
            start = None
    if start is not None:
        spans.append((start, end))
    return "、".join(f"{a}–{b}" for a, b in spans) + "年级"

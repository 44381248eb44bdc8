"""The batch announcement (白名单公告) and the admission certificate (准入证明): content, CJK fonts,
rasterisation, and the certificate's QR target."""
import re
import subprocess

from registry.batches import services as batches
from registry.core.pdf import embedded_fonts
from registry.whitelist import services as whitelist


def _text(data, tmp_path, name="out.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _rasterises(data, tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    png = next(tmp_path.glob("page-*1.png"))
    return png.stat().st_size > 5000


def _assert_cjk(data):
    fonts = embedded_fonts(data)
    assert fonts and all("CJK" in name for name in fonts), fonts


def test_announcement(client, published, tmp_path):
    batch = published["batch"]
    response = client.get(f"/whitelist/batches/{batch.id}/announcement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    data = response.data
    _assert_cjk(data)
    assert _rasterises(data, tmp_path)
    text = _text(data, tmp_path)
    provider = published["provider"]
    for part in ("南昌市教育局", "2026年第1批", "白名单的公告", "发布日期 2026-03-10", "2026年3月10日", provider.name,
                 provider.uscc, "花样跳绳", "体育", "1–6年级", "3.00", "2026-08-31", "共 1 家机构、1 个服务项目",
                 "公示期 2026-03-02 至 2026-03-09"):
        assert part in text, part


def test_announcement_of_a_large_batch_has_one_table_per_page(app, published, tmp_path):
    """A long announcement is cut into page-sized blocks of the table: every page starts with the header
    and no page is left nearly empty, and each row's cells read on the row's own line, left to right."""
    from registry.batches import pdf as batches_pdf
    from registry.whitelist import queries

    rows = queries.announcement_rows(published["batch"]) * 50
    data = batches_pdf.render_announcement(published["batch"], rows)
    pages = [p for p in _text(data, tmp_path).split("\f") if p.strip()]
    first, per_page = batches_pdf.ANNOUNCEMENT_FIRST_PAGE_ROWS, batches_pdf.ANNOUNCEMENT_ROWS_PER_PAGE
    assert len(pages) == 1 + -(-(50 - first) // per_page)  # 16 + 22 + 12: three pages, each one table
    assert all("统一社会信用代码" in page for page in pages)
    numbers = [[int(m) for m in re.findall(r"^\s*(\d+)\s", page, re.M)] for page in pages]
    assert numbers == [list(range(1, first + 1)), list(range(first + 1, first + per_page + 1)),
                       list(range(first + per_page + 1, 51))]
    assert "2026年3月10日" in pages[-1]
    provider = published["provider"]
    row_lines = [line for page in pages for line in page.splitlines() if re.match(r"^\s*\d+\s", line)]
    assert len(row_lines) == 50
    for line in row_lines:
        assert re.search(rf"^\s*\d+\s+{provider.name}\s+{provider.uscc}\s+花样跳绳"
                         rf"\s+体育\s+红谷滩区\s+3\.00\s+2026-03-10$", line), line


def _pages(data, tmp_path):
    return [p for p in _text(data, tmp_path).split("\f") if p.strip()]


def _footer(page):
    """The page-number line as printed ("第 3 页 / 共 7 页"; pdftotext may drop the spaces)."""
    found = re.findall(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页", page)
    return tuple(int(n) for n in found[-1]) if found else None


def _row_numbers(page):
    return [int(m) for m in re.findall(r"^\s*(\d+)\s", page, re.M)]


def test_announcement_rendered_in_parts_reads_as_one_document(app, published, tmp_path, monkeypatch):
    """One part per page (forced): the pages come back in order, numbered over the whole document, the
    title on the first page only, the closing text on the last only, CJK fonts embedded, rasterisable."""
    from registry.batches import pdf as batches_pdf
    from registry.core import pdf
    from registry.core.pdf import render
    from registry.whitelist import queries

    monkeypatch.setattr(render, "PAGES_PER_PART", 1)
    rows = queries.announcement_rows(published["batch"]) * 120
    blocks = batches_pdf.announcement_blocks(rows)
    assert len(pdf.split_parts(blocks, pdf.cpu_count(), 1)) == len(blocks) == 6
    data = batches_pdf.render_announcement(published["batch"], rows)
    pages = _pages(data, tmp_path)
    assert len(pages) == 6
    for n, page in enumerate(pages, start=1):
        assert _footer(page) == (n, 6)
        assert "统一社会信用代码" in page
        assert ("白名单的公告" in page) == (n == 1)
        assert ("2026年3月10日" in page) == (n == 6)
    numbers = [_row_numbers(page) for page in pages]
    assert [n for page in numbers for n in page] == list(range(1, 121))
    assert [len(page) for page in numbers] == [len(b) for b in blocks]
    _assert_cjk(data)
    path = tmp_path / "parts.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "6", "-l", "6", str(path), str(tmp_path / "last")],
                   check=True)
    assert next(tmp_path.glob("last-*6.png")).stat().st_size > 2000


def test_announcement_whose_rows_overflow_their_pages_is_numbered_by_its_real_pages(app, published, tmp_path,
                                                                                    monkeypatch, caplog):
    """Names long enough to wrap over many lines push rows onto extra pages: the parts are rendered again
    with the page counts they really have, so every footer still says 第 n 页 / 共 m 页 of the whole."""
    from types import SimpleNamespace

    from registry.batches import pdf as batches_pdf
    from registry.core.pdf import render
    from registry.whitelist import queries

    monkeypatch.setattr(render, "PAGES_PER_PART", 1)
    (row,) = queries.announcement_rows(published["batch"])
    long_name = SimpleNamespace(id=row.provider.id, uscc=row.provider.uscc, name="南昌市红谷滩区" * 12 + "有限公司")
    rows = [queries.AnnouncementRow(long_name, row.project, row.valid_from, row.valid_until, row.counties)] * 40
    blocks = batches_pdf.announcement_blocks(rows)
    with caplog.at_level("INFO", logger="registry.core.pdf"):
        data = batches_pdf.render_announcement(published["batch"], rows)
    assert "rendering them again" in caplog.text
    pages = _pages(data, tmp_path)
    assert len(pages) > len(blocks)
    for n, page in enumerate(pages, start=1):
        assert _footer(page) == (n, len(pages))
    assert [n for page in pages for n in _row_numbers(page)] == list(range(1, 41))


def _long_rows(published, count, name_chars, title_chars=4, taller=()):
    """`count` announcement rows of `published`'s project under providers with realistic names of
    `name_chars` characters, 42 (three lines) for the row indexes in `taller`."""
    from types import SimpleNamespace

    from registry.whitelist import queries

    (row,) = queries.announcement_rows(published["batch"])
    base = "南昌市红谷滩区启航青少年体育文化艺术科技创新教育培训发展服务中心" * 2
    rows = []
    for i in range(count):
        chars = 42 if i in taller else name_chars
        provider = SimpleNamespace(id=i, uscc=row.provider.uscc, name=base[:chars - 4] + "有限公司")
        project = SimpleNamespace(title=("青少年校园足球提高训练营" * 2)[:title_chars], price=row.project.price,
                                  category_label=row.project.category_label, stages_mask=row.project.stages_mask)
        rows.append(queries.AnnouncementRow(provider, project, row.valid_from, row.valid_until, row.counties))
    return rows


def test_announcement_pages_hold_their_blocks_with_long_names(app, published, tmp_path, monkeypatch, caplog):
    """The page-sized blocks (ANNOUNCEMENT_* in registry.whitelist.pdf) fit their pages as predicted, so the
    parts render once and the page breaks are the blocks': names of 28 characters (the longest that take two
    lines) and titles of 18 in every row; then 7 rows of every page three lines tall (names of 42 characters)."""
    from registry.batches import pdf as batches_pdf
    from registry.core.pdf import render

    monkeypatch.setattr(render, "PAGES_PER_PART", 2)
    first, per_page = batches_pdf.ANNOUNCEMENT_FIRST_PAGE_ROWS, batches_pdf.ANNOUNCEMENT_ROWS_PER_PAGE
    count = first + 2 * per_page + 5
    taller = set(range(7)) | {i for i in range(first, count) if (i - first) % per_page < 7}
    for rows in (_long_rows(published, count, 28, title_chars=18), _long_rows(published, count, 28, taller=taller)):
        heights = [len(batches_pdf.announcement_row(n, r).split("\n")) for n, r in enumerate(rows, start=1)]
        assert set(heights) <= {2, 3} and heights.count(3) in (0, len(taller))
        blocks = batches_pdf.announcement_blocks(rows)
        caplog.clear()
        with caplog.at_level("INFO", logger="registry.core.pdf"):
            data = batches_pdf.render_announcement(published["batch"], rows)
        assert "rendering them again" not in caplog.text
        pages = _pages(data, tmp_path)
        assert len(pages) == len(blocks) == 4
        assert [_row_numbers(page) for page in pages] == [[n for n, _row in block] for block in blocks]
        for n, page in enumerate(pages, start=1):
            assert _footer(page) == (n, 4)
        assert "2026年3月10日" in pages[-1]


def test_grid_font_widths_are_what_the_grid_counts():
    """TextGrid places columns by counting half-ems (registry.core.pdf.char_units): the installed grid font
    must draw ASCII half an em wide, CJK ideographs and full-width signs a whole em, and the few others the
    announcement prints (· –) within a few percent of what char_units says (the em dash — is 0.9 em)."""
    from fontTools.ttLib import TTCollection, TTFont

    from registry.core import pdf

    path, _, index = subprocess.run(["fc-match", "-f", "%{file}:%{index}", pdf.GRID_FONT], capture_output=True,
                                    text=True, check=True).stdout.rpartition(":")
    font = TTCollection(path, lazy=True).fonts[int(index)] if path.endswith(".ttc") else TTFont(path, lazy=True)
    assert font["name"].getDebugName(1) == pdf.GRID_FONT
    cmap, advances, em = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    sample = ("".join(map(chr, range(0x20, 0x7F))) + "".join(map(chr, range(0x4E00, 0x9FA6, 37)))
              + "（）【】《》〔〕「」、，。：；！？·–…“”‘’％／＋－ＡＺａｚ０９　～×÷±§\u00a0"
              + "南昌市红谷滩区青少年体育文化艺术科技创新教育培训发展服务中心有限责任公司美育劳动非遗传统年级至")
    for ch in sample:
        assert abs(advances[cmap[ord(ch)]][0] - pdf.char_units(ch) * em / 2) <= em * 0.06, (ch, hex(ord(ch)))
    assert pdf.char_units("\u2060") == 0


def test_text_grid_wraps_cells_and_keeps_their_columns():
    from registry.core import pdf

    wrap = pdf.wrap_units
    name = "南昌市红谷滩区启航青少年体育文化艺术培训发展有限责任公司"
    assert wrap(name, 28) == (name[:14], name[14:])                          # 14 ideographs a line
    assert "".join(wrap(name, 9)) == name and all(pdf.text_units(line) <= 9 for line in wrap(name, 9))
    assert wrap("2025-09-12 至\u00a02027-08-31", 13) == ("2025-09-12", "至\u00a02027-08-31")  # words stay whole
    assert wrap("体育（艺术）", 6) == ("体育", "（艺", "术）")           # no line ends with （ or starts with ）
    assert wrap("ABCDEFGHIJ", 4) == ("ABCD", "EFGH", "IJ")                    # a word longer than a line
    joined = "\u2060".join("美育（艺术）") + " · " + "\u2060".join("4–9年级")   # as category_and_grades makes it
    assert [line.replace("\u2060", "") for line in wrap(joined, 21)] == ["美育（艺术） ·", "4–9年级"]
    assert wrap("", 5) == ("",) and wrap("  a   b ", 5) == ("a b",)

    grid = pdf.TextGrid((pdf.GridColumn("序号", 5, center=True), pdf.GridColumn("名称", 16),
                         pdf.GridColumn("代码", 8)), font_size_pt=8)
    assert grid.width_pt == 116 and grid.rule_positions_pt == [0, 20, 84, 116]
    lines = grid.lines(("7", "上饶九州青少年体育", "AB12"))
    assert lines == ["\u30007\u3000 上饶九州青少年\u3000AB12", "\u3000\u3000\u3000体育"]
    for line, cells in zip(lines, (("7", "上饶九州青少年", "AB12"), ("", "体育", "")), strict=True):
        for cell, start in zip(cells, (2, 6, 22), strict=True):                 # half-ems before each cell
            if cell:
                assert pdf.text_units(line[:line.index(cell)]) == start
    assert str(grid.row(("1", "<b>&", ""))) == "\u30001\u3000 &lt;b&gt;&amp;"
    # 序号 is wider than 3
    assert grid.header.split("\n") == [" 序\u3000 名称\u3000\u3000\u3000\u3000\u3000\u3000代码", " 号"]


def test_the_last_page_keeps_room_for_the_closing_text():
    from registry.batches import pdf as batches_pdf

    assert batches_pdf.page_blocks(list("abcdefg"), 2, 3, closing=1) == [
        [(1, "a"), (2, "b")], [(3, "c"), (4, "d"), (5, "e")], [(6, "f"), (7, "g")]]
    assert batches_pdf.page_blocks(list("abcdefgh"), 2, 3, closing=1) == [
        [(1, "a"), (2, "b")], [(3, "c"), (4, "d"), (5, "e")], [(6, "f"), (7, "g")], [(8, "h")]]
    assert batches_pdf.page_blocks(list("ab"), 2, 3, closing=1) == [[(1, "a")], [(2, "b")]]
    assert batches_pdf.page_blocks([], 2, 3, closing=1) == [[]]


def test_unpublished_or_unknown_batch_has_no_announcement(client, db, create_user):
    reviewer = create_user("city_reviewer")
    draft = batches.create_batch(actor=reviewer)
    assert client.get(f"/whitelist/batches/{draft.id}/announcement.pdf").status_code == 404
    assert client.get("/whitelist/batches/999999/announcement.pdf").status_code == 404


def test_certificate(client, published, tmp_path, monkeypatch, app):
    from registry.auth.views import qr_data_uri
    from registry.whitelist import pdf as whitelist_pdf

    encoded = []

    def spy(data):
        encoded.append(data)
        return qr_data_uri(data)

    monkeypatch.setattr(whitelist_pdf, "qr_data_uri", spy)
    provider, cert = published["provider"], published["certificate"]
    response = client.get(f"/whitelist/providers/{provider.id}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.data
    _assert_cjk(data)
    assert _rasterises(data, tmp_path)
    text = _text(data, tmp_path)
    expected_url = app.config["BASE_URL"].rstrip("/") + f"/verify/{cert.token}"
    for part in ("准入证明", provider.name, provider.uscc, "企业", "红谷滩区", "花样跳绳", "3.00",
                 "2026-03-10 至 2026-08-31", "南昌市教育局2026年第1批", expected_url):
        assert part in text, part
    # The QR code encodes the verify URL, and that URL says the certificate is valid.
    assert encoded == [expected_url]
    page = client.get(expected_url.replace(app.config["BASE_URL"].rstrip("/"), ""))
    assert page.status_code == 200 and "有效" in page.get_data(as_text=True)


def test_qr_image_in_the_certificate_is_a_vector_drawing(client, published):
    """The SVG QR code becomes PDF paths (no external fetch): the page has many drawing operators."""
    import io

    from pypdf import PdfReader
    data = client.get(f"/whitelist/providers/{published['provider'].id}/certificate.pdf").data
    reader = PdfReader(io.BytesIO(data))
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    xobjects = [x.get_object() for page in reader.pages for x in page["/Resources"].get("/XObject", {}).values()]
    streams = content + b"".join(x.get_data() for x in xobjects if hasattr(x, "get_data"))
    assert streams.count(b" re") + streams.count(b" l\n") > 100


def test_no_certificate_while_every_entry_is_suspended(client, published):
    whitelist.ENTRY.transition(published["entries"][0], "suspend", actor=published["city_reviewer"], reason="核查")
    response = client.get(f"/whitelist/providers/{published['provider'].id}/certificate.pdf")
    assert response.status_code == 409 and "不出具准入证明" in response.get_data(as_text=True)


def test_provider_without_entries_or_unknown_has_no_certificate(client, provider_admin):
    assert client.get(f"/whitelist/providers/{provider_admin.provider_id}/certificate.pdf").status_code == 404
    assert client.get("/whitelist/providers/999999/certificate.pdf").status_code == 404


def test_announcement_is_kept_until_its_content_changes(client, app, db, published, tmp_path, monkeypatch):
    """The route keeps the PDF under a digest of its HTML: the same content is served without rendering;
    a renamed provider (announcement rows show live provider fields) makes a new document and the old
    file goes."""
    from registry.core.pdf import pool

    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "cache"))
    renders = []
    real_run = pool.run
    monkeypatch.setattr(pool, "run", lambda tasks, *a, **kw: renders.append(len(tasks)) or real_run(tasks, *a, **kw))
    url = f"/whitelist/batches/{published['batch'].id}/announcement.pdf"

    first = client.get(url)
    assert first.status_code == 200 and renders == [1]
    kept = sorted((tmp_path / "cache").iterdir())
    assert [p.name.startswith(f"announcement-{published['batch'].id}-") for p in kept] == [True]

    again = client.get(url)
    assert again.status_code == 200 and again.data == first.data and renders == [1]

    published["provider"].name = "新名体育公司"
    db.session.flush()
    renamed = client.get(url)
    assert renamed.status_code == 200 and renders == [1, 1]
    assert "新名体育公司" in _text(renamed.data, tmp_path)
    now_kept = sorted((tmp_path / "cache").iterdir())
    assert len(now_kept) == 1 and now_kept != kept


def test_announcement_without_a_cache_directory_renders_every_time(client, app, published, tmp_path, monkeypatch):
    from registry.core.pdf import pool

    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", "")
    renders = []
    real_run = pool.run
    monkeypatch.setattr(pool, "run", lambda tasks, *a, **kw: renders.append(len(tasks)) or real_run(tasks, *a, **kw))
    url = f"/whitelist/batches/{published['batch'].id}/announcement.pdf"
    assert client.get(url).status_code == 200 and client.get(url).status_code == 200
    assert renders == [1, 1]

"""The batch announcement (白名单公告) and the admission certificate (准入证明): content, CJK fonts,
rasterisation, and the certificate's QR target."""
import re
import subprocess

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
    """A long announcement is cut into page-sized fixed-layout tables: every page starts with the header
    and no page is left nearly empty."""
    from registry.whitelist import queries, views

    rows = queries.announcement_rows(published["batch"]) * 50
    data = views.render_announcement(published["batch"], rows)
    pages = [p for p in _text(data, tmp_path).split("\f") if p.strip()]
    first, per_page = views.ANNOUNCEMENT_FIRST_PAGE_ROWS, views.ANNOUNCEMENT_ROWS_PER_PAGE
    assert len(pages) == 1 + -(-(50 - first) // per_page)  # 16 + 22 + 12: three pages, each one table
    assert all("统一社会信用代码" in page for page in pages)
    numbers = [[int(m) for m in re.findall(r"^\s*(\d+)\s", page, re.M)] for page in pages]
    assert numbers == [list(range(1, first + 1)), list(range(first + 1, first + per_page + 1)),
                       list(range(first + per_page + 1, 51))]
    assert "2026年3月10日" in pages[-1]


def test_unpublished_or_unknown_batch_has_no_announcement(client, db, create_user):
    reviewer = create_user("city_reviewer")
    draft = whitelist.create_batch(actor=reviewer)
    assert client.get(f"/whitelist/batches/{draft.id}/announcement.pdf").status_code == 404
    assert client.get("/whitelist/batches/999999/announcement.pdf").status_code == 404


def test_certificate(client, published, tmp_path, monkeypatch, app):
    from registry.auth.views import qr_data_uri
    from registry.whitelist import views

    encoded = []

    def spy(data):
        encoded.append(data)
        return qr_data_uri(data)

    monkeypatch.setattr(views, "qr_data_uri", spy)
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

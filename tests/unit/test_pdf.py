"""The renderer embeds CJK fonts, refuses file: and remote URLs, and is time-bounded."""
import subprocess

import pytest

from registry.core import pdf
from registry.core.pdf import engine, render

HTML = """<html><head><style>body{font-family:"Noto Sans CJK SC"}</style></head>
<body><h1>课后服务白名单公告</h1><p>南昌启航体育文化发展有限公司</p>{extra}</body></html>"""


def test_pdf_embeds_cjk_font_and_rasterises(app, tmp_path):
    with app.app_context():
        data = pdf.html_to_pdf(HTML.replace("{extra}", ""))
    fonts = pdf.embedded_fonts(data)
    assert any("CJK" in name for name in fonts), fonts
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 1000
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "白名单公告" in text


@pytest.mark.parametrize("src", ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/a.png"])
def test_renderer_refuses_files_and_hosts(app, src, caplog):
    with app.app_context():
        data = pdf.html_to_pdf(HTML.replace("{extra}", f'<img src="{src}"><link rel="stylesheet" href="{src}">'))
    assert data.startswith(b"%PDF")
    assert b"root:x:0:0" not in data


def test_file_url_attachment_is_not_embedded(app, tmp_path):
    """WeasyPrint embeds <a rel=attachment> targets; with our fetcher a local file never gets in."""
    import io

    from pypdf import PdfReader

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = HTML.replace("<head>", f'<head><link rel="attachment" href="file://{secret}">').replace(
        "{extra}", f'<img src="file://{secret}">')
    with app.app_context():
        data = pdf.html_to_pdf(html)
    reader = PdfReader(io.BytesIO(data))
    assert list(reader.attachments.keys()) == []
    assert b"TOP-SECRET" not in data


def test_unsafe_fetcher_would_embed_it(tmp_path):
    """Control: the default fetcher does embed the file, so the test above can fail."""
    import io

    from pypdf import PdfReader
    from weasyprint import HTML as WHTML

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = HTML.replace("<head>", f'<head><link rel="attachment" href="file://{secret}">').replace("{extra}", "")
    data = WHTML(string=html).write_pdf()
    assert "secret.txt" in list(PdfReader(io.BytesIO(data)).attachments.keys())


def test_render_is_time_bounded(app):
    big = "<table>" + "".join(f"<tr><td>第{i}行 内容内容内容</td></tr>" for i in range(4000)) + "</table>"
    with app.app_context(), pytest.raises(pdf.PdfTimeout):
        pdf.html_to_pdf(HTML.replace("{extra}", big), timeout=0.2)


# ---------------------------------------------------------------- documents rendered in parts

@pytest.mark.parametrize("blocks, workers, per_part, sizes", [
    (92, 2, 8, [8] * 8 + [7] * 4),       # 12 parts: a multiple of the 2 renderers, none above 8 pages
    (5, 2, 8, [3, 2]),
    (1, 2, 8, [1]),
    (7, 4, 2, [2, 2, 2, 1]),             # one round of 4 renderers
    (9, 1, 4, [3, 3, 3]),
])
def test_split_parts_is_even_ordered_and_bounded(blocks, workers, per_part, sizes):
    parts = pdf.split_parts(list(range(blocks)), workers, per_part)
    assert [len(p) for p in parts] == sizes
    assert [b for part in parts for b in part] == list(range(blocks))


def test_split_parts_of_nothing_is_one_empty_part():
    assert pdf.split_parts([], 2, 8) == [[]]


def _secret_parts_template(secret):
    """A stand-in for render_template: every part's HTML references a local file three ways."""
    def render(template, blocks, part, **context):
        pages = "".join(f'<div style="break-after: page">块 {b}</div>' for b in blocks)
        return (f'<html><head><link rel="attachment" href="file://{secret}">'
                f'<link rel="stylesheet" href="file://{secret}"><style>body{{font-family:"Noto Sans CJK SC"}}'
                f'div:last-child{{break-after:auto}}</style></head>'
                f'<body><img src="file://{secret}">第 {part.index + 1} 部分{pages}</body></html>')
    return render


def test_every_part_is_rendered_with_the_safe_fetcher(app, tmp_path, monkeypatch):
    """Parts are rendered in separate children: none of them may embed or read a local file."""
    import io

    from pypdf import PdfReader

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    monkeypatch.setattr(render, "render_template", _secret_parts_template(secret))
    with app.app_context():
        data = pdf.render_paged_pdf("any.html", list(range(6)), workers=2, pages_per_part=2)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 6
    assert list(reader.attachments.keys()) == []
    assert b"TOP-SECRET" not in data
    text = [page.extract_text() for page in reader.pages]
    assert [t.split("块 ")[1].strip()[:1] for t in text] == ["0", "1", "2", "3", "4", "5"]


def test_a_stuck_part_is_killed_at_the_time_bound(app, monkeypatch):
    """The time bound covers the whole document: past it every renderer still running is killed."""
    import multiprocessing

    big = "".join(f"<p>第{i}行 内容内容内容</p>" for i in range(4000))
    monkeypatch.setattr(render, "render_template",
                        lambda template, blocks, part, **_: f"<html><body>{big}</body></html>")
    with app.app_context(), pytest.raises(pdf.PdfTimeout):
        pdf.render_paged_pdf("any.html", list(range(8)), timeout=0.5, workers=2, pages_per_part=1)
    assert multiprocessing.active_children() == []


def test_a_failing_part_fails_the_document(app, monkeypatch):
    monkeypatch.setattr(engine, "render_html", _raise)
    with app.app_context(), pytest.raises(pdf.PdfError, match="boom"):
        pdf.html_to_pdf("<p>x</p>")


def _raise(html):
    raise ValueError("boom")

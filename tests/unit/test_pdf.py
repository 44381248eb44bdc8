"""The renderer embeds CJK fonts, refuses file: and remote URLs, and is time-bounded."""
import subprocess

import pytest

from registry.core import pdf

HTML = """<html><head><style>body{font-family:"Noto Sans CJK SC"}</style></head>
<body><h1>课后服务白名单公告</h1><p>南昌启航体育文化发展有限公司</p>{extra}</body></html>"""


def test_pdf_embeds_cjk_font_and_rasterises(app, tmp_path):
    with app.app_context():
        data = pdf.html_to_pdf(HTML.replace("{extra}", ""))
    fonts = pdf.embedded_fonts(data)
    assert any("CJK" in name for name in fonts), fonts
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True)
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

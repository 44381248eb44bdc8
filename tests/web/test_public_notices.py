"""Issue 19 (public-notice conventions): per-city settings (contact, phone, objection address, supervision
phone, 文号 pattern) with the sys_admin's form; the 公示 page carries the formal notice text, the contact and
the deadline, and a printable PDF; the announcement carries 文号, a 服务区县 column and the supervision
phone, set in the certificate's proportional CJK font with the font's real advance widths."""
import re
import subprocess
from datetime import date

import pytest

from registry.batches import pdf as batches_pdf
from registry.batches import services as batches
from registry.core import pdf
from registry.policy import services as policy
from registry.regions import services as regions
from registry.reviews import services as reviews
from tests.fixtures.reviews import at, verify_all

SETTINGS = {"notice_contact": "南昌市教育局基础教育处 李老师", "notice_phone": "0791-83987654",
            "objection_address": "南昌市红谷滩区卧龙路999号（邮编 330038）", "supervision_phone": "0791-83987600",
            "doc_number_pattern": "洪教基字〔{year}〕{seq}号"}


def _text(data, tmp_path, name="doc.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def nanchang(db, seeded_regions, create_user):
    city = regions.get_by_code("360100")
    admin = create_user("sys_admin")
    policy.update_notice_settings(city, actor=admin, **SETTINGS)
    db.session.flush()
    return city


# ---------------------------------------------------------------- the admin's form

def test_admin_edits_a_citys_notice_settings(app, db, login_as, seeded_regions):
    client, _admin = login_as("sys_admin")
    city = regions.get_by_code("360100")
    assert "各设区市公示设置" in client.get("/admin/cities").get_data(as_text=True)
    page = client.get(f"/admin/cities/{city.id}/notice").get_data(as_text=True)
    assert "文号格式" in page and "监督电话" in page
    bad = client.post(f"/admin/cities/{city.id}/notice", data={**SETTINGS, "doc_number_pattern": "洪教基字{n}号",
                                                              "notice_phone": "call me"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "{year}" in html and "电话只能包含数字和连字符" in html
    assert policy.for_city(city).doc_number_pattern == ""
    ok = client.post(f"/admin/cities/{city.id}/notice", data=SETTINGS)
    assert ok.status_code == 302
    db.session.expire_all()
    saved = policy.for_city(city)
    assert (saved.notice_phone, saved.doc_number_pattern) == ("0791-83987654", "洪教基字〔{year}〕{seq}号")
    assert "0791-83987654" in client.get("/admin/cities").get_data(as_text=True)
    assert client.get("/admin/cities/999999/notice").status_code == 404


def test_only_the_sys_admin_edits_notice_settings(app, db, login_as, seeded_regions):
    client, _user = login_as("city_reviewer")
    assert client.get("/admin/cities").status_code == 403


def test_doc_number_follows_the_pattern_or_names_the_issuer(db, seeded_regions):
    city = regions.get_by_code("360100")

    class Batch:
        year, seq, issuer = 2026, 3, "南昌市教育局"
    assert policy.doc_number(policy.for_city(city), Batch) == "南昌市教育局〔2026〕3号"
    rules = policy.defaults(city)
    rules.doc_number_pattern = "洪教基字〔{year}〕{seq}号"
    assert policy.doc_number(rules, Batch) == "洪教基字〔2026〕3号"


# ---------------------------------------------------------------- the 公示 page and its PDF

@pytest.fixture
def under_publicity(db, nanchang, submitted, reviewers, frozen_clock):
    at(date(2026, 3, 2))
    verify_all(submitted["application"], reviewers["county"])
    reviews.pass_to_city(submitted["application"], actor=reviewers["county"])
    batch = batches.create_batch(actor=reviewers["city"])
    batches.add_to_batch(batch, submitted["application"], actor=reviewers["city"])
    batches.start_publicity(batch, actor=reviewers["city"])
    db.session.flush()
    return {**submitted, "batch": batch}


def test_publicity_page_carries_the_formal_notice(client, under_publicity):
    batch = under_publicity["batch"]
    html = client.get(f"/publicity/{batch.id}").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    for part in (f"关于南昌市{batch.year}年第{batch.seq}批义务教育学校课后服务第三方机构白名单的公示",
                 f"洪教基字〔{batch.year}〕{batch.seq}号", "予以公示", "异议受理截止日期：",
                 batch.publicity_end.isoformat(), "联系人：南昌市教育局基础教育处 李老师", "联系电话：0791-83987654",
                 "邮寄至南昌市红谷滩区卧龙路999号", "监督电话：0791-83987600", "打印公示通知（PDF）"):
        assert part in text, part


def test_publicity_notice_pdf(client, under_publicity, tmp_path):
    batch, provider = under_publicity["batch"], under_publicity["provider"]
    response = client.get(f"/publicity/{batch.id}/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    compact = re.sub(r"\s+", "", _text(response.data, tmp_path))
    for part in ("白名单的公示", f"洪教基字〔{batch.year}〕{batch.seq}号", "联系电话：0791-83987654",
                 batch.publicity_end.isoformat(), provider.name, provider.uscc):
        assert re.sub(r"\s+", "", part) in compact, part
    assert provider.contact_phone not in compact  # public output: no provider phone
    assert client.get("/publicity/999999/notice.pdf").status_code == 404


# ---------------------------------------------------------------- the announcement

def test_announcement_has_doc_number_counties_and_supervision_phone_in_the_proportional_font(
        app, db, nanchang, published, tmp_path):
    from registry.whitelist import queries

    batch = published["batch"]
    data = batches_pdf.render_announcement(batch, queries.announcement_rows(batch))
    fonts = pdf.embedded_fonts(data)
    assert fonts and not any("Mono" in name for name in fonts), fonts
    assert any("NotoSansCJK" in name.replace("-", "") for name in fonts), fonts
    text = _text(data, tmp_path)
    compact = re.sub(r"\s+", "", text)
    assert f"洪教基字〔{batch.year}〕{batch.seq}号" in compact
    assert "服务区县" in compact and "红谷滩区" in compact
    assert "监督电话：0791-83987600" in compact


def test_grid_places_cells_by_the_fonts_real_widths():
    """Each cell of a grid line starts where its column says, within one plain space (the narrowest blank
    the font has), measured with the proportional font's own advance widths."""
    from fontTools.ttLib import TTFont

    grid = batches_pdf.ANNOUNCEMENT_GRID
    metrics = grid.metrics
    path, _, index = subprocess.run(["fc-match", "-f", "%{file}:%{index}", grid.font], capture_output=True,
                                    text=True, check=True).stdout.rpartition(":")
    font = TTFont(path, fontNumber=int(index), lazy=True)
    cmap, hmtx, em = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    for ch in "南昌W1-·（" + "\u3000\u2002 ":
        assert metrics.width(ch) == round(hmtx[cmap[ord(ch)]][0] * 1000 / em), ch
    cells = ("128", "南昌市红谷滩区启航青少年体育文化艺术培训有限公司", "91360113MA38QH01XW", "趣味足球（提高班）",
             "体育\n4–9年级", "红谷滩区、东湖区", "12.50", "2026-09-10 至\u00a02027-08-31")
    first = grid.lines(cells)[0]
    starts, x = [], 0
    for column in grid.columns:
        starts.append(x + 500)
        x += column.units * 500
    position, found = 0, []
    for piece in re.split(r"([\u3000\u2002 ]+)", first):
        if piece and not piece.strip("\u3000\u2002 "):
            position += metrics.text_width(piece)
        elif piece:
            found.append(position)
            position += metrics.text_width(piece)
    space = metrics.width(" ")
    # cells that are not centred start at their column's padding, at most one space early
    for placed, start, column in zip(found, starts, grid.columns, strict=False):
        if not column.center:
            assert start - space <= placed <= start, (placed, start, column.title)
    assert len(grid.wrap("91360113MA38QH01XW", grid.columns[2])) == 1


def test_many_service_counties_are_summarised_in_two_lines():
    names = ("红谷滩区", "东湖区", "西湖区", "青云谱区", "青山湖区", "新建区", "南昌县", "进贤县")
    cell = batches_pdf.service_counties(names)
    assert cell.replace("\u2060", "").endswith("等8个区县")
    assert len(batches_pdf.ANNOUNCEMENT_GRID.wrap(cell, batches_pdf.ANNOUNCEMENT_GRID.columns[5])) <= 2
    assert batches_pdf.service_counties(("红谷滩区",)).replace("\u2060", "") == "红谷滩区"

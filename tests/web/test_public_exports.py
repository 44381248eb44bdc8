"""Exports of the public whitelist: CSV (UTF-8 with BOM for Excel), XLSX and JSON, with the list's filters."""
import csv
import io

import pytest
from openpyxl import load_workbook

from registry.whitelist.exports import HEADERS

EXPECTED_HEADERS = ["城市", "覆盖区县", "机构名称", "统一社会信用代码", "机构类型", "服务项目", "活动类别",
                    "适用学段", "层次", "价格（元/人·课时）", "每次时长（分钟）", "每学期次数", "有效期起", "有效期至",
                    "批次", "状态"]


@pytest.fixture
def two(publish_provider):
    jump = publish_provider(name="南昌启航体育文化发展有限公司", extra_counties=["360102"],
                            projects=[{"title": "花样跳绳"}])
    paper = publish_provider(name="赣州章贡非遗剪纸传习社", county_code="360702", projects=[
        {"title": "剪纸入门", "category": "intangible_heritage", "stages": ["lower_primary"], "price": "2.50"}])
    return jump, paper


def _csv(client, query=""):
    response = client.get(f"/whitelist/export.csv{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode("utf-8"))  # BOM: Excel opens the Chinese correctly
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv(client, two):
    rows = _csv(client)
    assert rows[0] == EXPECTED_HEADERS == HEADERS
    jump = next(r for r in rows if r[5] == "花样跳绳")
    provider = two[0]["provider"]
    assert jump == ["南昌市", "东湖区、红谷滩区", "南昌启航体育文化发展有限公司", provider.uscc, "企业", "花样跳绳",
                    "体育", "小学低年级（1–3年级）、小学高年级（4–6年级）", "零起点入门", "3.00", "60", "16",
                    "2026-03-10", "2026-08-31",
                    "南昌市教育局2026年第1批", "有效"]
    assert len(rows) == 3


def test_csv_and_attachment_name(client, two):
    response = client.get("/whitelist/export.csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "whitelist-2026-03-10.csv" in disposition


def test_exports_apply_the_filters(client, two):
    assert [r[5] for r in _csv(client, "?city=360700")[1:]] == ["剪纸入门"]
    assert [r[5] for r in _csv(client, "?q=跳")[1:]] == ["花样跳绳"]
    assert [r[5] for r in _csv(client, "?county=360102")[1:]] == ["花样跳绳"]
    body = client.get("/whitelist/export.json?category=intangible_heritage").get_json()
    assert body["total"] == 1 and body["items"][0]["project"]["title"] == "剪纸入门"
    book = load_workbook(io.BytesIO(client.get("/whitelist/export.xlsx?stage=upper_primary").data))
    assert [row[5] for row in book.active.iter_rows(min_row=2, values_only=True)] == ["花样跳绳"]


def test_bad_filter_on_an_export_is_refused(client, db):
    response = client.get("/whitelist/export.csv?level=expert")
    assert response.status_code == 422 and "层次无效" in response.get_data(as_text=True)


def test_xlsx(client, two):
    response = client.get("/whitelist/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == EXPECTED_HEADERS
    paper = next(r for r in rows if r[5] == "剪纸入门")
    assert paper[:4] == ("赣州市", "章贡区", "赣州章贡非遗剪纸传习社", two[1]["provider"].uscc)
    assert paper[6:] == ("非遗", "小学低年级（1–3年级）", "零起点入门", "2.50", "60", "16", "2026-03-10",
                         "2026-08-31",
                         "赣州市教育局2026年第1批", "有效")


def test_json(client, two):
    response = client.get("/whitelist/export.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert "剪纸入门".encode("utf-8") in response.data  # readable UTF-8, not \\u escapes
    body = response.get_json()
    assert body["generated_on"] == "2026-03-10" and body["total"] == 2
    item = next(i for i in body["items"] if i["project"]["title"] == "花样跳绳")
    assert item["provider"]["name"] == "南昌启航体育文化发展有限公司" and item["project"]["price"] == "3.00"
    assert item["counties"] == ["东湖区", "红谷滩区"]  # region-code order


def test_text_that_looks_like_a_formula_stays_text(client, publish_provider):
    """CSV/formula injection: a provider name starting with "=" must not become a spreadsheet formula."""
    publish_provider(name='=HYPERLINK("http://evil.example","点我")', projects=[{"title": "花样跳绳"}])
    rows = _csv(client)
    assert rows[1][2] == "'=HYPERLINK(\"http://evil.example\",\"点我\")"
    book = load_workbook(io.BytesIO(client.get("/whitelist/export.xlsx").data))
    cell = book.active["C2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")

"""School import from CSV or Excel: the templates, all or nothing, every bad row named with its number."""
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from registry.schools.models import School
from tests.fixtures.schools import make_school_row

HEADER = ["学校名称", "学校标识码", "区县", "学段", "地址", "在校学生数"]


def _xlsx(rows, header=HEADER):
    wb = Workbook()
    ws = wb.active
    ws.title = "学校名单"
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv(rows, header=HEADER, encoding="utf-8-sig"):
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _upload(client, data, name="学校.xlsx", url="/schools/import", headers=None):
    return client.post(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data",
                       headers=headers or {})


def _count(db):
    return db.session.scalar(select(func.count()).select_from(School))


GOOD = [
    ["南昌市红谷滩区凤凰城小学", "3601130201", "360113", "小学", "凤凰中大道 100 号", 1500],
    ["南昌市红谷滩区九龙湖学校", "3601130202", "红谷滩区", "九年一贯制", "", ""],
    ["南昌市红谷滩区育新学校初中部", "3601130203", "360113", "初中", "学府大道 1 号", 800],
]


def test_templates_download(db, login_as):
    client, _admin = login_as("sys_admin")
    response = client.get("/schools/import/template.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in wb["学校名单"][1]] == HEADER
    assert "填写说明" in wb.sheetnames
    response = client.get("/schools/import/template.csv")
    assert response.status_code == 200
    assert response.data.decode("utf-8-sig").strip() == ",".join(HEADER)


def test_good_xlsx_imports_every_school(db, login_as):
    client, _admin = login_as("sys_admin")
    before = _count(db)
    response = _upload(client, _xlsx(GOOD))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _count(db) == before + 3
    school = db.session.scalar(select(School).where(School.code == "3601130202"))
    assert school.county.name == "红谷滩区" and school.type_label == "九年一贯制" and school.student_count == 0


def test_good_csv_in_gbk_imports(db, login_as):
    client, _reviewer = login_as("county_reviewer", region_code="360113")
    before = _count(db)
    response = _upload(client, _csv(GOOD, encoding="gb18030"), name="学校.csv")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _count(db) == before + 3


def test_bad_rows_import_nothing_and_are_listed_with_row_numbers(db, login_as):
    client, _reviewer = login_as("county_reviewer", region_code="360113")
    existing = make_school_row(db)
    before = _count(db)
    rows = [
        GOOD[0],                                                        # row 2: fine
        ["南昌市红谷滩区短码小学", "36011302", "360113", "小学", "", 10],  # row 3: code is 8 digits
        ["南昌市东湖区某小学", "3601020301", "360102", "小学", "", 10],    # row 4: another county
        ["某中学", "3601130204", "360113", "高中", "", 10],               # row 5: not a stage
        ["重复小学", "3601130201", "360113", "小学", "", 10],             # row 6: same code as row 2
        ["已登记小学", existing.code, "360113", "小学", "", 10],          # row 7: code registered already
        ["", "3601130205", "不存在区", "小学", "", -5],                    # row 8: no name, county, count
    ]
    response = _upload(client, _xlsx(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _count(db) == before  # all or nothing: row 2 was fine but was not imported either
    assert "文件中有" in page and "未导入任何学校" in page
    expected = [
        ("第 3 行", "学校标识码", "学校标识码应为 10 位数字"),
        ("第 4 行", "区县", "东湖区不在本辖区（红谷滩区）内"),
        ("第 5 行", "学段", "学段应为：小学、初中、九年一贯制"),
        ("第 6 行", "学校标识码", "与第 2 行的学校标识码重复"),
        ("第 7 行", "学校标识码", f"学校标识码 {existing.code} 已被“{existing.name}”使用"),
        ("第 8 行", "学校名称", "此项为必填项"),
        ("第 8 行", "区县", "区县“不存在区”不存在"),
        ("第 8 行", "在校学生数", "在校学生数应为 0–100000 之间的整数"),
    ]
    for row, column, message in expected:
        assert f"<td class=\"nowrap\">{row}</td><td>{column}</td><td>{message}" in page, (row, column, message)
    assert "<td class=\"nowrap\">第 2 行</td>" not in page


def test_unusable_files_are_refused_before_any_row(db, login_as):
    client, _admin = login_as("sys_admin")
    response = _upload(client, _xlsx(GOOD, header=["名称", "学校标识码", "区县", "学段"]))
    assert response.status_code == 422 and "缺少必需的列：学校名称" in response.get_data(as_text=True)
    response = _upload(client, b"\xd0\xcf\x11\xe0" + b"\x00" * 100, name="old.xls")
    assert "不支持旧版 Excel（.xls）文件" in response.get_data(as_text=True)
    response = _upload(client, _csv([]), name="empty.csv")
    assert "文件中没有学校" in response.get_data(as_text=True)


def test_import_api_answers_every_row_problem(db, client, create_user, bearer):
    headers = bearer(create_user("sys_admin"))
    rows = [GOOD[0], ["坏学校", "12", "360113", "小学", "", 1]]
    response = _upload(client, _xlsx(rows), url="/api/v1/schools/import", headers=headers)
    assert response.status_code == 422
    body = response.json
    assert body["code"] == "import_rejected" and "未导入任何学校" in body["message"]
    assert body["errors"] == {"第3行": ["学校标识码：学校标识码应为 10 位数字"]}
    response = _upload(client, _xlsx(GOOD), url="/api/v1/schools/import", headers=headers)
    assert response.status_code == 201 and response.json["created"] == 3

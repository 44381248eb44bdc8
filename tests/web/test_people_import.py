"""Excel import of staff: a downloadable template; every bad row reported by row and column; all or nothing."""
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from registry.audit.models import AuditLog
from registry.people import importer
from registry.people.models import Person
from tests.fixtures.providers import add_cleared_person, id_number_for, pdf_bytes

HEADERS = ["姓名", "身份证号", "性别", "手机号", "岗位", "专长"]
FULL_ID = re.compile(r"\d{17}[\dXx]")


def xlsx(rows, headers=HEADERS):
    wb = Workbook()
    ws = wb.active
    ws.title = "人员名单"
    ws.append(headers)
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def good_row(n, name=None):
    return [name or f"导入老师{n}", id_number_for(n), "女", "13900000000", "授课教师", "跳绳"]


@pytest.fixture
def admin(login_as):
    return login_as("provider_admin")


def _upload(client, data, filename="人员名单.xlsx"):
    return client.post("/provider/people/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _people(db, user):
    return db.session.scalar(select(func.count()).select_from(Person).where(Person.provider_id == user.provider_id))


def _problems(page):
    """[(row, column, message)] from the error table."""
    return re.findall(r"<tr><td[^>]*>第 (\d+) 行</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)


def test_template_download(db, admin):
    client, _user = admin
    response = client.get("/provider/people/import/template")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["人员名单", "填写说明"]
    ws = wb["人员名单"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws["B2"].number_format == "@"  # ID numbers as text
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists == {"C2:C2001": '"男,女"', "E2:E2001": '"授课教师,助教,管理人员"'}
    notes = " ".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "授课教师、助教、管理人员" in notes and "2000" in notes


def test_the_template_itself_imports_after_filling_in(db, admin):
    client, user = admin
    wb = load_workbook(io.BytesIO(client.get("/provider/people/import/template").data))
    ws = wb["人员名单"]
    for r, row in enumerate([good_row(1), good_row(2)], start=2):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    response = _upload(client, buf.getvalue())
    assert response.status_code == 302
    assert _people(db, user) == 2


def test_good_file_imports_everyone(db, admin):
    client, user = admin
    rows = [good_row(n) for n in range(1, 6)]
    rows[1][2], rows[1][4], rows[1][5] = "男", "管理人员", None  # 专长 is optional
    rows.insert(2, [None] * 6)  # a blank line in the middle is skipped
    response = _upload(client, xlsx(rows))
    assert response.status_code == 302 and response.headers["Location"].endswith("/provider/people")
    people = db.session.scalars(select(Person).where(Person.provider_id == user.provider_id).order_by(Person.id)).all()
    assert [p.name for p in people] == [f"导入老师{n}" for n in range(1, 6)]
    assert people[1].gender.value == "male" and people[1].staff_role.value == "manager" and people[1].specialties == ""
    assert people[0].id_masked == id_number_for(1)[:6] + "********" + id_number_for(1)[-4:]
    page = client.get("/provider/people").get_data(as_text=True)
    assert "已导入 5 名人员" in page and not FULL_ID.search(page)
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "person.import")).one()
    assert audit.details == {"rows": 5}


def test_bad_rows_are_all_reported_and_nothing_is_imported(db, admin):
    client, user = admin
    add_cleared_person(user.provider, user, n=50)
    rows = [
        good_row(1),  # row 2: fine
        ["错号", "360102199003071235", "女", "13900000000", "授课教师", ""],  # row 3: check digit
        [None, id_number_for(3), "男", "13900000000", "助教", ""],  # row 4: no name
        ["性别错", id_number_for(4), "M", "13900000000", "教练", ""],  # row 5: gender and role
        ["重复", id_number_for(1), "女", "13900000000", "助教", ""],  # row 6: same ID as row 2
        ["已登记", id_number_for(50), "女", "13900000000", "助教", ""],  # row 7: already registered
        ["数字号", float(id_number_for(7)), "女", "1390000", "助教", ""],  # row 8: Excel number, bad phone
        ["生日错", "360102199002301239", "女", "13900000000", "助教", ""],  # row 9: 30 February
        ["缺位", "3601021990030712", "女", "13900000000", "助教", ""],  # row 10: 16 characters
    ]
    response = _upload(client, xlsx(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未导入任何人员" in page
    assert _problems(page) == [
        ("3", "身份证号", "身份证号码校验位不正确"),
        ("4", "姓名", "此项为必填项"),
        ("5", "性别", "性别应为：男、女"),
        ("5", "岗位", "岗位应为：授课教师、助教、管理人员"),
        ("6", "身份证号", "与第 2 行的身份证号码重复"),
        ("7", "身份证号", "本机构已登记过该身份证号码的人员"),
        ("8", "身份证号", "身份证号被 Excel 存成了数字，末几位已经丢失：请把该列设为文本格式后重新填写"),
        ("8", "手机号", "手机号应为 11 位手机号码（如 13900000000）或带区号的固定电话"),
        ("9", "身份证号", "身份证号码中的出生日期或地区码无效"),
        ("10", "身份证号", "身份证号码应为 18 位"),
    ]
    assert not FULL_ID.search(page)  # the error table never repeats an ID number
    assert _people(db, user) == 1  # only the one registered before
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "person.import")) == 0


def test_same_person_in_another_provider_is_not_a_duplicate(db, admin, login_as):
    client, user = admin
    _c, other = login_as("provider_admin")
    add_cleared_person(other.provider, other, n=1)
    assert _upload(client, xlsx([good_row(1)])).status_code == 302
    assert _people(db, user) == 1


@pytest.mark.parametrize("data, filename, message", [
    (pdf_bytes(), "人员名单.xlsx", "文件不是有效的 Excel .xlsx 文件"),
    ("姓名,身份证号\n张三,360102199003071236\n".encode(), "人员名单.csv", "文件不是有效的 Excel .xlsx 文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "人员名单.xls", "文件不是有效的 Excel .xlsx 文件"),
    (b"PK\x03\x04 truncated zip", "人员名单.xlsx", "文件不是有效的 Excel .xlsx 文件"),
])
def test_files_that_are_not_xlsx_are_refused_by_content(db, admin, data, filename, message):
    client, user = admin
    response = _upload(client, data, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _people(db, user) == 0


def test_a_zip_that_is_not_a_workbook_is_refused(db, admin):
    client, _user = admin
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("readme.txt", "hello")
    response = _upload(client, buf.getvalue())
    assert response.status_code == 422 and "文件不是有效的 Excel .xlsx 文件" in response.get_data(as_text=True)


def test_xml_entity_declarations_are_refused(db, admin):
    client, _user = admin
    source = zipfile.ZipFile(io.BytesIO(xlsx([good_row(1)])))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/workbook.xml":
                content = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + content
            archive.writestr(item, content)
    response = _upload(client, buf.getvalue())
    assert response.status_code == 422 and "不允许的 XML 声明" in response.get_data(as_text=True)


@pytest.mark.parametrize("headers, rows, message", [
    (["姓名", "性别", "手机号", "岗位"], [["a", "女", "13900000000", "助教"]], "缺少必需的列：身份证号"),
    (HEADERS + ["工资"], [good_row(1) + ["3000"]], "表头中有模板以外的列：工资"),
    (HEADERS, [], "文件中没有人员数据"),
])
def test_header_and_empty_file_problems(db, admin, headers, rows, message):
    client, user = admin
    response = _upload(client, xlsx(rows, headers))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _people(db, user) == 0


def test_required_headers_may_carry_a_marker(db, admin):
    client, user = admin
    headers = ["姓名*", "身份证号（必填）", "性别", "手机号", "岗位", "专长"]
    assert _upload(client, xlsx([good_row(1)], headers)).status_code == 302
    assert _people(db, user) == 1


def test_row_cap(db, admin, monkeypatch):
    client, user = admin
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    response = _upload(client, xlsx([good_row(n) for n in range(1, 5)]))
    assert response.status_code == 422 and "每个文件最多导入 3 名人员" in response.get_data(as_text=True)
    assert _people(db, user) == 0


def test_no_file(db, admin):
    client, _user = admin
    response = client.post("/provider/people/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要上传的文件" in response.get_data(as_text=True)


def test_import_form_page(db, admin):
    client, _user = admin
    page = client.get("/provider/people/import").get_data(as_text=True)
    assert "/provider/people/import/template" in page and 'enctype="multipart/form-data"' in page

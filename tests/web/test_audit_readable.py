"""Issue 19, the audit log for an auditor: actions and objects in Chinese with links, reasons as readable text
(no JSON escapes), filters by person, action (Chinese labels) and date, and CSV / XLSX exports of what the
filters select."""
import csv
import io

from openpyxl import load_workbook

from registry.audit import queries
from registry.reviews.services import decide


def _returned(submitted, reviewers):
    app = submitted["application"]
    decide(app, "return", {"version": app.version, "comments": {}, "general": "请补充消防验收意见书"},
           reviewers["county"])
    return app


def test_rows_read_in_chinese_with_links_and_readable_reasons(app, db, submitted, reviewers, login_as):
    application = _returned(submitted, reviewers)
    client, _auditor = login_as("auditor")
    page = client.get("/audit/").get_data(as_text=True)
    body = page.split("<tbody>", 1)[1]
    assert "申报 · 退回修改" in body and f"申报 #{application.id}" in body
    assert "原因：请补充消防验收意见书" in body and "状态：县级初审中 → 草稿" in body
    assert "\\u" not in page and "{&#34;" not in body and '{"' not in body
    # links: the object's trail, the person's actions, the same action
    assert f'href="/audit/?object=application:{application.id}"' in body
    assert f'href="/audit/?actor={reviewers["county"].username}"' in body
    trail = client.get(f"/audit/?object=application:{application.id}").get_data(as_text=True)
    assert f"只显示 申报 #{application.id} 的记录" in trail
    rows = trail.split("<tbody>", 1)[1]
    assert "申报 · 提交" in rows and "申报 · 退回修改" in rows and "用户 · 创建" not in rows


def test_filters_have_chinese_labels_and_select_by_person_action_and_date(app, db, submitted, reviewers, login_as):
    _returned(submitted, reviewers)
    client, _auditor = login_as("auditor")
    page = client.get("/audit/").get_data(as_text=True)
    form = page.split("</header>", 1)[1].split("<form", 1)[1].split("</form>", 1)[0]
    assert '<option value="application.return">申报 · 退回修改</option>' in form
    assert '<option value="application">申报：全部操作</option>' in form
    assert f'<option value="{reviewers["county"].username}">' in form
    only = client.get("/audit/", query_string={"action": "application.return"}).get_data(as_text=True)
    rows = only.split("<tbody>", 1)[1]
    assert rows.count("<tr") == 1 and "申报 · 退回修改" in rows
    every = client.get("/audit/", query_string={"action": "application"}).get_data(as_text=True)
    assert "申报 · 提交" in every.split("<tbody>", 1)[1]
    by_person = client.get("/audit/", query_string={"actor": reviewers["county"].username}).get_data(as_text=True)
    assert "申报 · 提交" not in by_person.split("<tbody>", 1)[1]
    old = client.get("/audit/", query_string={"from": "2001-01-01", "to": "2001-01-31"}).get_data(as_text=True)
    assert "<tr" not in old.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_exports_carry_the_filtered_rows_in_words(app, db, submitted, reviewers, login_as):
    application = _returned(submitted, reviewers)
    client, _auditor = login_as("auditor")
    response = client.get("/audit/export.csv", query_string={"action": "application"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["序号", "时间（北京时间）", "操作人", "角色", "操作"]
    actions = [r[4] for r in rows[1:]]
    assert "申报 · 退回修改" in actions and all(a.startswith("申报") for a in actions)
    back = next(r for r in rows[1:] if r[4] == "申报 · 退回修改")
    assert back[6] == f"申报 #{application.id}" and "原因：请补充消防验收意见书" in back[9]

    response = client.get("/audit/export.xlsx", query_string={"action": "application.return"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][4] == "操作" and len(values) == 2 and values[1][4] == "申报 · 退回修改"
    assert client.get("/audit/export.pdf").status_code == 404


def test_export_is_for_the_auditor_only(app, db, login_as):
    client, _admin = login_as("sys_admin")
    assert client.get("/audit/export.csv").status_code == 403


def test_every_action_the_code_writes_has_words():
    """Each action code written by the code reads in Chinese (a new one without words shows as its code)."""
    for code in ["order.suspend", "whitelist_entry.lift", "release_batch.start_publicity", "objection.uphold",
                 "provider.suspension", "person.reveal_id", "login", "authz.denied", "user.totp_reset"]:
        assert queries.action_words(code) != code, code

"""The dashboard and the monthly report as data: a JSON-ready dict (the API, and the page's charts read it
from a <script type="application/json"> block) and XLSX workbooks (openpyxl) with the same numbers."""
from io import BytesIO
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

NO_DATA = "暂无数据"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEVEL_WORDS = {"city": "设区市", "county": "县（市、区）", "school": "学校"}


def _figure(figure):
    if figure is None:
        return None
    return {"value": figure.value, "numerator": figure.numerator, "denominator": figure.denominator}


def dashboard_dict(dash):
    return {
        "region": {"id": dash.region.id, "name": dash.region.name, "level": dash.region.level.value},
        "as_of": dash.as_of,
        "child_level": dash.group,
        "indicators": [{
            "key": row.key, "label": row.indicator.label, "unit": row.indicator.unit,
            "source": row.indicator.source, "landed": row.indicator.landed,
            "description": row.indicator.description, "total": _figure(row.total),
            "children": [{"id": cid, "name": name, **(_figure(row.by_child.get(cid)) or {
                "value": None if row.indicator.unit == "%" else 0, "numerator": None, "denominator": None})}
                for cid, name in dash.children] if row.indicator.landed else [],
            "trend": [{"month": label, "figure": _figure(f)} for label, f in row.trend],
        } for row in dash.rows],
    }


def _cell(figure, unit):
    if figure is None or figure.value is None:
        return NO_DATA if figure is None else "—"
    return figure.value


def _sheet(ws, header, rows):
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for i, _ in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = 16 if i > 1 else 28
    ws.freeze_panes = "B2"


def _fill(wb, dash, first_title):
    ws = wb.active
    ws.title = first_title
    _sheet(ws, ["指标", "单位", f"{dash.region.name}（截至 {dash.as_of.isoformat()}）", "分子", "分母", "数据来源"],
           [[r.indicator.label, r.indicator.unit, _cell(r.total, r.indicator.unit),
             r.total.numerator if r.total else None, r.total.denominator if r.total else None,
             r.indicator.source] for r in dash.rows])
    landed = [r for r in dash.rows if r.indicator.landed]
    ws = wb.create_sheet(f"按{LEVEL_WORDS[dash.group]}"[:31])
    _sheet(ws, [LEVEL_WORDS[dash.group]] + [f"{r.indicator.label}（{r.indicator.unit}）" for r in landed],
           [[name] + [_cell(r.by_child.get(cid), r.indicator.unit) if r.by_child.get(cid) is not None
                      else (None if r.indicator.unit == "%" else 0) for r in landed]
            for cid, name in dash.children])
    ws = wb.create_sheet("学期趋势")
    months = [label for label, _ in landed[0].trend] if landed else []
    _sheet(ws, ["指标"] + months, [[r.indicator.label] + [_cell(f, r.indicator.unit) for _, f in r.trend]
                                   for r in landed])


def _bytes(wb):
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def dashboard_xlsx(dash):
    wb = Workbook()
    _fill(wb, dash, "指标")
    return _bytes(wb)


def report_xlsx(report):
    """The monthly report's numbers, sheet for sheet as the PDF prints them."""
    wb = Workbook()
    _fill(wb, report.dashboard, "月度指标")
    ws = wb.create_sheet("本月督导工作")
    a = report.activity
    _sheet(ws, ["项目", "数量"], [["督导次数", a["visits"]], ["督导学校数", a["schools_visited"]],
                                 ["新提出整改任务", a["tasks_raised"]], ["本月销号整改任务", a["tasks_closed"]]])
    ws = wb.create_sheet("未按月督导学校")
    _sheet(ws, ["学校", "本月督导次数", "规定次数"], [[r.name, r.visits, r.required] for r in report.unvisited])
    return _bytes(wb)


def xlsx_response(data, filename):
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = f"attachment; filename=report.xlsx; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


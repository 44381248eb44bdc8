"""Tables people upload (CSV or Excel .xlsx) and the templates they download: shared by importers.

An importer describes its columns (field, Chinese header, required). read_table() refuses a file
that cannot be used before any row is looked at (wrong format, an unpacked size far beyond its
upload size, XML declarations, missing or foreign headers, too many rows) and returns the non-empty
data rows with their row numbers as the user sees them (the header is row 1). The importer then
validates every row with the same schema as its form and API and imports all or nothing
(RowProblem / ImportRejected carry the row numbers back to the page and the JSON answer).
"""
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from registry.core.errors import ValidationFailed

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
REQUIRED_MARKS = ("（必填）", "（必填）", "*", "*")
NOT_XLSX = "文件不是有效的 Excel .xlsx 文件（按文件内容识别）：请使用下载的模板，或另存为 CSV"


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    required: bool = False
    rule: str = ""          # what to type, for the template's instructions
    width: int = 16
    text: bool = False      # keep as text in Excel (codes whose digits must survive)
    choices: tuple = ()     # allowed values: a drop-down in the Excel template


@dataclass
class RowProblem:
    row: int        # the row number in the file (the header is row 1)
    column: str     # the column header, or "—" for a problem with the whole row
    message: str


class ImportRejected(ValidationFailed):
    """At least one row is wrong and nothing was imported; `problems` lists every one."""

    code = "import_rejected"

    def __init__(self, problems, noun="记录"):
        self.problems = sorted(problems, key=lambda p: p.row)
        errors = {}
        for p in self.problems:
            errors.setdefault(f"第{p.row}行", []).append(f"{p.column}：{p.message}" if p.column != "—" else p.message)
        super().__init__(errors, message=f"导入文件中有 {len(problems)} 处错误，未导入任何{noun}")


def file_error(message):
    return ValidationFailed({"file": [message]})


# ---------------------------------------------------------------- reading

def read_table(data, columns, *, sheet=None, max_rows=2000, noun="数据"):
    """[(row_number, {field: text})] for the non-empty rows of a CSV or .xlsx file (told apart by content)."""
    if not data:
        raise file_error("请选择要上传的文件（Excel .xlsx 或 CSV）")
    if data.startswith(OLE_MAGIC):
        raise file_error("不支持旧版 Excel（.xls）文件：请另存为 .xlsx 或 CSV 后上传")
    if data.startswith(XLSX_MAGIC):
        header, rows = xlsx_rows(data, sheet)
    else:
        header, rows = _csv_rows(data)
    if not header or not any(header_name(h) for h in header):
        raise file_error("文件是空的：第 1 行应为表头(" + "、".join(c.header for c in columns) + ")")
    out = data_rows(rows, header_positions(header, columns), max_rows=max_rows,
                    too_many=f"每个文件最多 {max_rows} 行{noun}，请拆分后分批导入")
    if not out:
        raise file_error(f"文件中没有{noun}：请从第 2 行开始填写")
    return out


def header_positions(header, columns):
    """{field: column index} of a header row; refuses a missing required column or a column not in `columns`."""
    by_header = {c.header: c.field for c in columns}
    positions, unknown = {}, []
    for index, value in enumerate(header):
        name = header_name(value)
        if not name:
            continue
        if name in by_header and by_header[name] not in positions:
            positions[by_header[name]] = index
        else:
            unknown.append(name)
    missing = [c.header for c in columns if c.required and c.field not in positions]
    if missing:
        raise file_error("缺少必需的列：" + "、".join(missing) + "。请使用下载的模板，不要修改表头")
    if unknown:
        raise file_error("表头中有模板以外的列：" + "、".join(unknown[:5]) + "。请使用下载的模板，不要增加列")
    return positions


def data_rows(rows, positions, *, max_rows, too_many, cell=None):
    """[(row_number, {field: text})] for the non-empty rows of [(row_number, values)]; more than max_rows is
    refused with the message `too_many`. `cell(value, field)` turns a value into text (cell_text by default)."""
    out = []
    for number, values in rows:
        if cell is None:
            cells = {f: cell_text(values[i] if i < len(values) else None) for f, i in positions.items()}
        else:
            cells = {f: cell(values[i] if i < len(values) else None, f) for f, i in positions.items()}
        if not any(cells.values()):
            continue
        out.append((number, cells))
        if len(out) > max_rows:
            raise file_error(too_many)
    return out


def header_name(value):
    """A header cell as its column name: trimmed, without a BOM or the marks of a required column."""
    text = str(value if value is not None else "").strip().lstrip("\ufeff")
    for mark in REQUIRED_MARKS:
        text = text.replace(mark, "")
    return text.strip()


def cell_text(value):
    """A cell as the text a user typed: whole floats without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _csv_rows(data):
    if b"\x00" in data[:4096]:
        raise file_error("文件不是 Excel .xlsx 或 CSV 文本文件（按文件内容识别）")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told otherwise
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise file_error("CSV 文件的文字编码无法识别：请以 UTF-8 或 GBK 编码保存")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise file_error(f"CSV 文件格式有误：{exc}") from exc
    if not records:
        return None, []
    return records[0], list(enumerate(records[1:], start=2))


def check_xlsx_container(data, not_xlsx=NOT_XLSX):
    """Refuse a zip that is not a plain .xlsx before openpyxl parses it: unpacked size, XML DTDs/entities."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise file_error("Excel 文件解压后过大，请拆分后分批导入")
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as handle:
                    head = handle.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise file_error("Excel 文件含有不允许的 XML 声明，不予接受")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise file_error(not_xlsx) from exc


def xlsx_rows(data, sheet=None, not_xlsx=NOT_XLSX):
    """(header, [(row_number, values)]) of the named sheet (else the first) of an .xlsx that passed
    check_xlsx_container; anything openpyxl cannot read is refused with `not_xlsx`."""
    from openpyxl import load_workbook

    check_xlsx_container(data, not_xlsx)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files: all mean "not an xlsx we can read"
        raise file_error(not_xlsx) from exc
    try:
        ws = wb[sheet] if sheet and sheet in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        body = [(number, values) for number, values in enumerate(rows, start=2)]
    finally:
        wb.close()
    return header, body


# ---------------------------------------------------------------- templates

@dataclass
class Template:
    columns: list
    sheet: str
    notes: list = field(default_factory=list)      # lines for the instructions sheet
    example: list = field(default_factory=list)    # one example row (values in column order)


def build_xlsx(template, max_rows=2000):
    """An .xlsx with the headers (required ones in red), text-formatted code columns, drop-downs
    for choice columns and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = template.sheet
    fill = PatternFill("solid", fgColor="FDECEC")
    last = max_rows + 1
    for col, column in enumerate(template.columns, start=1):
        cell = ws.cell(row=1, column=col, value=column.header)
        cell.font = Font(bold=True, color="B3261E" if column.required else "1F2328")
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
        letter = cell.column_letter
        ws.column_dimensions[letter].width = column.width
        if column.text:
            for row in range(2, last + 1):
                ws.cell(row=row, column=col).number_format = "@"
        if column.choices:
            rule = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True,
                                  showErrorMessage=True, errorTitle=f"{column.header}取值无效",
                                  error=f"{column.header}只能填写：" + "、".join(column.choices))
            rule.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(rule)
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 90
    lines = [("填写说明", "")] + [("", line) for line in template.notes] + [("列", "要求")]
    lines += [(c.header, ("必填，" if c.required else "选填，") + c.rule) for c in template.columns]
    if template.example:
        lines.append(("示例", " | ".join(str(v) for v in template.example)))
    for r, (a, b) in enumerate(lines, start=1):
        notes.cell(row=r, column=1, value=a or None)
        notes.cell(row=r, column=2, value=b or None)
        if a in ("填写说明", "列"):
            for c in (1, 2):
                notes.cell(row=r, column=c).font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build_csv(template):
    """A UTF-8 CSV (with a BOM, so Excel shows the Chinese headers) with the header row only: an example
    row left in by mistake would be imported."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([c.header for c in template.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- writing a table (issue 19: list exports)
# A download of rows: CSV in UTF-8 with a BOM (so Excel reads Chinese) or XLSX, header in bold, widths set.
# Text starting with "=", "+", "-" or "@" is written as plain text, never as a formula (CSV injection).

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_MIMETYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}


def _plain(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def write_csv(headers, rows):
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_plain(v) for v in row])
    return buf.getvalue().encode("utf-8")


def write_xlsx(headers, rows, *, widths=None, title="Sheet1"):
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if cell.data_type == "f":
                cell.data_type = "s"  # text that starts with "=" stays text
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def export_table(columns, rows, fmt, sheet="导出"):
    """A list page's rows as CSV (UTF-8 with BOM) or XLSX bytes. `columns` are (header, width) pairs and
    every row a sequence of values in that order; every cell is written as text."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed({"format": ["导出格式只能是 csv 或 xlsx"]})
    headers = [header for header, _width in columns]
    texts = [["" if v is None else str(v) for v in row] for row in rows]
    if fmt == "csv":
        return write_csv(headers, texts)
    return write_xlsx(headers, texts, widths=[width for _header, width in columns], title=sheet)


def export_response(data, fmt, stem, ascii_stem):
    """The attachment response of an export: a Chinese file name with an ASCII fallback."""
    from urllib.parse import quote

    from flask import current_app

    resp = current_app.response_class(data, mimetype=EXPORT_MIMETYPES[fmt])
    resp.headers["Content-Disposition"] = (f"attachment; filename={ascii_stem}.{fmt}; "
                                           f"filename*=UTF-8''{quote(f'{stem}.{fmt}')}")
    return resp

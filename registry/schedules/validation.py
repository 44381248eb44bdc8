"""The schedule's policy check (issue 15, item 3): one pure function over in-memory rows.

`validate(rows, context)` is used by the editor page (through the JSON validate endpoint and on save), the API,
the Excel import and filing. It reads nothing from the database: services.context_for() gathers what it needs
(the city's rules, the term's teaching weekdays, the school's live orders, own projects and the clearance of
every person named) in a constant number of statements. Every problem names the day, the grade group and the
rule, in Chinese.
"""
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

WEEKDAYS = ["周一", "周二", "周三", "周四", "周五"]
GRADE_NAMES = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"]
STAGE_GRADES = {"lower_primary": {1, 2, 3}, "upper_primary": {4, 5, 6}, "junior": {7, 8, 9}}
SCIENCE = "science"
TIME_RE = re.compile(r"^\s*(\d{1,2})[:：](\d{2})(?:[:：]\d{2})?\s*$")
SLOT_RE = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})")


def hhmm(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_time(text):
    """'16:30' -> 990, or None."""
    match = TIME_RE.match(str(text or ""))
    if not match:
        return None
    h, m = int(match.group(1)), int(match.group(2))
    return h * 60 + m if h < 24 and m < 60 else None


def parse_slot(text):
    """An order's time slot '16:30-17:30' -> (990, 1050), or None."""
    match = SLOT_RE.search(str(text or ""))
    if not match:
        return None
    a, b, c, d = (int(x) for x in match.groups())
    return a * 60 + b, c * 60 + d


def group_label(grade_from, grade_to, class_name=""):
    grades = (f"{GRADE_NAMES[grade_from]}年级" if grade_from == grade_to
              else f"{GRADE_NAMES[grade_from]}至{GRADE_NAMES[grade_to]}年级")
    return grades + (class_name or "")


@dataclass
class Row:
    """A schedule row as the validation sees it (from a form, the API, an Excel line or the database)."""
    grade_from: int
    grade_to: int
    weekday: int
    starts_at: int
    ends_at: int
    kind: str                   # "one" | "n"
    source: str                 # "own" | "order" | "person"
    content: str = ""
    category: str | None = None
    class_name: str = ""
    school_project_id: int | None = None
    order_id: int | None = None
    person_id: int | None = None
    teacher_name: str = ""
    venue: str = ""
    class_size: int = 0
    line: int | None = None     # the row number the user sees (form position or Excel row)

    @property
    def group(self):
        return (self.grade_from, self.grade_to, self.class_name or "")

    @property
    def group_label(self):
        return group_label(self.grade_from, self.grade_to, self.class_name)

    @property
    def minutes(self):
        return self.ends_at - self.starts_at


@dataclass
class OrderInfo:
    id: int
    title: str
    provider: str
    category: str
    stages: tuple               # stage values of the project
    grades: tuple
    weekdays: tuple
    slot: tuple | None          # (start, end) minutes, or None when the order's time could not be read
    slot_text: str
    staff: frozenset            # person ids assigned (not removed)
    live: bool                  # accepted or active (an order still requested, suspended or ended is not)
    status_label: str = ""


@dataclass
class Rules:
    n_share_min: Decimal = Decimal("0.500")
    science_per_week: int = 1
    end_earliest: int = 1050
    third_party_share_max: Decimal = Decimal("0.300")


@dataclass
class Context:
    rules: Rules
    teaching_weekdays: tuple = (0, 1, 2, 3, 4)      # weekdays with at least one teaching day in the term
    school_grades: frozenset = frozenset(range(1, 10))
    orders: dict = field(default_factory=dict)       # id -> OrderInfo (the school's orders of the term)
    own_projects: dict = field(default_factory=dict)  # id -> (name, category value)
    persons: dict = field(default_factory=dict)      # id -> (name, [reasons not cleared on teaching days])
    school_people: frozenset = frozenset()           # ids of the school's own engaged people (校聘人员)


@dataclass
class Problem:
    rule: str
    message: str
    weekday: int | None = None
    group: str = ""
    line: int | None = None

    def as_dict(self):
        return {"rule": self.rule, "message": self.message, "weekday": self.weekday, "group": self.group,
                "line": self.line}


@dataclass
class Report:
    errors: list
    warnings: list
    grid: list          # [{group, days: [{weekday, one, n, total, share}]}]

    @property
    def ok(self):
        return not self.errors

    def as_dict(self):
        return {"ok": self.ok, "errors": [p.as_dict() for p in self.errors],
                "warnings": [p.as_dict() for p in self.warnings], "grid": self.grid}


RULE_LABELS = {
    "row": "行内容", "n_share": "N 类活动时长占比", "n_daily": "每天至少一项 N 类活动", "science": "每周科学教育",
    "stage": "内容适用学段", "order": "第三方项目须来自本校有效点单", "third_party_share": "第三方占比上限",
    "overlap": "同一年级组时段不重叠", "person_twice": "同一人员不能同时出现在两处", "clearance": "校外人员准入",
    "end_time": "课后服务结束时间", "missing_day": "教学日须有课后服务",
}


def _pct(value):
    return f"{(Decimal(value) * 100).quantize(Decimal('1'))}%"


def _row_problems(row, ctx, out):
    where = f"第 {row.line} 行（{WEEKDAYS[row.weekday] if 0 <= row.weekday <= 4 else '?'}，{row.group_label}）"

    def add(rule, message):
        out.append(Problem(rule, f"{where}：{message}（{RULE_LABELS[rule]}）", row.weekday, row.group_label,
                           row.line))

    bad_grades = [g for g in range(row.grade_from, row.grade_to + 1) if g not in ctx.school_grades]
    if bad_grades:
        add("row", f"本校没有{'、'.join(GRADE_NAMES[g] for g in bad_grades)}年级")
    if row.kind == "n" and not row.category and row.source != "order":
        add("row", "N 类活动须选择类别（科普/科技、体育、美育、劳动、阅读、社团拓展…）")
    if row.source == "own":
        if row.school_project_id is not None and row.school_project_id not in ctx.own_projects:
            add("row", "所选本校项目不存在或不属于本学期")
        if not row.teacher_name:
            add("row", "本校项目须填写授课教师姓名")
    elif row.source == "order":
        order = ctx.orders.get(row.order_id)
        if order is None:
            add("order", "第三方项目须选择本校本学期的点单")
            return
        if not order.live:
            add("order", f"点单“{order.title}”当前状态为{order.status_label}，不是有效点单")
        if row.weekday not in order.weekdays:
            days = "、".join(WEEKDAYS[d] for d in order.weekdays if 0 <= d <= 4)
            add("order", f"点单“{order.title}”的服务日是{days}，不含{WEEKDAYS[row.weekday]}")
        if order.slot is None:
            add("order", f"点单“{order.title}”的服务时间“{order.slot_text}”无法识别，请与机构核对后修改点单")
        elif row.starts_at < order.slot[0] or row.ends_at > order.slot[1]:
            add("order", f"时间 {hhmm(row.starts_at)}–{hhmm(row.ends_at)} 超出点单“{order.title}”的服务时间"
                         f" {hhmm(order.slot[0])}–{hhmm(order.slot[1])}")
        outside = [g for g in range(row.grade_from, row.grade_to + 1) if g not in order.grades]
        if outside:
            add("order", f"点单“{order.title}”不含{'、'.join(GRADE_NAMES[g] for g in outside)}年级")
        fitting = set().union(*(STAGE_GRADES.get(s, set()) for s in order.stages)) if order.stages else set()
        unfit = [g for g in range(row.grade_from, row.grade_to + 1) if g not in fitting]
        if unfit:
            add("stage", f"项目“{order.title}”的适用学段不含{'、'.join(GRADE_NAMES[g] for g in unfit)}年级")
        if row.person_id is not None and row.person_id not in order.staff:
            add("order", "授课人员须是机构为该点单指派的人员")
    elif row.source == "person":
        if row.person_id is None or row.person_id not in ctx.school_people:
            add("clearance", "校聘人员活动须选择本校登记的校聘人员")
    if row.person_id is not None and row.person_id in ctx.persons:
        name, reasons = ctx.persons[row.person_id]
        if reasons:
            add("clearance", f"{name}在本学期教学日内未全部准入：{'；'.join(reasons)}")


def _overlaps(rows):
    """Pairs of overlapping rows in a list sorted by start."""
    ordered = sorted(rows, key=lambda r: (r.starts_at, r.ends_at))
    found, latest = [], None
    for row in ordered:
        if latest is not None and row.starts_at < latest.ends_at:
            found.append((latest, row))
        if latest is None or row.ends_at > latest.ends_at:
            latest = row
    return found


def validate(rows, ctx):
    """Check a whole schedule; returns a Report (errors, warnings, the 1 : N grid per group and day)."""
    rules = ctx.rules
    errors, warnings = [], []
    rows = [replace(r, category=ctx.orders[r.order_id].category)
            if r.source == "order" and not r.category and r.order_id in ctx.orders else r for r in rows]
    for row in rows:
        _row_problems(row, ctx, errors)
    by_group = {}
    for row in rows:
        by_group.setdefault(row.group, []).append(row)
    grid = []
    for key in sorted(by_group):
        group_rows = by_group[key]
        label = group_rows[0].group_label
        days, science, third_minutes, total_minutes = [], 0, 0, 0
        for weekday in range(5):
            day_rows = [r for r in group_rows if r.weekday == weekday]
            teaching = weekday in ctx.teaching_weekdays
            one = sum(r.minutes for r in day_rows if r.kind == "one")
            n = sum(r.minutes for r in day_rows if r.kind == "n")
            total = one + n
            share = Decimal(n) / Decimal(total) if total else Decimal(0)
            days.append({"weekday": weekday, "label": WEEKDAYS[weekday], "one": one, "n": n, "total": total,
                         "share": float(round(share, 3)), "teaching": teaching})
            science += sum(1 for r in day_rows if r.kind == "n" and r.category == SCIENCE)
            third_minutes += sum(r.minutes for r in day_rows if r.source == "order")
            total_minutes += total
            day = WEEKDAYS[weekday]
            for a, b in _overlaps(day_rows):
                errors.append(Problem("overlap", f"{day}，{label}：第 {a.line} 行（{hhmm(a.starts_at)}–"
                                      f"{hhmm(a.ends_at)}）与第 {b.line} 行（{hhmm(b.starts_at)}–{hhmm(b.ends_at)}）"
                                      f"时间重叠（{RULE_LABELS['overlap']}）", weekday, label, b.line))
            if not teaching:
                continue
            if not day_rows:
                errors.append(Problem("missing_day", f"{day}，{label}：本学期{day}有教学日，但没有安排课后服务"
                                      f"（{RULE_LABELS['missing_day']}）", weekday, label))
                continue
            if n == 0:
                errors.append(Problem("n_daily", f"{day}，{label}：没有 N 类活动，每天至少安排一项"
                                      f"（{RULE_LABELS['n_daily']}）", weekday, label))
            elif share < rules.n_share_min:
                errors.append(Problem("n_share", f"{day}，{label}：N 类活动 {n} 分钟，占当天课后服务 {total} 分钟的"
                                      f" {_pct(share)}，低于本市要求的 {_pct(rules.n_share_min)}"
                                      f"（{RULE_LABELS['n_share']}）", weekday, label))
            last_end = max(r.ends_at for r in day_rows)
            if last_end < rules.end_earliest:
                warnings.append(Problem("end_time", f"{day}，{label}：课后服务 {hhmm(last_end)} 结束，早于本市规定的"
                                        f" {hhmm(rules.end_earliest)}（{RULE_LABELS['end_time']}）", weekday, label))
        if science < rules.science_per_week:
            errors.append(Problem("science", f"{label}：每周须安排科学教育（科普/科技类）至少 {rules.science_per_week}"
                                  f" 次，现为 {science} 次（{RULE_LABELS['science']}）", None, label))
        if total_minutes and Decimal(third_minutes) / Decimal(total_minutes) > rules.third_party_share_max:
            ratio = Decimal(third_minutes) / Decimal(total_minutes)
            errors.append(Problem("third_party_share", f"{label}：第三方项目每周 {third_minutes} 分钟，占课后服务"
                                  f" {total_minutes} 分钟的 {_pct(ratio)}，超过本市上限"
                                  f" {_pct(rules.third_party_share_max)}（{RULE_LABELS['third_party_share']}）",
                                  None, label))
        grid.append({"group": label, "days": days})
    _people_twice(rows, errors)
    return Report(errors, warnings, grid)


def _people_twice(rows, errors):
    """A person (by id, or a school teacher by name) in two grade groups at overlapping times on one day."""
    by_person = {}
    for row in rows:
        who = ("id", row.person_id) if row.person_id is not None else (
            ("name", row.teacher_name) if row.teacher_name else None)
        if who is not None:
            by_person.setdefault((who, row.weekday), []).append(row)
    for (_who, weekday), person_rows in by_person.items():
        for a, b in _overlaps(person_rows):
            if a.group == b.group:
                continue  # the group's own overlap is reported already
            name = b.teacher_name or "同一人员"
            errors.append(Problem("person_twice", f"{WEEKDAYS[weekday]}，{b.group_label}：{name}在第 {a.line} 行"
                                  f"（{a.group_label} {hhmm(a.starts_at)}–{hhmm(a.ends_at)}）与第 {b.line} 行"
                                  f"（{hhmm(b.starts_at)}–{hhmm(b.ends_at)}）同时出现在两处"
                                  f"（{RULE_LABELS['person_twice']}）", weekday, b.group_label, b.line))

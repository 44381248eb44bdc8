"""The dashboard's indicators: ONE list, `INDICATORS`, the same at province, city and county level.

Each indicator has a key, a Chinese label, a unit, the domain whose records it reads and a `figures`
function. `figures(region, group, days)` answers, for every day in `days` (as of that day's end) and every
child of `region` named by `group` ("city", "county", "school"; or "all": the region itself, key None),
the indicator's Figure, as ONE aggregate statement (GROUP BY the child column and the day), so the number of
statements of a dashboard does not depend on the amount of data (docs/architecture.md "Supervision").
The day list travels as one JSON parameter (registry.core.bulk.json_rows), so a trend over the term's
month ends costs the same one statement.

An indicator whose source domain has not landed has `figures=None` and shows 暂无数据: the lead fills in a
function of the same shape when schedules (15), passes (14), quality (16) and complaints (17) merge.
"""
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Date, DateTime, Integer, String, and_, case, distinct, func, literal, not_, or_, select
from sqlalchemy.orm import aliased

from registry.complaints.models import Complaint
from registry.core import bulk, clock
from registry.extensions import db
from registry.orders.models import Order, OrderStaff, OrderStatus
from registry.passes.models import EntryPass, GateScan, ScanDirection, ScanResult
from registry.people.models import CheckResult, CheckType, Person, PersonCheck
from registry.policy import services as policy
from registry.policy.models import CityPolicy
from registry.providers.models import Provider
from registry.quality.models import ProjectStanding, Satisfaction, StandingLevel, SurveyResponse
from registry.regions.models import Region, RegionLevel
from registry.schedules.models import FILED, Schedule, ScheduleStatus
from registry.schools.models import School, SchoolProject, Term
from registry.supervision import queries
from registry.supervision.models import AWAITING_RESPONSE, Assignment, Task, Visit
from registry.whitelist.models import ChangeFeedItem, ChangeKind, EntryCounty

CHILD_GROUP = {RegionLevel.province: "city", RegionLevel.city: "county", RegionLevel.county: "school"}
# Orders that count towards a term's third-party projects (the live ones and those that ran to the end).
COUNTED_ORDERS = (OrderStatus.requested, OrderStatus.accepted, OrderStatus.active, OrderStatus.suspended,
                  OrderStatus.completed)
EXPIRY_WINDOW_DAYS = 30
# The terms of the days a dashboard asks about, looked up once per dashboard (set by `dashboard`).
_TERMS = ContextVar("supervision_terms", default=None)


@dataclass(frozen=True)
class Figure:
    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None

    def text(self, unit):
        if self.value is None:
            return "—"
        if unit == "%":
            return f"{self.value:.1f}%"
        return f"{self.value}"


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str            # "%" for a ratio, else the counted thing (所, 项, 条, 人, 件, 节)
    source: str          # the domain (and issue) whose records it reads
    figures: object = None   # figures(region, group, days) -> {(day, key): Figure}; None: source not landed
    description: str = ""
    breakdown: tuple = field(default=())   # e.g. complaint categories (filled in with the source)
    higher_is_better: bool = False

    @property
    def landed(self):
        return self.figures is not None

    @property
    def empty(self):
        """The figure where no row was counted: no ratio without a denominator, nothing counted is 0."""
        return Figure(None) if self.unit == "%" else Figure(0)


def day_end_utc(day):
    """The end of a Beijing day as the naive UTC datetime the tables store."""
    return (datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.CST)
            .astimezone(timezone.utc).replace(tzinfo=None))


def _days(days):
    """One JSON parameter: (c0 day, c1 end of the day in UTC)."""
    return bulk.json_rows([("day", Date()), ("ends", DateTime())], [(d, day_end_utc(d)) for d in days])


def _key(group, school, county, city):
    """The grouping column for `group` (None for "all")."""
    return {"school": school, "county": county, "city": city}.get(group, literal(None))


def _in_region(region, county_col, city_col):
    if region.level == RegionLevel.county:
        return county_col == region.id
    if region.level == RegionLevel.city:
        return city_col == region.id
    return city_col.in_(select(Region.id).where(Region.parent_id == region.id))


def _norm(value):
    """SQLite hands the JSON day back as text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _ratio(numerator, denominator):
    numerator, denominator = int(numerator or 0), int(denominator or 0)
    return Figure(round(100.0 * numerator / denominator, 1) if denominator else None, numerator, denominator)


def _term_of(days):
    """The term of each day: the one containing it, else the last one begun before it (one statement; once
    per list of days within a dashboard, see `dashboard`)."""
    cache = _TERMS.get()
    if cache is not None and tuple(days) in cache:
        return cache[tuple(days)]
    d = _days(days)
    later = aliased(Term)
    rows = db.session.execute(select(d.c.c0, Term.id, Term.starts_on).join(Term, Term.starts_on <= d.c.c0).where(
        not_(select(later.id).where(later.starts_on <= d.c.c0, later.starts_on > Term.starts_on).exists()))).all()
    terms = {_norm(day): (term_id, starts_on) for day, term_id, starts_on in rows}
    if cache is not None:
        cache[tuple(days)] = terms
    return terms


def _terms_table(days):
    """(c0 day, c1 end, c2 term id, c3 term start) for the days that have a term."""
    terms = _term_of(days)
    rows = [(d, day_end_utc(d), *terms[d]) for d in days if d in terms]
    return bulk.json_rows([("day", Date()), ("ends", DateTime()), ("term", Integer()), ("start", Date())],
                          rows or [(days[0], day_end_utc(days[0]), -1, days[0])])


# ---------------------------------------------------------------- implemented indicators

def third_party_share(region, group, days):
    """Third-party projects (distinct school and project ordered in the day's term) among all after-school
    projects (those plus the schools' own projects of the term), as the orders rule counts them."""
    t = _terms_table(days)
    key = _key(group, School.id, School.county_id, School.city_id)
    pairs = (select(t.c.c0.label("day"), Order.school_id, Order.project_id)
             .select_from(t).join(Order, and_(Order.term_id == t.c.c2, Order.created_at < t.c.c1))
             .where(Order.status.in_(COUNTED_ORDERS)).distinct().subquery())
    third = {(_norm(d), k): n for d, k, n in db.session.execute(
        select(pairs.c.day, key, func.count()).select_from(pairs).join(School, School.id == pairs.c.school_id)
        .where(_in_region(region, School.county_id, School.city_id)).group_by(pairs.c.day, key))}
    own = {(_norm(d), k): n for d, k, n in db.session.execute(
        select(t.c.c0, key, func.count()).select_from(t).join(SchoolProject, and_(SchoolProject.term_id == t.c.c2,
                                                                   SchoolProject.created_at < t.c.c1))
        .join(School, School.id == SchoolProject.school_id)
        .where(_in_region(region, School.county_id, School.city_id)).group_by(t.c.c0, key))}
    return {k: _ratio(third.get(k, 0), third.get(k, 0) + own.get(k, 0)) for k in set(third) | set(own)}


def visits_this_month(region, group, days):
    """Schools assigned on the day with at least one visit from the month's first day to the day, among
    the schools assigned on the day."""
    d = _days(days)
    key = _key(group, School.id, School.county_id, School.city_id)
    month_first = func.date(d.c.c0, "start of month") if db.session.get_bind().dialect.name == "sqlite" \
        else func.date_trunc("month", d.c.c0).cast(Date)
    visited = (select(Visit.id).where(Visit.school_id == School.id, Visit.visited_on <= d.c.c0,
                                      Visit.visited_on >= month_first).exists())
    rows = db.session.execute(
        select(d.c.c0, key, func.count(distinct(School.id)),
               func.count(distinct(case((visited, School.id)))))
        .select_from(d).join(Assignment, and_(Assignment.started_on <= d.c.c0,
                               or_(Assignment.ended_on.is_(None), Assignment.ended_on >= d.c.c0)))
        .join(School, School.id == Assignment.school_id)
        .where(_in_region(region, School.county_id, School.city_id)).group_by(d.c.c0, key))
    return {(_norm(day), k): _ratio(done, assigned) for day, k, assigned, done in rows}


def _open_on(d):
    return and_(Task.created_at < d.c.c1, or_(Task.closed_at.is_(None), Task.closed_at >= d.c.c1))


def tasks_open(region, group, days):
    """Rectification tasks raised by the day's end and not closed by then."""
    d = _days(days)
    key = _key(group, Task.school_id, Task.county_id, Task.city_id)
    return {(_norm(day), k): Figure(n) for day, k, n in db.session.execute(
        select(d.c.c0, key, func.count(Task.id)).select_from(d).join(Task, _open_on(d))
        .where(_in_region(region, Task.county_id, Task.city_id)).group_by(d.c.c0, key))}


def tasks_overdue(region, group, days):
    """Open tasks past their deadline still owing a response (no response by the day, or reopened)."""
    d = _days(days)
    key = _key(group, Task.school_id, Task.county_id, Task.city_id)
    owing = or_(Task.status.in_(AWAITING_RESPONSE), Task.responded_at.is_(None), Task.responded_at >= d.c.c1)
    return {(_norm(day), k): Figure(n) for day, k, n in db.session.execute(
        select(d.c.c0, key, func.count(Task.id)).select_from(d)
        .join(Task, and_(_open_on(d), Task.deadline < d.c.c0, owing))
        .where(_in_region(region, Task.county_id, Task.city_id)).group_by(d.c.c0, key))}


def entries_suspended_delisted(region, group, days):
    """Whitelist entries suspended or delisted (the change feed) from the term's start to the day: of the
    region's cities (province), covering the county (city), ordered by the school in the term (county)."""
    t = _terms_table(days)
    feed = and_(ChangeFeedItem.kind.in_([ChangeKind.suspended, ChangeKind.delisted]),
                ChangeFeedItem.happened_on >= t.c.c3, ChangeFeedItem.happened_on <= t.c.c0)
    stmt = select(t.c.c0).select_from(t).join(ChangeFeedItem, feed)
    if group == "school":
        stmt = (stmt.join(Order, and_(Order.entry_id == ChangeFeedItem.entry_id, Order.term_id == t.c.c2))
                .join(School, School.id == Order.school_id)
                .where(_in_region(region, School.county_id, School.city_id)))
        key = School.id
    elif group == "county" or (group == "all" and region.level == RegionLevel.county):
        stmt = stmt.join(EntryCounty, EntryCounty.entry_id == ChangeFeedItem.entry_id)
        key = EntryCounty.county_id
        stmt = stmt.where(EntryCounty.county_id == region.id if region.level == RegionLevel.county
                          else EntryCounty.county_id.in_(select(Region.id).where(Region.parent_id == region.id)))
    else:
        key = ChangeFeedItem.city_id
        stmt = stmt.where(ChangeFeedItem.city_id == region.id if region.level == RegionLevel.city
                          else ChangeFeedItem.city_id.in_(select(Region.id).where(Region.parent_id == region.id)))
    if group == "all":
        key = literal(None)
    rows = db.session.execute(stmt.add_columns(key, func.count(distinct(ChangeFeedItem.entry_id)))
                              .group_by(t.c.c0, key))
    return {(_norm(day), k): Figure(n) for day, k, n in rows}


def people_expiring(region, group, days):
    """People (not archived) whose newest clear criminal, sexual-offence, health or moral check lapses within
    30 days after the day (the ages of registry.people.services.check_expiry, with the default policy age).
    By the provider's registered county and city; for a school, the staff on its orders of the term."""
    d = _days(days)
    terms = _term_of(days)   # asked at every level, so a dashboard's statement count is the same at each
    age = policy.defaults().check_max_age_days
    c, newer = aliased(PersonCheck), aliased(PersonCheck)
    latest = not_(select(newer.id).where(
        newer.person_id == c.person_id, newer.check_type == c.check_type,
        or_(newer.check_date > c.check_date, and_(newer.check_date == c.check_date, newer.id > c.id))).exists())
    aged = c.check_type.in_([CheckType.criminal, CheckType.sexual_offence])
    lapses = or_(
        and_(aged, c.check_date > _shift(d.c.c0, -age), or_(c.valid_until.is_(None), c.valid_until > d.c.c0),
             or_(c.check_date <= _shift(d.c.c0, EXPIRY_WINDOW_DAYS - age),
                 c.valid_until <= _shift(d.c.c0, EXPIRY_WINDOW_DAYS))),
        and_(~aged, c.valid_until > d.c.c0, c.valid_until <= _shift(d.c.c0, EXPIRY_WINDOW_DAYS)))
    stmt = (select(d.c.c0).select_from(d)
            .join(c, and_(c.result == CheckResult.clear, c.check_date <= d.c.c0, lapses, latest))
            .join(Person, and_(Person.id == c.person_id, Person.archived_at.is_(None))))
    if group == "school":
        live = (OrderStatus.accepted, OrderStatus.active, OrderStatus.suspended)
        term_ids = sorted({v[0] for v in terms.values()}) or [-1]
        stmt = (stmt.join(OrderStaff, and_(OrderStaff.person_id == Person.id, OrderStaff.removed_at.is_(None)))
                .join(Order, and_(Order.id == OrderStaff.order_id, Order.status.in_(live),
                                  Order.term_id.in_(term_ids)))
                .join(School, School.id == Order.school_id)
                .where(_in_region(region, School.county_id, School.city_id)))
        key = School.id
    else:
        stmt = (stmt.join(Provider, Provider.id == Person.provider_id)
                .where(_in_region(region, Provider.county_id, Provider.city_id)))
        key = _key(group, None, Provider.county_id, Provider.city_id)
    rows = db.session.execute(stmt.add_columns(key, func.count(distinct(Person.id))).group_by(d.c.c0, key))
    return {(_norm(day), k): Figure(n) for day, k, n in rows}


def _shift(day_col, n):
    """day + n days, in SQL on either database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(day_col, f"{n:+d} days")
    return (day_col + n).cast(Date) if n else day_col


def _plus_days(day_col, days_col):
    """day + a column of days, in SQL on either database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(day_col, "+" + days_col.cast(String) + " days")
    return (day_col + days_col).cast(Date)


def _schedule_figures(region, group, days, on_time_too):
    """Schools of the region with a schedule for the day's term accepted by the day's end (filing refuses one
    that breaks 1+N), and, with `on_time_too`, first filed by the term's start plus the city's filing days,
    among all the region's schools."""
    t = _terms_table(days)
    key = _key(group, School.id, School.county_id, School.city_id)
    accepted = (select(Schedule.id).where(Schedule.school_id == School.id, Schedule.term_id == t.c.c2,
                                          Schedule.status.in_([ScheduleStatus.accepted, ScheduleStatus.superseded]),
                                          Schedule.decided_at < t.c.c1).exists())
    counted = accepted
    if on_time_too:
        deadline = _plus_days(t.c.c3, func.coalesce(CityPolicy.filing_deadline_days, 30))
        first_filed = (select(func.min(Schedule.submitted_on))
                       .where(Schedule.school_id == School.id, Schedule.term_id == t.c.c2, Schedule.status.in_(FILED))
                       .scalar_subquery())
        counted = and_(accepted, first_filed <= deadline)
    rows = db.session.execute(
        select(t.c.c0, key, func.count(School.id), func.count(case((counted, School.id))))
        .select_from(t).join(School, literal(True)).outerjoin(CityPolicy, CityPolicy.city_id == School.city_id)
        .where(_in_region(region, School.county_id, School.city_id)).group_by(t.c.c0, key))
    return {(_norm(day), k): _ratio(yes, total) for day, k, total, yes in rows}


def schedule_rate(region, group, days):
    """晒课表: schools whose schedule for the term is accepted and was filed on time, among all schools."""
    return _schedule_figures(region, group, days, on_time_too=True)


def one_plus_n(region, group, days):
    """Schools running an accepted 1+N schedule for the term (filing refuses a schedule under 50% N minutes,
    a day without N or a week without science), among all schools."""
    return _schedule_figures(region, group, days, on_time_too=False)


NO_SHOW_DAYS = 7


def no_show(region, group, days):
    """未到岗 in the 7 days before the day: sessions a pass was scheduled for (its weekday, within its validity,
    not revoked by that day's end, its order accepted, active or completed) with no allowed entry scan that day.
    `passes.queries.no_shows` lists the same sessions one by one for a school; this counts them in one
    statement. The weekday test reads the JSON list as text: weekdays are the single digits 0-6."""
    pairs = bulk.json_rows(
        [("day", Date()), ("session", Date()), ("weekday", String()), ("ends", DateTime())],
        [(d, d - timedelta(days=k), str((d - timedelta(days=k)).weekday()), day_end_utc(d - timedelta(days=k)))
         for d in days for k in range(1, NO_SHOW_DAYS + 1)])
    key = _key(group, School.id, School.county_id, School.city_id)
    came = (select(GateScan.id).where(GateScan.pass_id == EntryPass.id, GateScan.scan_day == pairs.c.c1,
                                      GateScan.result == ScanResult.allowed,
                                      GateScan.direction == ScanDirection.entry).exists())
    scheduled = and_(EntryPass.valid_from <= pairs.c.c1, EntryPass.valid_until >= pairs.c.c1,
                     or_(EntryPass.revoked_at.is_(None), EntryPass.revoked_at >= pairs.c.c3),
                     EntryPass.weekdays.cast(String).contains(pairs.c.c2))
    return {(_norm(day), k): Figure(n) for day, k, n in db.session.execute(
        select(pairs.c.c0, key, func.count()).select_from(pairs).join(EntryPass, scheduled)
        .join(School, School.id == EntryPass.school_id).outerjoin(Order, Order.id == EntryPass.order_id)
        .where(or_(EntryPass.order_id.is_(None), Order.status.in_([OrderStatus.accepted, OrderStatus.active,
                                                                   OrderStatus.completed])),
               not_(came), _in_region(region, School.county_id, School.city_id))
        .group_by(pairs.c.c0, key))}


def _complaint_open_on(d):
    return and_(Complaint.received_on <= d.c.c0, or_(Complaint.decided_on.is_(None), Complaint.decided_on > d.c.c0))


def _complaint_counts(region, group, days, extra):
    d = _days(days)
    key = _key(group, Complaint.school_id, Complaint.region_id, Complaint.city_id)
    return {(_norm(day), k): Figure(n) for day, k, n in db.session.execute(
        select(d.c.c0, key, func.count(Complaint.id)).select_from(d)
        .join(Complaint, and_(_complaint_open_on(d), *extra(d)))
        .where(_in_region(region, Complaint.region_id, Complaint.city_id)).group_by(d.c.c0, key))}


def complaints_open(region, group, days):
    """Complaints received by the day and not decided by then (a county's are those it handles)."""
    return _complaint_counts(region, group, days, lambda d: ())


def complaints_overdue(region, group, days):
    """Open complaints past the deadline that bound the handler on the day: acknowledgement until it was
    acknowledged, then resolution (with its one extension)."""
    def late(d):
        acknowledged = and_(Complaint.acknowledged_on.is_not(None), Complaint.acknowledged_on <= d.c.c0)
        return (or_(and_(not_(acknowledged), Complaint.ack_due < d.c.c0),
                    and_(acknowledged, Complaint.resolve_due < d.c.c0)),)
    return _complaint_counts(region, group, days, late)


def satisfaction(region, group, days):
    """Parents' answers of the day's term up to the day's end: 满意 and 基本满意 among all answers (live; the
    term-end standing combines them with the schools' evaluations, see docs/domain.md "Quality")."""
    t = _terms_table(days)
    key = _key(group, School.id, School.county_id, School.city_id)
    satisfied = SurveyResponse.satisfaction.in_([Satisfaction.satisfied, Satisfaction.basic])
    rows = db.session.execute(
        select(t.c.c0, key, func.count(SurveyResponse.id), func.count(case((satisfied, SurveyResponse.id))))
        .select_from(t).join(SurveyResponse, and_(SurveyResponse.term_id == t.c.c2, SurveyResponse.created_at < t.c.c1))
        .join(Order, Order.id == SurveyResponse.order_id).join(School, School.id == Order.school_id)
        .where(_in_region(region, School.county_id, School.city_id)).group_by(t.c.c0, key))
    return {(_norm(day), k): _ratio(yes, total) for day, k, total, yes in rows}


def projects_under_threshold(region, group, days):
    """Projects whose standing of the last term ended before the day is below the city's threshold (with
    enough responses), by the county and city of the standing. A standing belongs to no single school: the
    school rows stay empty (the statement still runs, so every level sends as many statements)."""
    d = _days(days)
    key = _key(group, literal(None), ProjectStanding.county_id, ProjectStanding.city_id)
    ended = aliased(Term)
    last_ended = select(func.max(ended.ends_on)).where(ended.ends_on < d.c.c0).correlate(d).scalar_subquery()
    return {(_norm(day), k): Figure(n) for day, k, n in db.session.execute(
        select(d.c.c0, key, func.count(distinct(ProjectStanding.project_id))).select_from(d)
        .join(ProjectStanding, and_(ProjectStanding.level == StandingLevel.below,
                                    ProjectStanding.computed_on <= d.c.c0))
        .join(Term, Term.id == ProjectStanding.term_id).where(Term.ends_on == last_ended)
        .where(_in_region(region, ProjectStanding.county_id, ProjectStanding.city_id)).group_by(d.c.c0, key))
        if group != "school"}


# ---------------------------------------------------------------- the list

NOT_LANDED = "source not landed"

INDICATORS = [
    Indicator("schedule_rate", "晒课表率（课表已审核且按时备案的学校）", "%", "schedules", schedule_rate,
              "有已审核课表且按时备案的学校占比", higher_is_better=True),
    Indicator("one_plus_n", "“1+N”落实率", "%", "schedules", one_plus_n,
              "课后服务时段落实“1+N”模式的学校占比", higher_is_better=True),
    Indicator("third_party_share", "第三方项目占比", "%", "orders", third_party_share,
              "本学期第三方项目占学校课后服务项目的比例（规定上限 30%）"),
    Indicator("visits_this_month", "本月督导完成率", "%", "supervision", visits_this_month,
              "本月已有督导记录的挂牌学校占全部挂牌学校的比例", higher_is_better=True),
    Indicator("tasks_open", "未销号整改任务", "项", "supervision", tasks_open, "已提出、尚未销号的整改任务"),
    Indicator("tasks_overdue", "逾期整改任务", "项", "supervision", tasks_overdue,
              "超过整改期限仍未反馈（或复核未通过）的整改任务"),
    Indicator("satisfaction", "家长满意度", "%", "quality", satisfaction, "本学期家长问卷中“满意”“基本满意”的比例",
              higher_is_better=True),
    Indicator("projects_under_threshold", "满意度低于阈值的项目", "项", "quality", projects_under_threshold,
              "评价数达到下限且满意度低于城市阈值的项目"),
    Indicator("complaints_open", "未办结投诉", "件", "complaints", complaints_open, "已受理、尚未办结的投诉"),
    Indicator("complaints_overdue", "超期投诉", "件", "complaints", complaints_overdue,
              "超过确认或办理时限仍未办结的投诉"),
    Indicator("entries_suspended_delisted", "本学期暂停、移出的白名单条目", "条", "whitelist, adjustments",
              entries_suspended_delisted, "本学期内被暂停或移出白名单的条目"),
    Indicator("people_expiring", "30 天内查询到期的人员", "人", "people", people_expiring,
              "违法犯罪、性侵、健康、品德查询将在 30 天内失效的从业人员"),
    Indicator("no_show", "未到岗（近 7 天排课无入校记录）", "节", "passes", no_show,
              "已排课但无人员入校扫码记录的课时"),
]
BY_KEY = {i.key: i for i in INDICATORS}


# ---------------------------------------------------------------- a dashboard: every indicator for a region

@dataclass
class Row:
    indicator: Indicator
    total: Figure | None
    by_child: dict
    trend: list          # [(label "2026-10", Figure | None)]

    @property
    def key(self):
        return self.indicator.key


@dataclass
class Dashboard:
    region: Region
    as_of: date
    group: str
    children: list       # [(key, name)]
    rows: list


def month_ends(start, day):
    """The ends of the months from `start`'s month to `day`'s month, the last one being `day` itself."""
    points, cursor = [], start.replace(day=1)
    while cursor <= day:
        following = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
        points.append(min(following - timedelta(days=1), day))
        cursor = following
    return points or [day]


def trend_days(as_of):
    term = _term_of([as_of]).get(as_of)
    return month_ends(term[1], as_of) if term else [as_of]


def children(region):
    if region.level == RegionLevel.county:
        return [(s.id, s.name) for s in db.session.execute(
            select(School.id, School.name).where(School.county_id == region.id).order_by(School.code))]
    return [(r.id, r.name) for r in db.session.execute(
        select(Region.id, Region.name).where(Region.parent_id == region.id).order_by(Region.code))]


def dashboard(region, as_of, with_trend=True):
    """Every indicator for `region` as of the end of `as_of`: the region's figure, each child's, and the
    trend over the term (month ends). Two statements per implemented indicator (three for those that read
    the terms' orders or projects), plus the terms of the days and the children: the same number at every
    level and for any amount of data."""
    token = _TERMS.set({})
    try:
        return _dashboard(region, as_of, with_trend)
    finally:
        _TERMS.reset(token)


def _dashboard(region, as_of, with_trend):
    group = CHILD_GROUP[region.level]
    days = trend_days(as_of) if with_trend else [as_of]
    rows = []
    for indicator in INDICATORS:
        if not indicator.landed:
            rows.append(Row(indicator, None, {}, []))
            continue
        by_child = {k: f for (day, k), f in indicator.figures(region, group, [as_of]).items() if day == as_of}
        totals = {day: f for (day, _k), f in indicator.figures(region, "all", days).items()}
        rows.append(Row(indicator, totals.get(as_of, indicator.empty), by_child,
                        [(d.strftime("%Y-%m"), totals.get(d, indicator.empty)) for d in days]))
    return Dashboard(region, as_of, group, children(region), rows)


def school_figures(school, as_of):
    """Each implemented indicator for one school (as a child of its county): {key: Figure}."""
    county = db.session.get(Region, school.county_id)
    result = {}
    for indicator in INDICATORS:
        if indicator.landed:
            figures = indicator.figures(county, "school", [as_of])
            result[indicator.key] = figures.get((as_of, school.id),
                                                Figure(None) if indicator.unit == "%" else Figure(0))
    return result


# ---------------------------------------------------------------- the monthly report's numbers

@dataclass
class MonthlyReport:
    region: Region
    month: date              # the month's first day
    as_of: date              # the month's last day (today for the current month)
    complete: bool           # the month has ended
    dashboard: Dashboard
    previous: dict           # {key: Figure} at the end of the month before
    activity: dict           # visits, schools visited, tasks raised / closed in the month
    unvisited: list          # rows of queries.unvisited_stmt when the month has ended


def _month_activity(region, first, last):
    """Visits, distinct schools visited, tasks raised and tasks closed in [first, last] (two statements)."""
    visits, schools = db.session.execute(
        select(func.count(Visit.id), func.count(distinct(Visit.school_id)))
        .where(_in_region(region, Visit.county_id, Visit.city_id), Visit.visited_on >= first,
               Visit.visited_on <= last)).one()
    start, end = day_end_utc(first - timedelta(days=1)), day_end_utc(last)
    raised, closed = db.session.execute(
        select(func.count(case((and_(Task.created_at >= start, Task.created_at < end), Task.id))),
               func.count(case((and_(Task.closed_at >= start, Task.closed_at < end), Task.id))))
        .where(_in_region(region, Task.county_id, Task.city_id))).one()
    return {"visits": visits, "schools_visited": schools, "tasks_raised": raised, "tasks_closed": closed}


def monthly_report(region, month, today=None):
    """The numbers of the monthly report of `region` for `month` (its first day), as of the month's end: a
    past month gives the same numbers whenever it is asked for (what was recorded by then)."""
    today = today or clock.today()
    last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    as_of = min(last, today)
    dash = dashboard(region, as_of)
    before = month - timedelta(days=1)
    previous = {}
    for indicator in INDICATORS:
        if indicator.landed:
            previous[indicator.key] = indicator.figures(region, "all", [before]).get((before, None),
                                                                                   indicator.empty)
    complete = last < today
    unvisited = db.session.execute(queries.unvisited_stmt(month, region)).all() if complete else []
    return MonthlyReport(region, month, as_of, complete, dash, previous, _month_activity(region, month, as_of),
                         unvisited)

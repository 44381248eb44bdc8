"""The term-end step of `flask registry sweep` (issue 16): each ended term's standings, recorded once.

For every term that has ended and has no StandingRun row yet (oldest first), one GROUP BY over the parents'
answers and one over the schools' evaluations give each ordered project's counts. The satisfaction rate
(满意 + 基本满意) is computed for parents and for schools apart, and combined with the city's parent weight
(`CityPolicy.satisfaction_parent_weight`, 0.7: rate = 0.7 × parents + 0.3 × schools; a side without any answer
leaves the other alone). A project below `satisfaction_threshold` (0.8) with at least
`satisfaction_min_evaluations` (10) answers, parents' and schools' together, is warned (警告, reason
low_satisfaction); below again in the term right after a term it was below in, its entries are delisted
(移出) through the adjustments' rule path: entry lifecycle, change feed, orders suspended, provider told.

The number of statements does not depend on how many projects, answers or entries there are; a second run
finds the StandingRun row and changes nothing."""
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, not_, select
from sqlalchemy import exists as sql_exists

from registry.adjustments import sweep as adjustments_sweep
from registry.core import bulk
from registry.extensions import db
from registry.orders.models import Order
from registry.passes import queries as pass_queries
from registry.policy import services as policy
from registry.policy.models import CityPolicy
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.quality.models import (
    SATISFIED,
    ProjectStanding,
    SchoolEvaluation,
    StandingLevel,
    StandingRun,
    SurveyResponse,
)
from registry.quality.services import SERVED
from registry.schools.models import Term
from registry.whitelist.models import EntryStatus, WhitelistEntry

RULE = "low_satisfaction"
FOUR = Decimal("0.0001")


def gate_no_show_rates(term, project_ids):
    """{project_id: 未到岗 rate} from gate scans over `term`: sessions without an entry scan among the sessions
    due, over the project's orders of the term that have passes (projects without gate data are absent)."""
    orders_ = db.session.execute(select(Order.id, Order.project_id).where(
        Order.term_id == term.id, Order.project_id.in_(list(project_ids) or [-1]))).all()
    project_of = dict(orders_)
    totals = {}
    for order_id, (due, missed) in pass_queries.attendance(list(project_of), term.starts_on, term.ends_on).items():
        d, m = totals.get(project_of[order_id], (0, 0))
        totals[project_of[order_id]] = (d + due, m + missed)
    return {pid: (Decimal(m) / Decimal(d)).quantize(Decimal("0.0001")) for pid, (d, m) in totals.items() if d}


def run(day, actor=None):
    """Record the standings of every ended term not recorded yet. Returns {"standings": n, "warnings": n,
    "delisted": n}."""
    summary = {"standings": 0, "warnings": 0, "delisted": 0}
    terms = db.session.scalars(select(Term).where(
        Term.ends_on < day, not_(sql_exists().where(StandingRun.term_id == Term.id))).order_by(Term.ends_on)).all()
    for term in terms:
        for key, value in _term(term, day, actor).items():
            summary[key] += value
    return summary


def _policies():
    default = policy.defaults()
    custom = {row.city_id: row for row in db.session.scalars(select(CityPolicy))}
    return lambda city_id: custom.get(city_id, default)


def combined_rate(parent_n, parent_ok, school_n, school_ok, weight):
    """The documented weighting: weight × parents' rate + (1 − weight) × schools' rate; one side alone when
    the other has no answers; None with no answers at all."""
    parent = Decimal(parent_ok) / parent_n if parent_n else None
    school = Decimal(school_ok) / school_n if school_n else None
    if parent is None and school is None:
        return None
    if parent is None:
        rate = school
    elif school is None:
        rate = parent
    else:
        rate = Decimal(weight) * parent + (1 - Decimal(weight)) * school
    return rate.quantize(FOUR, rounding=ROUND_HALF_UP)


def _counts(term):
    satisfied = func.sum(case((SurveyResponse.satisfaction.in_(SATISFIED), 1), else_=0))
    parents = {r.project_id: r for r in db.session.execute(
        select(SurveyResponse.project_id, func.count().label("n"), satisfied.label("ok"),
               func.sum(case((SurveyResponse.extra_fee, 1), else_=0)).label("fee"),
               func.sum(case((SurveyResponse.voluntary, 0), else_=1)).label("forced"))
        .where(SurveyResponse.term_id == term.id).group_by(SurveyResponse.project_id))}
    school_ok = func.sum(case((SchoolEvaluation.overall.in_(SATISFIED), 1), else_=0))
    schools = {r.project_id: r for r in db.session.execute(
        select(SchoolEvaluation.project_id, func.count().label("n"), school_ok.label("ok"))
        .where(SchoolEvaluation.term_id == term.id).group_by(SchoolEvaluation.project_id))}
    return parents, schools


def _previous_below(term):
    """Projects that were below the threshold in the term right before `term` (None: no earlier term)."""
    previous = db.session.scalar(select(Term.id).where(Term.ends_on < term.starts_on)
                                 .order_by(Term.ends_on.desc()).limit(1))
    if previous is None:
        return set()
    return set(db.session.scalars(select(ProjectStanding.project_id).where(
        ProjectStanding.term_id == previous, ProjectStanding.level == StandingLevel.below)))


def _term(term, day, actor):
    parents, schools = _counts(term)
    ordered = select(Order.project_id).where(Order.term_id == term.id, Order.status.in_(SERVED))
    projects = db.session.execute(
        select(Project.id, Project.title, Project.provider_id, Provider.city_id, Provider.county_id)
        .join(Provider, Provider.id == Project.provider_id).where(Project.id.in_(ordered))).all()
    rules = _policies()
    no_shows = gate_no_show_rates(term, [p.id for p in projects]) or {}
    before = _previous_below(term)
    rows, warn, delist = [], [], {}
    for p in projects:
        rule = rules(p.city_id)
        pa, sc = parents.get(p.id), schools.get(p.id)
        pn, pok = (pa.n, int(pa.ok or 0)) if pa else (0, 0)
        sn, sok = (sc.n, int(sc.ok or 0)) if sc else (0, 0)
        rate = combined_rate(pn, pok, sn, sok, rule.satisfaction_parent_weight)
        if pn + sn < rule.satisfaction_min_evaluations or rate is None:
            level = StandingLevel.few
        elif rate < rule.satisfaction_threshold:
            level = StandingLevel.below
        else:
            level = StandingLevel.ok
        outcome = None
        if level == StandingLevel.below:
            outcome = "delisting" if p.id in before else "warning"
            message = (f"项目“{p.title}”{term.name}满意度为 {rate * 100:.1f}%（{pn + sn} 份评价），低于本市标准 "
                       f"{rule.satisfaction_threshold * 100:.0f}%")
            evidence = {"term_id": term.id, "project_id": p.id, "rate": str(rate), "parents": [pn, pok],
                        "schools": [sn, sok]}
            if outcome == "warning":
                warn.append((p.provider_id, f"{RULE}:warning:{p.id}:{term.id}",
                             message + "。连续两个学期低于标准将移出白名单。", evidence))
            else:
                delist[p.id] = (message + "，且上一学期也低于标准，依规移出白名单。", evidence)
        rows.append({"project_id": p.id, "provider_id": p.provider_id, "term_id": term.id, "city_id": p.city_id,
                     "county_id": p.county_id, "parent_responses": pn, "parent_satisfied": pok,
                     "school_responses": sn, "school_satisfied": sok,
                     "parent_weight": rule.satisfaction_parent_weight, "rate": rate,
                     "no_show_rate": no_shows.get(p.id), "extra_fee_count": int(pa.fee or 0) if pa else 0,
                     "not_voluntary_count": int(pa.forced or 0) if pa else 0, "level": level, "outcome": outcome,
                     "computed_on": day})
    bulk.insert_rows(ProjectStanding, rows)
    warnings = adjustments_sweep.warn_by_rule(warn, day, RULE, RULE)
    delisted = []
    if delist:
        entries = db.session.scalars(select(WhitelistEntry).where(
            WhitelistEntry.project_id.in_(list(delist)),
            WhitelistEntry.status.in_([EntryStatus.active, EntryStatus.suspended]))).all()
        delisted = adjustments_sweep.delist_entries(
            entries, day, actor, RULE, RULE, evidence_for=lambda e: delist[e.project_id][1],
            message_for=lambda e: delist[e.project_id][0])
    summary = {"standings": len(rows), "warnings": warnings, "delisted": len(delisted)}
    db.session.add(StandingRun(term_id=term.id, computed_on=day, summary=summary))
    db.session.flush()
    return summary


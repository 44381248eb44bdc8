"""Reads of the quality domain: the school's orders to evaluate and survey, its dashboard reminder, the
standings shown where decisions are made (the school catalog, the provider dashboard, the public whitelist),
the reviewers' standings list and its exports. Each read is a fixed number of statements."""
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload

from registry.core import clock, signals
from registry.core.errors import NotFound
from registry.extensions import db
from registry.orders.models import Order
from registry.policy import services as policy
from registry.policy.models import CityPolicy
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.quality.models import (
    ProjectStanding,
    SchoolEvaluation,
    StandingLevel,
    SurveyCode,
    SurveyResponse,
)
from registry.quality.services import SERVED, evaluation_open, evaluation_window
from registry.regions.models import Region
from registry.schools.models import Term

PUBLIC_MIN_RESPONSES = 10   # the public whitelist never shows a rate from fewer answers (small numbers identify)
COMMENTS_SHOWN = 20


# ---------------------------------------------------------------- the school's side

@dataclass
class SchoolOrderQuality:
    order: Order
    evaluation: SchoolEvaluation | None
    issued: int          # live codes (not voided)
    answered: int
    window: tuple
    is_open: bool


def school_orders(school_id, day=None, term_id=None):
    """The school's served orders (newest term first) with their evaluation and survey figures: three
    statements for any number of orders."""
    day = day or clock.today()
    stmt = (select(Order).join(Order.term).where(Order.school_id == school_id, Order.status.in_(SERVED))
            .options(joinedload(Order.project), joinedload(Order.provider), joinedload(Order.term))
            .order_by(Term.ends_on.desc(), Order.id.desc()))
    if term_id:
        stmt = stmt.where(Order.term_id == term_id)
    orders = db.session.scalars(stmt).all()
    ids = [o.id for o in orders]
    evaluations = {e.order_id: e for e in db.session.scalars(
        select(SchoolEvaluation).where(SchoolEvaluation.order_id.in_(ids)))} if ids else {}
    figures = {}
    if ids:
        for order_id, issued, answered in db.session.execute(
                select(SurveyCode.order_id, func.count(SurveyCode.id).filter(SurveyCode.revoked_at.is_(None)),
                       func.count(SurveyCode.used_at)).where(SurveyCode.order_id.in_(ids))
                .group_by(SurveyCode.order_id)):
            figures[order_id] = (issued, answered)
    return [SchoolOrderQuality(o, evaluations.get(o.id), *figures.get(o.id, (0, 0)), evaluation_window(o.term),
                               evaluation_open(o.term, day)) for o in orders]


def school_order(school_id, order_id, day=None):
    """One of the school's served orders with its figures, or 404 (another school's order is never revealed)."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).options(
        joinedload(Order.project), joinedload(Order.provider), joinedload(Order.term), joinedload(Order.school)))
    if order is None or order.school_id != school_id or order.status not in SERVED:
        raise NotFound("订单不存在或没有提供服务")
    found = [row for row in school_orders(school_id, day, order.term_id) if row.order.id == order.id]
    return found[0]


def evaluation_reminder(school_id, day=None):
    """The school's orders whose evaluation window is open today and that it has not evaluated (dashboard)."""
    day = day or clock.today()
    return [row for row in school_orders(school_id, day) if row.is_open and row.evaluation is None]


# ---------------------------------------------------------------- standings where decisions are made

@dataclass
class StandingView:
    term_name: str
    ends_on: date
    rate: Decimal | None
    responses: int
    level: StandingLevel
    threshold: Decimal
    outcome: str | None

    @property
    def below(self):
        return self.level == StandingLevel.below

    @property
    def rate_percent(self):
        return None if self.rate is None else f"{self.rate * 100:.1f}%"


def _last_standings(project_ids):
    """Each project's latest standing (by its term's end), joined to its term: one statement."""
    later = aliased(ProjectStanding)
    later_term = aliased(Term)
    newer = (select(later.id).join(later_term, later_term.id == later.term_id)
             .where(later.project_id == ProjectStanding.project_id, later_term.ends_on > Term.ends_on).exists())
    return db.session.execute(
        select(ProjectStanding, Term.name, Term.ends_on).join(Term, Term.id == ProjectStanding.term_id)
        .where(ProjectStanding.project_id.in_(list(project_ids)), ~newer)).all()


@signals.standings_of.register
def standings_of(project_ids, day=None):
    """{project_id: StandingView} of the projects' last recorded standings (the school catalog)."""
    project_ids = list(project_ids)
    if not project_ids:
        return {}
    rows = _last_standings(project_ids)
    thresholds = dict(db.session.execute(select(CityPolicy.city_id, CityPolicy.satisfaction_threshold)).all())
    default = policy.defaults().satisfaction_threshold
    return {s.project_id: StandingView(name, ends_on, s.rate, s.responses, s.level,
                                       thresholds.get(s.city_id, default), s.outcome)
            for s, name, ends_on in rows}


@signals.public_satisfaction.register
def public_satisfaction(project_ids):
    """{project_id: (rate, responses)} of each project's last standing with at least PUBLIC_MIN_RESPONSES
    answers; a project with fewer has no entry (the public whitelist shows nothing for it)."""
    project_ids = list(project_ids)
    if not project_ids:
        return {}
    return {s.project_id: (s.rate, s.responses) for s, _name, _ends in _last_standings(project_ids)
            if s.rate is not None and s.responses >= PUBLIC_MIN_RESPONSES}


# ---------------------------------------------------------------- the provider's dashboard

PHONE_LIKE = re.compile(r"\d[\d\s\-]{5,}\d")


def anonymise(text):
    """A comment as the provider sees it: digit runs that could be a phone or an ID number are masked."""
    return PHONE_LIKE.sub("＊＊＊", text or "")


@dataclass
class ProviderQuality:
    standings: list       # ProjectStanding, latest term first
    comments: list        # (term name, project title, source label, text)


def provider_quality(provider_id, limit=COMMENTS_SHOWN):
    """The provider's standings per project and term and its latest comments, without who wrote them (no
    school, no order, no date finer than the term): four statements."""
    standings = db.session.scalars(
        select(ProjectStanding).join(Term, Term.id == ProjectStanding.term_id)
        .where(ProjectStanding.provider_id == provider_id)
        .options(joinedload(ProjectStanding.project), joinedload(ProjectStanding.term))
        .order_by(Term.ends_on.desc(), ProjectStanding.project_id).limit(60)).all()
    comments = []
    for source, model in (("家长", SurveyResponse), ("学校", SchoolEvaluation)):
        comments += [(term, title, source, anonymise(text)) for term, title, text, _ends in db.session.execute(
            select(Term.name, Project.title, model.comment, Term.ends_on)
            .join(Term, Term.id == model.term_id).join(Project, Project.id == model.project_id)
            .where(model.provider_id == provider_id, model.comment != "")
            .order_by(Term.ends_on.desc(), model.id.desc()).limit(limit))]
    return ProviderQuality(standings, comments[:limit])


# ---------------------------------------------------------------- the reviewers' standings

def terms_with_standings():
    return db.session.scalars(select(Term).where(
        select(ProjectStanding.id).where(ProjectStanding.term_id == Term.id).exists())
        .order_by(Term.ends_on.desc())).all()


def standings_stmt(user, filters):
    """Standings in the reviewer's region (a city reviewer: the city's providers; a county reviewer or an
    inspector: the county's), per provider and project, newest term first."""
    stmt = (select(ProjectStanding).join(Term, Term.id == ProjectStanding.term_id)
            .join(Provider, Provider.id == ProjectStanding.provider_id)
            .join(Project, Project.id == ProjectStanding.project_id)
            .options(joinedload(ProjectStanding.project), joinedload(ProjectStanding.provider),
                     joinedload(ProjectStanding.term))
            .order_by(Term.ends_on.desc(), Provider.name, Project.title, ProjectStanding.id))
    region = user.region
    if region is None:
        return stmt.where(ProjectStanding.id.is_(None))
    column = ProjectStanding.city_id if region.level.value == "city" else ProjectStanding.county_id
    stmt = stmt.where(column == region.id)
    if filters.get("term_id"):
        stmt = stmt.where(ProjectStanding.term_id == filters["term_id"])
    if filters.get("level"):
        stmt = stmt.where(ProjectStanding.level == StandingLevel(filters["level"]))
    return stmt


def region_name(user):
    return user.region.name if user.region is not None else ""


def county_names(county_ids):
    ids = list(set(county_ids))
    return dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(ids))).all()) if ids else {}


"""Offset pagination with a fixed number of statements (one count, one page)."""
from dataclasses import dataclass

from flask import request
from sqlalchemy import func, select

from registry.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


MAX_PAGE = 100000  # as the query schemas' page fields; beyond, the OFFSET would not fit a PostgreSQL bigint


def page_args(default_per_page=20, max_per_page=100):
    try:
        page = min(MAX_PAGE, max(1, int(request.args.get("page", 1))))
    except ValueError:
        page = 1
    try:
        per_page = min(max_per_page, max(1, int(request.args.get("per_page", default_per_page))))
    except ValueError:
        per_page = default_per_page
    return page, per_page


def count_of(stmt):
    """SELECT count(*) over the statement without its ORDER BY, as a subquery: right for DISTINCT, GROUP BY
    and HAVING as for a plain statement, with no look at the statement's private state. The entity's columns
    in the subquery are not computed (both databases flatten such a subquery), and an ORM statement's eager
    loads apply to a top-level statement only."""
    return select(func.count()).select_from(stmt.order_by(None).subquery())


def paginate(stmt, page, per_page, scalars=True):
    total = db.session.scalar(count_of(stmt))
    query = stmt.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(query)
    items = result.scalars().all() if scalars else result.all()
    return Page(items, page, per_page, total)

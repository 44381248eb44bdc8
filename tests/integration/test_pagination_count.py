"""count_of counts what the page shows, for DISTINCT, GROUP BY and HAVING as for a plain statement, without
reading the statement's private attributes (core/pagination.py)."""
from sqlalchemy import func, literal, select, union_all

from registry.core.pagination import count_of, paginate


def _rows():
    return union_all(*[select(literal(k).label("k"), literal(n).label("n"))
                       for k, n in [(1, 10), (1, 11), (2, 12), (3, 13), (3, 14), (3, 15)]]).subquery()


def test_count_of_plain_distinct_grouped_and_having_statements(db):
    rows = _rows()
    assert db.session.scalar(count_of(select(rows.c.n).order_by(rows.c.n))) == 6
    assert db.session.scalar(count_of(select(rows.c.k).distinct())) == 3
    assert db.session.scalar(count_of(select(rows.c.k, func.count()).group_by(rows.c.k))) == 3
    assert db.session.scalar(count_of(select(rows.c.k).group_by(rows.c.k).having(func.count() > 1))) == 2
    assert db.session.scalar(count_of(select(rows.c.n).where(rows.c.k == 3))) == 3


def test_paginate_a_grouped_statement(db):
    rows = _rows()
    page = paginate(select(rows.c.k).group_by(rows.c.k).order_by(rows.c.k), 2, 2)
    assert (page.items, page.total, page.pages) == ([3], 3, 2)

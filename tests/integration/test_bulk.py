"""registry.core.bulk: one statement for any number of rows, and what is stored is what the ORM stores."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Integer, String, event, select

from registry.adjustments.models import ActionKind, ProviderAction, ReasonCategory
from registry.core import bulk
from registry.core.lifecycle import StatusChange
from registry.notifications.models import Notification


def _statements(db, fn):
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return [s for s in seen if not s.startswith(("SAVEPOINT", "RELEASE", "BEGIN"))]


def _changes(n, start=0):
    return [{"object_type": "whitelist_entry", "object_id": start + i, "action": "suspend", "from_status": "active",
             "to_status": "suspended", "reason": "资质材料过期：“营业执照”", "rule": "document_expired",
             "details": {"entries": [i, i + 1], "说明": "测试"}, "created_at": datetime(2026, 3, 1, 8, 30, 15, 123456)}
            for i in range(n)]


def test_one_statement_whatever_the_number_of_rows(db):
    small = _statements(db, lambda: bulk.insert_rows(StatusChange, _changes(3)))
    large = _statements(db, lambda: bulk.insert_rows(StatusChange, _changes(6000, start=100)))
    assert len(small) == len(large) == 1
    assert db.session.scalar(select(StatusChange.id).where(StatusChange.object_id == 6099)) is not None


def test_values_round_trip_as_the_orm_writes_them(db):
    rows = _changes(2, start=900)
    bulk.insert_rows(StatusChange, rows)
    db.session.add(StatusChange(**{**rows[0], "object_id": 999}))
    db.session.flush()
    db.session.expire_all()
    stored = {c.object_id: c for c in db.session.scalars(
        select(StatusChange).where(StatusChange.object_id.in_([900, 901, 999])))}
    for key in ("action", "from_status", "reason", "rule", "details", "created_at"):
        assert getattr(stored[900], key) == getattr(stored[999], key) == rows[0][key], key
    assert stored[901].details == {"entries": [1, 2], "说明": "测试"}


def test_enums_dates_and_defaults(db, whitelisted):
    provider = whitelisted["provider"]
    bulk.insert_rows(ProviderAction, [
        {"provider_id": provider.id, "kind": ActionKind.warning, "reason_category": ReasonCategory.other,
         "reason": "提醒", "effective_on": date(2026, 3, 2), "dedupe_key": "bulk-test-1", "evidence": None},
    ])
    db.session.expire_all()
    action = db.session.scalar(select(ProviderAction).where(ProviderAction.dedupe_key == "bulk-test-1"))
    assert action.kind == ActionKind.warning and action.effective_on == date(2026, 3, 2)
    assert action.evidence is None          # an explicit None stays None
    assert action.created_at is not None    # a left-out column gets its default


def test_rows_keep_their_order(db):
    bulk.insert_rows(StatusChange, _changes(50, start=2000))
    ids = db.session.execute(select(StatusChange.object_id).where(StatusChange.object_id >= 2000)
                             .order_by(StatusChange.id)).scalars().all()
    assert ids == list(range(2000, 2050))


def test_json_rows_joins_pairs_without_an_in_list(db, create_user):
    user = create_user("provider_admin")
    db.session.add_all([Notification(user_id=user.id, title="t", body="", category="info", dedupe_key=f"k{i}")
                        for i in range(3)])
    db.session.flush()
    pairs = bulk.json_rows([("user_id", Integer()), ("key", String())],
                           [(user.id, "k1"), (user.id, "k2"), (user.id, "missing"), (user.id + 1, "k0")])
    found = db.session.execute(select(Notification.dedupe_key).join(
        pairs, (pairs.c.c0 == Notification.user_id) & (pairs.c.c1 == Notification.dedupe_key))).scalars().all()
    assert sorted(found) == ["k1", "k2"]


def test_decimal_and_unknown_columns(db):
    with pytest.raises(KeyError):
        bulk.insert_rows(StatusChange, [{"object_type": "x", "no_such_column": 1}])
    assert bulk._pg_value(Decimal("3.50")) == "3.50"

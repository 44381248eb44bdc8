"""registry.core.lifecycle: transition_many finds each object's move from its own status and asks that
move's guard, as transition does ("move those that can": the refused and the not-allowed are skipped);
and a move table names members of the model's status enum, so a typo fails when it is defined."""
import pytest
from sqlalchemy import select

from registry.core.errors import NotAllowed
from registry.core.lifecycle import Lifecycle, Move, StatusChange
from registry.orders.models import OrderStatus
from registry.whitelist.models import EntryStatus, WhitelistEntry
from registry.whitelist.services import ENTRY
from tests.fixtures.reviews import add_bulk_entries


def _changes(db, ids):
    return {(c.object_id, c.from_status, c.to_status) for c in db.session.scalars(
        select(StatusChange).where(StatusChange.object_type == "whitelist_entry", StatusChange.object_id.in_(ids)))}


def test_a_guard_that_refuses_is_honoured(db, whitelisted):
    entries = add_bulk_entries(db, whitelisted["batch"], 3)
    refused = entries[1]

    def not_this_one(entry, actor, **_):
        if entry.id == refused.id:
            raise NotAllowed("该条目不能暂停")

    guarded = Lifecycle("whitelist_entry", WhitelistEntry, moves=[
        Move("suspend", frozenset({EntryStatus.active}), EntryStatus.suspended, not_this_one)])
    moved = guarded.transition_many(entries, "suspend", reason="测试", rule="test")

    assert sorted(moved) == sorted([entries[0].id, entries[2].id])
    db.session.expire_all()
    assert [db.session.get(WhitelistEntry, e.id).status for e in entries] == [
        EntryStatus.suspended, EntryStatus.active, EntryStatus.suspended]
    assert _changes(db, [e.id for e in entries]) == {
        (entries[0].id, "active", "suspended"), (entries[2].id, "active", "suspended")}


def test_each_object_takes_the_move_of_its_own_status(db, whitelisted):
    """Two moves share an action from different sources: each object goes to its own move's target, and one
    in no source state is skipped (not moved by the first move's table)."""
    entries = add_bulk_entries(db, whitelisted["batch"], 3)
    ENTRY.transition(entries[1], "suspend", reason="测试")
    ENTRY.transition(entries[2], "delist", reason="测试")
    two_way = Lifecycle("whitelist_entry", WhitelistEntry, moves=[
        Move("toggle", frozenset({EntryStatus.active}), EntryStatus.suspended),
        Move("toggle", frozenset({EntryStatus.suspended}), EntryStatus.active)])
    moved = two_way.transition_many(entries, "toggle", reason="测试", rule="test")

    assert sorted(moved) == sorted([entries[0].id, entries[1].id])
    db.session.expire_all()
    assert [db.session.get(WhitelistEntry, e.id).status for e in entries] == [
        EntryStatus.suspended, EntryStatus.active, EntryStatus.delisted]
    toggles = {(c.object_id, c.from_status, c.to_status) for c in db.session.scalars(
        select(StatusChange).where(StatusChange.action == "toggle"))}
    assert toggles == {(entries[0].id, "active", "suspended"), (entries[1].id, "suspended", "active")}


def test_a_disallowed_object_is_skipped_by_the_real_table(db, whitelisted):
    entries = add_bulk_entries(db, whitelisted["batch"], 2)
    ENTRY.transition(entries[0], "suspend", reason="测试")
    assert ENTRY.transition_many(entries, "lift", reason="测试", rule="test") == [entries[0].id]
    assert [e.status for e in entries] == [EntryStatus.active, EntryStatus.active]
    assert entries[0].version == 3 and entries[1].version == 1


def test_states_are_enum_members_checked_at_definition():
    with pytest.raises(TypeError):
        Move("suspend", frozenset({"actve"}), EntryStatus.suspended)
    with pytest.raises(TypeError):
        Move("suspend", frozenset({EntryStatus.active}), "suspended")
    with pytest.raises(TypeError):  # a member of another lifecycle's enum
        Lifecycle("whitelist_entry", WhitelistEntry, moves=[
            Move("suspend", frozenset({EntryStatus.active}), OrderStatus.suspended)])
    with pytest.raises(AttributeError):
        Move("suspend", frozenset({EntryStatus.actve}), EntryStatus.suspended)


def test_the_tables_store_the_same_strings(db, whitelisted):
    entry = whitelisted["entry"]
    ENTRY.transition(entry, "suspend", reason="测试")
    (change,) = _changes(db, [entry.id])
    assert change == (entry.id, "active", "suspended")
    assert ENTRY.allowed_actions("suspended") == ENTRY.allowed_actions(EntryStatus.suspended)
    assert "lift" in ENTRY.allowed_actions("suspended")

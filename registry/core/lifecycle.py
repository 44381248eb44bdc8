"""One transition function per lifecycle: a table of allowed moves with guards, an audit
entry and a status-change row, and the only place a `status` column is assigned.

The UPDATE is conditional on the status and version the caller saw, so two reviewers
acting at once cannot both win (docs/architecture.md "Lifecycles"): the loser gets a Conflict.
"""
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from registry.audit import services as audit
from registry.core import bulk, clock
from registry.core.errors import Conflict, InvalidTransition, NotAllowed
from registry.extensions import db


class StatusChange(db.Model):
    """Every transition of every lifecycle, with who, when, why and under which rule."""

    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(32), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_status: Mapped[str] = mapped_column(String(32), nullable=False)
    to_status: Mapped[str] = mapped_column(String(32), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)

    __table_args__ = (Index("ix_status_change_object", "object_type", "object_id"),)

    def __repr__(self):
        return f"<StatusChange {self.object_type}#{self.object_id} {self.from_status}->{self.to_status}>"


@dataclass(frozen=True)
class Move:
    """One allowed move: from any of `sources` to `target`, all members of the lifecycle's status enum
    (not strings, so that a typo fails when the table is written, not when the move is first tried)."""

    action: str
    sources: frozenset
    target: enum.Enum
    guard: Callable | None = None  # guard(obj, actor, **context) -> None or raises NotAllowed/Conflict

    def __post_init__(self):
        object.__setattr__(self, "sources", frozenset(self.sources))
        for state in (*self.sources, self.target):
            if not isinstance(state, enum.Enum):
                raise TypeError(f"Move {self.action!r}: {state!r} is not a status enum member")


# Every lifecycle by name (its audit rows' object type), so that a reader of the log (registry.audit) can put
# a status value into words without importing the domain above it (issue 19).
LIFECYCLES = {}


@dataclass
class Lifecycle:
    name: str
    model: type
    moves: list
    labels: dict = field(default_factory=dict)
    after: Callable | None = None  # after(obj, move): keep derived columns in step with the new status

    def __post_init__(self):
        # Every source and target must be a member of the model's own status enum: checked once, at import.
        self.status_enum = self.model.status.property.columns[0].type.enum_class
        for move in self.moves:
            for state in (*move.sources, move.target):
                if not isinstance(state, self.status_enum):
                    raise TypeError(f"Lifecycle {self.name!r}, move {move.action!r}: {state!r} is not a "
                                    f"{self.status_enum.__name__} member")
        LIFECYCLES[self.name] = self

    def _member(self, status):
        return status if isinstance(status, self.status_enum) else self.status_enum(status)

    def allowed_actions(self, status):
        status = self._member(status)
        return [m.action for m in self.moves if status in m.sources]

    def find(self, action, status):
        status = self._member(status)
        for move in self.moves:
            if move.action == action and status in move.sources:
                return move
        return None

    def label(self, status):
        return self.labels.get(status, status)

    def transition(self, obj, action, *, actor=None, reason=None, rule=None, details=None, changes=None, **context):
        """Apply `action`. `changes` are columns written in the same UPDATE as the status, for
        constraints that tie a column to the state (e.g. published <=> published_on)."""
        current = obj.status.value if hasattr(obj.status, "value") else obj.status
        move = self.find(action, current)
        if move is None:
            raise InvalidTransition(
                f"当前状态为“{self.label(current)}”，不能执行该操作", code="invalid_transition")
        if move.guard is not None:
            move.guard(obj, actor, **context)
        target = move.target.value
        new_status = move.target if hasattr(obj.status, "value") else target
        result = db.session.execute(
            update(self.model)
            .where(self.model.id == obj.id, self.model.status == obj.status, self.model.version == obj.version)
            .values(status=new_status, version=self.model.version + 1, **(changes or {}))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.refresh(obj)
            raise Conflict(f"该记录已被他人处理，当前状态为“{self.label(obj.status.value)}”，请刷新后重试",
                           code="concurrent_update")
        # Keep the in-memory object in step with the row we just updated.
        set_committed_value(obj, "status", new_status)
        set_committed_value(obj, "version", obj.version + 1)
        for key, value in (changes or {}).items():
            set_committed_value(obj, key, value)
        if self.after is not None:
            self.after(obj, move)
        db.session.add(StatusChange(
            object_type=self.name, object_id=obj.id, action=action, from_status=current, to_status=target,
            actor_id=getattr(actor, "id", None), reason=reason, rule=rule, details=details or {},
        ))
        db.session.flush()
        audit.record(f"{self.name}.{action}", object_type=self.name, object_id=obj.id, actor=actor,
                     details={"from": current, "to": target, "rule": rule,
                              **({"reason": reason[:200]} if reason else {})})
        return obj


    def hold(self, obj, *, conflict_message=None):
        """Take `obj` for a decision that leaves its status as it is (e.g. 同意纳入公示 at city review): the same
        conditional UPDATE on id, status and version as `transition`, moving only the version, so two people
        deciding on what they saw cannot both win (the loser gets Conflict `concurrent_update`, with
        `conflict_message(obj)` when given). No status-change or audit row: no state changed, and the caller
        records what it did."""
        result = db.session.execute(
            update(self.model)
            .where(self.model.id == obj.id, self.model.status == obj.status, self.model.version == obj.version)
            .values(version=self.model.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.refresh(obj)
            message = (conflict_message(obj) if conflict_message is not None else
                       f"该记录已被他人处理，当前状态为“{self.label(obj.status.value)}”，请刷新后重试")
            raise Conflict(message, code="concurrent_update")
        set_committed_value(obj, "version", obj.version + 1)
        return obj

    def transition_many(self, objects, action, *, actor=None, reason=None, rule=None, details_for=None, changes=None,
                        **context):
        """Set-based form for jobs. Contract: "move those that can". Each object's move is found from
        its own current status and that move's guard is asked, as `transition` does; an object with no
        such move, or whose guard refuses (NotAllowed/Conflict), is skipped, not raised, and so is one
        whose row is no longer in the status the caller loaded. Returns the ids moved; the callers
        (orders.services suspend/resume_for_entries, adjustments.sweep) act on those ids only.

        One conditional UPDATE per (move, current status) group, then one insert of status changes and
        one batch of audit rows: the statement count does not depend on how many objects there are."""

        if not objects or not any(m.action == action for m in self.moves):
            return []
        column = self.model.status.property.columns[0]
        groups = {}
        for obj in objects:
            current = self._member(obj.status)
            move = self.find(action, current)
            if move is None:
                continue
            if move.guard is not None:
                try:
                    move.guard(obj, actor, **context)
                except (NotAllowed, Conflict):
                    continue
            groups.setdefault((move, current), {})[obj.id] = obj
        rows, audit_rows, moved_ids = [], [], []
        for (move, current), by_id in groups.items():
            target = move.target.value
            moved = db.session.execute(
                update(self.model)
                .where(self.model.id.in_(list(by_id)), column == current)
                .values(status=move.target, version=self.model.version + 1, **(changes or {}))
                .returning(self.model.id, self.model.version)
                .execution_options(synchronize_session=False)
            ).all()
            for obj_id, version in moved:
                obj = by_id[obj_id]
                before = current.value
                set_committed_value(obj, "status", move.target if hasattr(obj.status, "value") else target)
                set_committed_value(obj, "version", version)
                for key, value in (changes or {}).items():
                    set_committed_value(obj, key, value)
                details = details_for(obj) if details_for else {}
                rows.append({"object_type": self.name, "object_id": obj_id, "action": action, "from_status": before,
                             "to_status": target, "actor_id": getattr(actor, "id", None), "reason": reason,
                             "rule": rule, "details": details, "created_at": clock.utcnow()})
                audit_rows.append({"action": f"{self.name}.{action}", "object_type": self.name, "object_id": obj_id,
                                   "details": {"from": before, "to": target, "rule": rule}})
                moved_ids.append(obj_id)
        if not moved_ids:
            return []
        bulk.insert_rows(StatusChange, rows)
        audit.record_many(audit_rows, actor=actor)
        return moved_ids


def history(object_type, object_id):
    from sqlalchemy import select
    return db.session.scalars(
        select(StatusChange).where(StatusChange.object_type == object_type, StatusChange.object_id == object_id)
        .order_by(StatusChange.id)
    ).all()


def forbid(message):
    raise NotAllowed(message)

"""Writing and verifying the audit chain."""
import hashlib
import json
from dataclasses import dataclass

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert, select, update

from registry.audit.models import GENESIS_HASH, AuditHead, AuditLog
from registry.core import bulk, clock
from registry.extensions import db

HASHED_FIELDS = (
    "seq", "created_at", "actor_id", "actor_name", "actor_role", "action",
    "object_type", "object_id", "result", "ip", "details",
)


def _canonical(row):
    values = {}
    for name in HASHED_FIELDS:
        value = row[name]
        if name == "created_at":
            value = value.strftime("%Y-%m-%dT%H:%M:%S.%f")
        values[name] = value
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def compute_hash(prev_hash, row):
    return hashlib.sha256((prev_hash + _canonical(row)).encode()).hexdigest()


def _current_actor():
    if has_request_context():
        try:
            if current_user and current_user.is_authenticated:
                return current_user._get_current_object()
        except Exception:  # no login manager in some CLI contexts
            return None
    return None


def record(action, *, object_type=None, object_id=None, result="success", details=None, actor=None, actor_name=None):
    """Append one row to the chain inside the caller's transaction (flushes, never commits)."""
    actor = actor or _current_actor()
    ip = request.remote_addr if has_request_context() else None
    session = db.session
    # The conditional UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite)
    # before we read the tip, so concurrent writers cannot fork the chain.
    tip = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).first()
    if tip is None:
        session.execute(insert(AuditHead).values(id=1, seq=1, hash=GENESIS_HASH))
        seq, prev_hash = 1, GENESIS_HASH
    else:
        seq, prev_hash = tip
    row = {
        "seq": seq,
        "created_at": clock.utcnow().replace(tzinfo=None),
        "actor_id": getattr(actor, "id", None),
        "actor_name": actor_name or getattr(actor, "username", None),
        "actor_role": getattr(actor, "role", None),
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "result": result,
        "ip": ip,
        "details": details or {},
    }
    digest = compute_hash(prev_hash, row)
    session.execute(insert(AuditLog).values(**row, prev_hash=prev_hash, hash=digest))
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    return seq


def record_many(entries, *, actor=None):
    """Append several rows with a fixed number of statements (for set-based jobs).

    `entries` are dicts with action, object_type, object_id, result, details."""
    if not entries:
        return []
    session = db.session
    n = len(entries)
    tip = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + n)
        .returning(AuditHead.seq, AuditHead.hash)
    ).first()
    if tip is None:
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS_HASH))
        last_seq, prev_hash = 0, GENESIS_HASH
    else:
        last_seq, prev_hash = tip[0] - n, tip[1]
    now = clock.utcnow()
    ip = request.remote_addr if has_request_context() else None
    rows = []
    for offset, entry in enumerate(entries, start=1):
        row = {
            "seq": last_seq + offset, "created_at": now, "actor_id": getattr(actor, "id", None),
            "actor_name": getattr(actor, "username", None) or entry.get("actor_name"),
            "actor_role": getattr(actor, "role", None), "action": entry["action"],
            "object_type": entry.get("object_type"),
            "object_id": None if entry.get("object_id") is None else str(entry["object_id"]),
            "result": entry.get("result", "success"), "ip": ip, "details": entry.get("details") or {},
        }
        digest = compute_hash(prev_hash, row)
        rows.append({**row, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    bulk.insert_rows(AuditLog, rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev_hash))
    return [r["seq"] for r in rows]


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(batch_size=5000):
    """Walk the chain in order; name the first row that was changed, removed or reordered."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    columns = [getattr(AuditLog, name) for name in HASHED_FIELDS] + [AuditLog.prev_hash, AuditLog.hash]
    stmt = select(*columns).order_by(AuditLog.seq).execution_options(yield_per=batch_size)
    for rec in db.session.execute(stmt):
        row = rec._mapping
        if row["seq"] != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"第 {expected_seq} 条记录缺失（被删除）")
        if row["prev_hash"] != prev_hash:
            return VerifyResult(False, checked, row["seq"], f"第 {row['seq']} 条记录的前序哈希不匹配（前一条被改动或删除）")
        if compute_hash(prev_hash, row) != row["hash"]:
            return VerifyResult(False, checked, row["seq"], f"第 {row['seq']} 条记录内容被改动")
        prev_hash = row["hash"]
        expected_seq += 1
        checked += 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return VerifyResult(False, checked, checked + 1, f"链尾不一致：链头记录到第 {head.seq} 条，实际只有 {checked} 条（末尾记录被删除）")
    return VerifyResult(True, checked)

"""Writing and verifying the audit chain."""
import hashlib
import json
from dataclasses import dataclass

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert, select, update

from registry.audit.models import GENESIS_HASH, AuditAnchor, AuditHead, AuditLog
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


def _claim(session, n):
    """Claim the next `n` sequence numbers. Returns (the first of them, the hash they chain from, the day to
    store on the head).

    The conditional UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before we read the
    tip, so concurrent writers cannot fork the chain. When the tip belongs to an earlier day than today, it
    is that closed day's last row: it is kept as the day's anchor (published on the change feed)."""
    today = clock.today()
    tip = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + n)
        .returning(AuditHead.seq, AuditHead.hash, AuditHead.day)
    ).first()
    if tip is None:
        session.execute(insert(AuditHead).values(id=1, seq=n, hash=GENESIS_HASH, day=today))
        return 1, GENESIS_HASH, today
    last, prev_hash, day = tip[0] - n, tip[1], tip[2]
    if day is not None and day < today and last > 0:
        session.execute(insert(AuditAnchor).values(day=day, seq=last, hash=prev_hash))
    # A clock set back (tests, a --as-of run) never moves the head's day back: each day is anchored once.
    return last + 1, prev_hash, today if day is None or day < today else day


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
    seq, prev_hash, day = _claim(session, 1)
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
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest, day=day))
    return seq


def record_many(entries, *, actor=None):
    """Append several rows with a fixed number of statements (for set-based jobs).

    `entries` are dicts with action, object_type, object_id, result, details."""
    if not entries:
        return []
    session = db.session
    first_seq, prev_hash, day = _claim(session, len(entries))
    last_seq = first_seq - 1
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
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev_hash, day=day))
    return [r["seq"] for r in rows]


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    published_head: object = None  # the published head (anchors.Head) the chain diverges from, if any
    anchored: int = 0  # how many published heads matched


def verify_chain(batch_size=5000, published=None):
    """Walk the chain in order; name the first row that was changed, removed or reordered.

    On its own the walk proves only that the rows agree with each other: whoever can write the database can
    rewrite a row, recompute every later hash and the head, and the walk passes. `published` (a list of
    registry.audit.anchors.Head kept outside the database, e.g. saved from the public change feed) closes
    that gap: the hash recomputed at each published sequence number must equal the published one, so a
    history rewritten before a published head fails at the first such head."""
    pinned = {head.seq: head for head in (published or [])}
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
            return VerifyResult(False, checked, row["seq"],
                                f"第 {row['seq']} 条记录的前序哈希不匹配（前一条被改动或删除）")
        digest = compute_hash(prev_hash, row)
        if digest != row["hash"]:
            return VerifyResult(False, checked, row["seq"], f"第 {row['seq']} 条记录内容被改动")
        head = pinned.get(row["seq"])
        if head is not None and digest != head.hash:
            return VerifyResult(False, checked, row["seq"],
                                f"第 {row['seq']} 条记录的哈希与 {head.date} 公布的当日链头不一致："
                                f"该链头及其之前的历史在公布后被改写", published_head=head)
        prev_hash = row["hash"]
        expected_seq += 1
        checked += 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return VerifyResult(False, checked, checked + 1,
                            f"链尾不一致：链头记录到第 {head.seq} 条，实际只有 {checked} 条（末尾记录被删除）")
    beyond = [h for h in pinned.values() if h.seq > checked]
    if beyond:
        first = min(beyond, key=lambda h: h.seq)
        return VerifyResult(False, checked, first.seq,
                            f"{first.date} 公布的当日链头为第 {first.seq} 条，数据库中只有 {checked} 条（记录被删除）",
                            published_head=first)
    return VerifyResult(True, checked, anchored=len(pinned))

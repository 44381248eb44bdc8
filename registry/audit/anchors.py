"""The audit chain's daily heads, published outside the database.

Each closed day's head — the sequence number and hash of its last audit row (audit.services._claim keeps
it in `audit_anchor`) — is served on the public change feed (`/whitelist/changes`) and as JSON at
`/api/v1/whitelist/changes/audit-heads`: a list of `{"date": "YYYY-MM-DD", "seq": n, "hash": "<64 hex>"}`,
oldest first. A hash reveals nothing of the rows it covers, and the count only how many audited events
happened. Anyone may save that JSON; `flask registry audit-verify --against <file or http(s) URL>` later
checks that the chain in the database still reaches every saved hash at its sequence number.
"""
import json
import re
import urllib.request
from dataclasses import dataclass

from sqlalchemy import select

from registry.audit.models import AuditAnchor
from registry.extensions import db

HASH_RE = re.compile(r"^[0-9a-f]{64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FETCH_TIMEOUT_SECONDS = 30
MAX_BYTES = 20 * 1024 * 1024


class HeadsFormatError(ValueError):
    """The heads file is not a JSON list of {date, seq, hash}."""


@dataclass(frozen=True)
class Head:
    date: str
    seq: int
    hash: str

    def as_json(self):
        return {"date": self.date, "seq": self.seq, "hash": self.hash}


def published_heads(latest=None):
    """Every closed day's head, oldest first (what the change feed publishes); only the `latest` days if given."""
    stmt = select(AuditAnchor.day, AuditAnchor.seq, AuditAnchor.hash)
    if latest is None:
        rows = db.session.execute(stmt.order_by(AuditAnchor.day)).all()
    else:
        rows = db.session.execute(stmt.order_by(AuditAnchor.day.desc()).limit(latest)).all()[::-1]
    return [Head(day.isoformat(), seq, digest) for day, seq, digest in rows]


def parse_heads(data):
    """Heads from the published JSON (text, bytes or the decoded list). Raises HeadsFormatError."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise HeadsFormatError(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise HeadsFormatError("expected a JSON list of {date, seq, hash}")
    heads, seen = [], {}
    for i, item in enumerate(data):
        if not isinstance(item, dict) or set(item) != {"date", "seq", "hash"}:
            raise HeadsFormatError(f"item {i}: expected exactly the keys date, seq, hash")
        day, seq, digest = item["date"], item["seq"], item["hash"]
        if not isinstance(day, str) or not DATE_RE.match(day):
            raise HeadsFormatError(f"item {i}: date must be YYYY-MM-DD")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise HeadsFormatError(f"item {i}: seq must be a positive integer")
        if not isinstance(digest, str) or not HASH_RE.match(digest):
            raise HeadsFormatError(f"item {i}: hash must be 64 lowercase hex digits")
        if seen.get(seq, digest) != digest:
            raise HeadsFormatError(f"item {i}: seq {seq} is listed twice with different hashes")
        seen[seq] = digest
        heads.append(Head(day, seq, digest))
    return heads


def load_heads(source):
    """Heads from a file path or an http(s) URL."""
    if re.match(r"^https?://", source, re.IGNORECASE):
        request = urllib.request.Request(source, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (http(s) only)
            body = response.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise HeadsFormatError("the heads document is too large")
        return parse_heads(body)
    with open(source, "rb") as handle:
        return parse_heads(handle.read())

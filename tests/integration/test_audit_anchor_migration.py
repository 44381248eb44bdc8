"""The migration that adds the daily audit anchors backfills an existing chain (issue 12, hole 12): every day
before the tip's day gets its last row as anchor, the head gets its day, and the unchanged chain verifies against
the heads it now publishes."""
from datetime import datetime

from flask_migrate import upgrade
from sqlalchemy import text

from registry.audit import services as audit
from registry.audit.anchors import published_heads
from registry.extensions import db as _db
from tests.conftest import make_app
from tests.integration.test_migrations import empty_database_url, keep_logging  # noqa: F401 (fixtures)

BEFORE = "5b1e2f7c9a10"
# UTC times: 2026-05-11 15:59 UTC is 23:59 in Beijing (still the 11th); 16:01 UTC is already the 12th there.
TIMES = [datetime(2026, 5, 11, 2, 0), datetime(2026, 5, 11, 15, 59), datetime(2026, 5, 11, 16, 1),
         datetime(2026, 5, 12, 9, 0), datetime(2026, 5, 13, 1, 0), datetime(2026, 5, 13, 3, 0)]


def test_existing_chain_is_anchored_per_beijing_day(empty_database_url, keep_logging):  # noqa: F811
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        try:
            upgrade(revision=BEFORE)
            prev = "0" * 64
            with _db.engine.begin() as conn:
                for seq, moment in enumerate(TIMES, start=1):
                    row = {"seq": seq, "created_at": moment, "actor_id": None, "actor_name": None, "actor_role": None,
                           "action": "old.event", "object_type": None, "object_id": None, "result": "success",
                           "ip": None, "details": {}}
                    digest = audit.compute_hash(prev, row)
                    conn.execute(text("INSERT INTO audit_log "
                                      "(seq, created_at, action, result, details, prev_hash, hash) "
                                      "VALUES (:seq, :created_at, :action, :result, '{}', :prev, :hash)"),
                                 {**row, "prev": prev, "hash": digest})
                    prev = digest
                conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :seq, :hash)"),
                             {"seq": len(TIMES), "hash": prev})
            upgrade()
            heads = published_heads()
            hashes = dict(_db.session.execute(text("SELECT seq, hash FROM audit_log")).all())
            day = _db.session.execute(text("SELECT day FROM audit_head WHERE id = 1")).scalar()
            result = audit.verify_chain(published=heads)
        finally:
            _db.session.remove()
            _db.engine.dispose()
    # The 11th (Beijing) ends with row 2, the 12th with row 4; the 13th holds the tip and is not closed yet.
    assert [(h.date, h.seq) for h in heads] == [("2026-05-11", 2), ("2026-05-12", 4)]
    assert all(h.hash == hashes[h.seq] for h in heads)
    assert str(day) == "2026-05-13"
    assert result.ok and result.checked == len(TIMES) and result.anchored == 2

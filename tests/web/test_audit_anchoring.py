"""The audit chain is anchored outside the database (issue 12, hole 12; security.md 25).

Each closed day's head (sequence number and hash of its last row) is published on the public change feed and
in its JSON. `flask registry audit-verify --against <file or URL>` fails when the history up to a published
head was rewritten, even when the rewrite recomputed every later hash and the head (which plain audit-verify
cannot see: the rows still agree with each other)."""
import http.server
import json
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text

from registry.audit import services as audit
from registry.audit.models import AuditAnchor, AuditHead, AuditLog
from registry.core import clock
from tests.fixtures.reviews import at

DAYS = (date(2026, 5, 11), date(2026, 5, 12), date(2026, 5, 13))
HEADS_URL = "/api/v1/whitelist/changes/audit-heads"


def verify_cli(app, *extra):
    result = app.test_cli_runner().invoke(args=["registry", "audit-verify", *extra])
    return result.exit_code, result.output + (getattr(result, "stderr", "") or "")


def make_days(db, per_day=3):
    """`per_day` rows on each of DAYS; returns {day: last seq of that day}."""
    last = {}
    for day in DAYS:
        at(day)
        for i in range(per_day):
            last[day] = audit.record("test.event", object_type="thing", object_id=i,
                                     details={"day": day.isoformat(), "n": i, "名称": "南昌"})
    db.session.commit()
    return last


def saved_heads(client, tmp_path):
    response = client.get(HEADS_URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    path = tmp_path / "heads.json"
    path.write_bytes(response.data)
    return path, response.get_json()


def rewrite(db, seq, **changes):
    """What someone with write access to the database can do: change row `seq`, then recompute the hash of it
    and of every later row, the head and the stored anchors, so that the chain agrees with itself again."""
    db.session.execute(text("UPDATE audit_log SET " + ", ".join(f"{k} = :{k}" for k in changes) + " WHERE seq = :seq"),
                       {**changes, "seq": seq})
    columns = [getattr(AuditLog, name) for name in audit.HASHED_FIELDS]
    prev = db.session.scalar(select(AuditLog.hash).where(AuditLog.seq == seq - 1)) or "0" * 64
    for rec in db.session.execute(select(*columns).where(AuditLog.seq >= seq).order_by(AuditLog.seq)).all():
        digest = audit.compute_hash(prev, rec._mapping)
        db.session.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s"),
                           {"p": prev, "h": digest, "s": rec.seq})
        db.session.execute(text("UPDATE audit_anchor SET hash = :h WHERE seq = :s"), {"h": digest, "s": rec.seq})
        prev = digest
    db.session.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
    db.session.commit()


def test_each_closed_day_is_published_with_its_last_row(app, db, client):
    last = make_days(db)
    _path, heads = None, client.get(HEADS_URL).get_json()
    # Today (the last day) is not closed yet: only the days before it are published.
    assert [h["date"] for h in heads][-2:] == [DAYS[0].isoformat(), DAYS[1].isoformat()]
    for head in heads[-2:]:
        assert set(head) == {"date", "seq", "hash"}
        row = db.session.get(AuditLog, head["seq"])
        assert head["hash"] == row.hash and head["seq"] == last[date.fromisoformat(head["date"])]
    page = client.get("/whitelist/changes").get_data(as_text=True)
    assert "审计日志每日链头" in page and HEADS_URL in page
    for head in heads[-2:]:
        assert head["hash"] in page and f"<td>{head['seq']}</td>" in page
    # The next day's first row closes the last one.
    at(date(2026, 5, 14))
    audit.record("test.event")
    db.session.commit()
    assert client.get(HEADS_URL).get_json()[-1] == {
        "date": DAYS[2].isoformat(), "seq": last[DAYS[2]], "hash": db.session.get(AuditLog, last[DAYS[2]]).hash}


def test_a_day_is_anchored_once_even_when_the_clock_goes_back(app, db):
    make_days(db)
    at(DAYS[0])  # a run --as-of an earlier day
    audit.record("test.event")
    at(date(2026, 5, 14))
    audit.record("test.event")
    db.session.commit()
    days = db.session.scalars(select(AuditAnchor.day).where(AuditAnchor.day >= DAYS[0])).all()
    assert sorted(days) == list(DAYS)
    assert db.session.get(AuditHead, 1).day == date(2026, 5, 14)


def test_record_many_anchors_the_closed_day_too(app, db):
    make_days(db)
    at(date(2026, 5, 14))
    audit.record_many([{"action": "test.bulk"}, {"action": "test.bulk"}])
    db.session.commit()
    anchor = db.session.get(AuditAnchor, DAYS[2])
    assert anchor is not None and anchor.seq == db.session.scalar(
        select(func.max(AuditLog.seq)).where(AuditLog.action == "test.event"))
    code, output = verify_cli(app)
    assert code == 0, output


def test_a_rewrite_that_recomputes_every_hash_passes_plain_verify_but_not_the_anchored_one(app, db, client, tmp_path):
    last = make_days(db)
    path, heads = saved_heads(client, tmp_path)
    code, output = verify_cli(app, "--against", str(path))
    assert code == 0 and f"{len(heads)} published heads match" in output, output

    target = last[DAYS[1]] - 1  # a row of the second day, before that day's published head
    rewrite(db, target, result="failure", actor_name="someone_else")

    # The limit of an unanchored chain: it still agrees with itself.
    code, output = verify_cli(app)
    assert code == 0, output
    assert "not anchored" in output

    code, output = verify_cli(app, "--against", str(path))
    assert code == 1, output
    assert f"BROKEN at row {last[DAYS[1]]}" in output
    assert f"published head of {DAYS[1].isoformat()}" in output and f"seq {last[DAYS[1]]}" in output
    assert "公布的当日链头不一致" in output


def test_the_first_diverging_published_head_is_named(app, db, client, tmp_path):
    last = make_days(db)
    path, _heads = saved_heads(client, tmp_path)
    rewrite(db, last[DAYS[0]] - 1, result="failure")  # before the first day's head: both days diverge
    code, output = verify_cli(app, "--against", str(path))
    assert code == 1 and f"BROKEN at row {last[DAYS[0]]}" in output
    assert f"published head of {DAYS[0].isoformat()}" in output


def test_a_rewrite_after_the_last_published_head_is_not_caught_by_it(app, db, client, tmp_path):
    """What the anchoring promises, and no more: rows after the last published head are as safe as the database."""
    last = make_days(db)
    path, _heads = saved_heads(client, tmp_path)
    rewrite(db, last[DAYS[2]], result="failure")
    code, output = verify_cli(app, "--against", str(path))
    assert code == 0, output


def test_rows_deleted_back_past_a_published_head_fail(app, db, client, tmp_path):
    last = make_days(db)
    path, _heads = saved_heads(client, tmp_path)
    cut = last[DAYS[1]]
    db.session.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": cut})
    db.session.execute(text("DELETE FROM audit_anchor WHERE seq >= :s"), {"s": cut})
    new_tip = db.session.get(AuditLog, cut - 1)
    db.session.execute(text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
                       {"s": cut - 1, "h": new_tip.hash})
    db.session.commit()
    assert verify_cli(app)[0] == 0
    code, output = verify_cli(app, "--against", str(path))
    assert code == 1 and f"BROKEN at row {cut}" in output and DAYS[1].isoformat() in output


@pytest.fixture
def local_server():
    """serve(body) -> an http://127.0.0.1 URL answering `body` (no outside network)."""
    servers = []

    def serve(body):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}{HEADS_URL}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_against_accepts_an_http_url(app, db, client, local_server):
    last = make_days(db)
    url = local_server(client.get(HEADS_URL).data)
    code, output = verify_cli(app, "--against", url)
    assert code == 0 and "published heads match" in output, output
    rewrite(db, 2, result="failure")
    code, output = verify_cli(app, "--against", url)
    assert code == 1 and f"BROKEN at row {last[DAYS[0]]}" in output, output


@pytest.mark.parametrize("content", [
    b"not json", b'{"date": "2026-05-11"}', b'[{"date": "2026-05-11", "seq": 3}]',
    b'[{"date": "2026-05-11", "seq": 0, "hash": "' + b"a" * 64 + b'"}]',
    b'[{"date": "2026-05-11", "seq": 3, "hash": "xyz"}]',
    b'[{"date": "2026-05-11", "seq": 3, "hash": "' + b"a" * 64 + b'", "extra": 1}]',
])
def test_a_malformed_heads_file_is_refused(app, db, tmp_path, content):
    path = tmp_path / "heads.json"
    path.write_bytes(content)
    code, output = verify_cli(app, "--against", str(path))
    assert code == 1 and "cannot read the published heads" in output


def test_a_missing_heads_file_is_refused(app, db, tmp_path):
    code, output = verify_cli(app, "--against", str(tmp_path / "missing.json"))
    assert code == 1 and "cannot read the published heads" in output


def test_the_published_heads_are_only_dates_counts_and_digests(app, db, client):
    make_days(db)
    body = client.get(HEADS_URL).get_data(as_text=True)
    assert "南昌" not in body and "thing" not in body and "test.event" not in body
    for head in json.loads(body):
        assert set(head) == {"date", "seq", "hash"}


def test_anchored_verify_of_an_untouched_chain_passes_after_later_days(app, db, client, tmp_path):
    make_days(db)
    path, _ = saved_heads(client, tmp_path)
    at(date(2026, 5, 20))
    for _ in range(3):
        audit.record("test.later")
    db.session.commit()
    code, output = verify_cli(app, "--against", str(path))
    assert code == 0, output
    clock.freeze(None)

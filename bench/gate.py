"""Gate-scan benchmark (issue 14): POST /api/v1/gate/scan at a FIXED rate, open loop, on the real app under
gunicorn (bench/http.py: the same servers, environment and open-loop client as `verify`), every scan judged by
the live rules and written (a GateScan row per request).

The dataset carries a pass for each current person on a live order of the current term and a month of scans
(bench/generate.py `World.passes`, about 1,000,000 at --scale 1). The requests go to GATE_SCHOOLS schools with
the most passes, each with a bearer token of its school admin made for the run (deleted afterwards), and carry,
in turn, the QR text (signature verified) or the typed code of one of that school's passes. Figures:
    gate_scan_p50_ms_<db>, gate_scan_p99_ms_<db>   latency percentiles (target p99 ≤ 50 ms on PostgreSQL).
    gate_scan_rate_rps_<db>                        OK responses per second achieved (asked: GATE_RATE).
    gate_scan_unanswered_<db>                      requests that timed out or were refused.
    gate_scan_statements_<db>                      statements one scan sends, in-process; the same for a
                                                   small and a large school (checked), so it is constant.
    gate_scan_serial_ms_<db>                       median in-process time of one scan (no HTTP, no queue).
"""
import json
import os
import random
import socket
from contextlib import ExitStack
from types import SimpleNamespace

from bench.benchmarks import BUSY_AT, count_statements, frozen_clock, note
from bench.http import (
    _percentile,
    app_environment,
    bench_token,
    fixed_rate,
    flush_bench_redis,
    gunicorn,
    wait_until_quiet,
)

GATE_RATE = 300  # $BENCH_GATE_RATE overrides it (diagnosis only; the figure is at 300/s)
GATE_SCHOOLS = 40
PASSES_PER_SCHOOL = 50


def _schools(db):
    """[(school admin, [pass, ...])] of the GATE_SCHOOLS schools with the most passes."""
    from sqlalchemy import func, select

    from registry.auth.models import User
    from registry.passes.models import EntryPass
    ranked = db.session.execute(select(EntryPass.school_id, func.count()).group_by(EntryPass.school_id)
                                .order_by(func.count().desc(), EntryPass.school_id).limit(GATE_SCHOOLS)).all()
    if not ranked:
        raise RuntimeError("the dataset has no entry passes (regenerate: bench/generate.py version 2)")
    chosen = []
    for school_id, _n in ranked:
        admin = db.session.scalar(select(User).where(User.school_id == school_id, User.role == "school_admin",
                                                     User.disabled_at.is_(None)).order_by(User.id).limit(1))
        if admin is None:
            continue
        passes = db.session.scalars(select(EntryPass).where(EntryPass.school_id == school_id)
                                    .order_by(EntryPass.id).limit(PASSES_PER_SCHOOL)).all()
        chosen.append((admin, passes))
    return chosen


def _raw(port, token, text):
    body = json.dumps({"text": text}).encode()
    head = (f"POST /api/v1/gate/scan HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def _send(port, raw, timeout=30):
    """One whole request, synchronously: (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    return (int(head[9:12]) if head.startswith(b"HTTP/1.") else 0), body


def _statements(app, db, school, entry_pass):
    from registry.passes import services
    db.session.expunge_all()
    with count_statements(db.engine) as counter:
        services.scan(db.session.merge(school), user=None, text=services.qr_text(entry_pass))
    db.session.rollback()
    return counter["n"]


def _serial_ms(db, chosen, rounds=100):
    """The median in-process time of one scan (judged and written, then rolled back): what a request costs
    without HTTP and queueing, for reading the open-loop figures on a busy machine."""
    import statistics
    import time

    from registry.passes import services
    from registry.schools.models import School
    items = [(school_id, text) for _admin, passes in chosen for p in passes[:3]
             for school_id, text in [(p.school_id, services.qr_text(p))]]
    spent = []
    for i in range(rounds):
        school_id, text = items[i % len(items)]
        started = time.perf_counter()
        services.scan(db.session.get(School, school_id), user=None, text=text)
        db.session.flush()
        spent.append(time.perf_counter() - started)
        db.session.rollback()
    return round(statistics.median(spent) * 1000, 2)


def gate_scan(app, kind, seconds=20.0, scale=1.0, **_):
    from sqlalchemy import func, select

    from registry.extensions import db
    from registry.passes import services
    from registry.passes.models import EntryPass, GateScan
    from registry.schools.models import School
    with app.app_context(), frozen_clock():
        chosen = _schools(db)
        scans_before = db.session.scalar(select(func.count()).select_from(GateScan))
        big = chosen[0][1][0]
        small_id = db.session.scalar(select(EntryPass.school_id).group_by(EntryPass.school_id)
                                     .order_by(func.count(), EntryPass.school_id).limit(1))
        small = db.session.scalar(select(EntryPass).where(EntryPass.school_id == small_id).limit(1))
        counts = [_statements(app, db, db.session.get(School, p.school_id), p) for p in (big, small)]
        serial = _serial_ms(db, chosen)
        if counts[0] != counts[1]:
            note(f"  warning: a scan sent {counts[0]} statements at a large school and {counts[1]} at a small one")
        texts = [(SimpleNamespace(id=admin.id), [services.qr_text(p) if i % 2 == 0 else p.code
                                                 for i, p in enumerate(passes)]) for admin, passes in chosen]
        with ExitStack() as stack:
            tokens = [(stack.enter_context(bench_token(db, admin)), items) for admin, items in texts]
            db.session.remove()
            flush_bench_redis()
            env = {**app_environment(app), "BENCH_FROZEN_AT": BUSY_AT.isoformat()}  # 15:30 CST, in the passes' hours
            with gunicorn("bench.http:registry_app()", env) as port:
                requests = [_raw(port, token, text) for token, items in tokens for text in items]
                random.Random(14).shuffle(requests)
                for raw in requests[:5]:  # each answers 200 with a decision before the clock starts
                    status, body = _send(port, raw)
                    if status != 200 or b'"allowed"' not in body:
                        raise RuntimeError(f"a gate scan answered {status}: {body[:300]!r}")
                waited = wait_until_quiet()
                rate_asked = int(os.environ.get("BENCH_GATE_RATE") or GATE_RATE)
                latencies, unanswered, rate = fixed_rate(port, requests, rate_asked, max(5.0, 1.5 * seconds))
        written = db.session.scalar(select(func.count()).select_from(GateScan)) - scans_before
        db.session.remove()
    note(f"  gate_scan: {len(latencies)} requests over {sum(len(i) for _t, i in texts)} passes of {len(texts)} "
         f"schools, {written} scans written, {unanswered} unanswered, max {latencies[-1] * 1000:.1f} ms "
         f"(started after {waited:.0f} s waiting for an idle machine)")
    return [(f"gate_scan_p50_ms_{kind}", round(_percentile(latencies, 0.50) * 1000, 2)),
            (f"gate_scan_p99_ms_{kind}", round(_percentile(latencies, 0.99) * 1000, 2)),
            (f"gate_scan_rate_rps_{kind}", round(rate, 1)),
            (f"gate_scan_unanswered_{kind}", unanswered),
            (f"gate_scan_statements_{kind}", max(counts)),
            (f"gate_scan_serial_ms_{kind}", serial)]

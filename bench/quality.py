"""Quality benchmarks (issue 16).

survey_submit
  A term-end evening brings a rush of parents answering the survey. The real app under gunicorn (as
  bench/http.py runs it: production settings, Redis cache and rate-limit storage, GUNICORN_WORKERS sync
  workers) answers POST /api/v1/survey/<code> with a parent's JSON answer; each request uses a code of its
  own, issued for the run (SURVEY_CODES single-use codes over the current term's live orders, their hashes
  inserted, deleted with their answers afterwards). A bare Flask app under gunicorn with the same settings
  answers the same paths with the same 201 bytes. wrk (1 thread, WRK_CONNECTIONS connections) drives them in
  turns with a Lua script walking the codes from an offset, so no code is sent twice. The survey's per-address
  rate limit is raised for the run (the check itself still runs against Redis). Figures:
    survey_submit_rps_<db>          the median ratio of app/bare requests per second over the rounds (target ≥ 0.25)
    survey_app_rps_<db>, survey_bare_rps_<db>   the medians of each side.
standing_sweep
  registry.quality.sweep.run(AS_OF) on the generated data (no standing recorded yet: the two past terms are
  computed, with their warnings and delistings), in a transaction rolled back afterwards. Figures:
    standing_sweep_seconds_<db>     its time
    standing_sweep_statements_<db>  the statements it sent: compare across scales (it does not depend on the
                                    number of projects, answers or entries; only on the number of terms)
"""
import json
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.benchmarks import AS_OF, count_statements, frozen_clock, note
from bench.http import (
    ROUNDS,
    WRK_CONNECTIONS,
    _wrk_binary,
    app_environment,
    flush_bench_redis,
    gunicorn,
)

MAX_RPS = 2000   # more answers per second than the app gives on this machine: codes are issued for that many
SURVEY_ANSWER = {"satisfaction": "satisfied", "interest": "high", "safety": "safe", "extra_fee": False,
                 "voluntary": True, "comment": ""}
LUA = """
local body = %s
local offset = 0
local paths = {}
init = function(args)
  offset = tonumber(args[1])
  for line in io.lines(args[2]) do paths[#paths + 1] = line end
end
request = function()
  offset = offset + 1
  return wrk.format("POST", paths[offset], {["Content-Type"] = "application/json"}, body)
end
"""


def _issue_codes(db, count):
    """`count` single-use codes over the current term's live orders: (plain codes, their ids)."""
    from sqlalchemy import select

    from registry.core import bulk, clock
    from registry.orders.models import Order, OrderStatus
    from registry.quality import services as quality
    from registry.quality.models import SurveyCode
    from registry.schools.models import Term
    orders = db.session.execute(select(Order.id, Term.ends_on).join(Term, Term.id == Order.term_id).where(
        Order.status.in_([OrderStatus.active, OrderStatus.accepted]), Term.ends_on >= AS_OF)
        .order_by(Order.id)).all()
    if not orders:
        raise RuntimeError("no live order in the dataset to survey")
    codes = [quality._new_code() for _ in range(count)]
    now = clock.utcnow()
    first = (db.session.scalar(select(SurveyCode.id).order_by(SurveyCode.id.desc()).limit(1)) or 0) + 1
    bulk.insert_rows(SurveyCode, [{"id": first + i, "order_id": orders[i % len(orders)].id,
                                   "code_hash": quality.hash_code(code),
                                   "expires_on": orders[i % len(orders)].ends_on, "issued_at": now}
                                  for i, code in enumerate(codes)])
    db.session.commit()
    db.session.remove()
    return codes, (first, first + count - 1)


def _forget(db, id_range):
    from sqlalchemy import delete

    from registry.quality.models import SurveyCode, SurveyResponse
    first, last = id_range
    db.session.execute(delete(SurveyResponse).where(SurveyResponse.code_id.between(first, last)))
    db.session.execute(delete(SurveyCode).where(SurveyCode.id.between(first, last)))
    db.session.commit()
    db.session.remove()


def _wrk(port, seconds, script, offset, paths_file):
    """(requests/s, requests sent) of one wrk run walking the codes from `offset`."""
    command = [_wrk_binary(), "-t", "1", "-c", str(WRK_CONNECTIONS), "-d", f"{max(1, round(seconds))}s",
               "--timeout", "30s", "-s", script, f"http://127.0.0.1:{port}", "--", str(offset), paths_file]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if bad or (errors and int(errors.group(1)) + int(errors.group(3)) + int(errors.group(4))):
        raise RuntimeError(f"wrk saw errors on the survey:\n{out}")
    sent = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), sent


def survey_submit(app, kind, seconds=20.0, scale=1.0, **_):
    from registry.extensions import db
    run_seconds = max(2.0, seconds / 5)
    count = int(MAX_RPS * (2 + ROUNDS * run_seconds)) + 1000   # enough for every run at up to MAX_RPS
    flush_bench_redis()
    with app.app_context(), frozen_clock():
        db.session.remove()
        codes, id_range = _issue_codes(db, count)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                paths = Path(tmp) / "paths.txt"
                paths.write_text("".join(f"/api/v1/survey/{c}\n" for c in codes))
                script = Path(tmp) / "survey.lua"
                script.write_text(LUA % json.dumps(json.dumps(SURVEY_ANSWER)))
                bodies = Path(tmp) / "done.json"
                env = {**app_environment(app), "REGISTRY_SURVEY_RATE_LIMIT": "1000000 per minute"}
                with gunicorn("bench.http:registry_app()", env) as app_port:
                    bare_env = {"BENCH_BARE_BODIES": "{}", "BENCH_BARE_POST": str(bodies)}
                    offset = 0
                    import http.client
                    conn = http.client.HTTPConnection("127.0.0.1", app_port, timeout=30)
                    conn.request("POST", f"/api/v1/survey/{codes[0]}", body=json.dumps(SURVEY_ANSWER),
                                 headers={"Content-Type": "application/json"})
                    response = conn.getresponse()
                    body = response.read()
                    conn.close()
                    if response.status != 201:
                        raise RuntimeError(f"the survey answered {response.status}: {body[:300]!r}")
                    bodies.write_bytes(body)
                    offset = 1
                    with gunicorn("bench.quality:bare_survey_app()", bare_env) as bare_port:
                        slack = 50   # requests a connection had in flight when wrk stopped counting
                        _rps, sent = _wrk(app_port, 2, str(script), offset, str(paths))
                        offset += sent + slack
                        _wrk(bare_port, 2, str(script), 0, str(paths))
                        app_rps, bare_rps = [], []
                        for _round in range(ROUNDS):
                            if offset + MAX_RPS * run_seconds > len(codes):
                                note(f"  survey: codes running out at {offset} of {len(codes)}; stopping the rounds")
                                break
                            rps, sent = _wrk(app_port, run_seconds, str(script), offset, str(paths))
                            offset += sent + slack
                            app_rps.append(rps)
                            bare_rps.append(_wrk(bare_port, run_seconds, str(script), 0, str(paths))[0])
        finally:
            _forget(db, id_range)
    note(f"  survey: app {[round(x, 1) for x in app_rps]} rps, bare {[round(x, 1) for x in bare_rps]} rps; "
         f"{offset} of {len(codes)} codes used")
    ratio = statistics.median(a / b for a, b in zip(app_rps, bare_rps, strict=True))
    return [(f"survey_submit_rps_{kind}", round(ratio, 3)),
            (f"survey_app_rps_{kind}", round(statistics.median(app_rps), 1)),
            (f"survey_bare_rps_{kind}", round(statistics.median(bare_rps)))]


def bare_survey_app():
    """gunicorn 'bench.quality:bare_survey_app()': a bare Flask app answering POST /api/v1/survey/<code> with
    the bytes the real app answered (201), and /healthz for the start probe."""
    import os

    from flask import Flask, Response
    app = Flask("bare_survey")
    body = Path(os.environ["BENCH_BARE_POST"]).read_bytes()
    app.add_url_rule("/api/v1/survey/<code>", "survey",
                     lambda code: Response(body, 201, mimetype="application/json"), methods=["POST"])
    app.add_url_rule("/healthz", "healthz", lambda: Response(b"{}", mimetype="application/json"))
    return app


def standing_sweep(app, kind, **_):
    from registry.extensions import db
    from registry.quality import sweep as quality_sweep
    with app.app_context(), frozen_clock():
        db.session.remove()
        try:
            with count_statements(db.engine) as counter:
                started = time.perf_counter()
                summary = quality_sweep.run(AS_OF)
                db.session.flush()
                elapsed = time.perf_counter() - started
        finally:
            db.session.rollback()
            db.session.remove()
    note(f"standing_sweep[{kind}]: {summary}")
    return [(f"standing_sweep_seconds_{kind}", round(elapsed, 2)), (f"standing_sweep_statements_{kind}", counter["n"])]

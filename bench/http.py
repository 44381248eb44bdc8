"""HTTP benchmarks: the real app under gunicorn on loopback (issue 6).

Both start the real app the way production runs it: `create_app()` configured only by REGISTRY_*
variables, REGISTRY_ENV=production (the secrets come from the benchmark's app), the cache and the
rate-limit storage in Redis database BENCH_REDIS_DB (12, the benchmarks' own; flushed before a run so a
rebuilt dataset never meets an old cache), gunicorn with GUNICORN_WORKERS sync workers: one per core, where
the README's deployment section starts production ($BENCH_GUNICORN_WORKERS overrides it; on 2 cores, 4
workers answered fewer requests per second than 2). The clock is frozen at AS_OF in the workers too (`registry_app()`
below), as in every benchmark. No rate limit applies to the endpoints measured here (only logins,
objections, PDFs and exports are limited), so none is raised for the run. BENCH_CACHE_URL= (empty) runs the app
without a cache, for a before/after comparison.

catalog_vs_bare
  Side by side with the app runs a bare Flask app under gunicorn with the same settings. Its endpoint,
  at the same path, returns prebuilt the exact bytes the real endpoint answered (same JSON size). wrk
  (Debian's, `apt-get install wrk`; 1 thread, WRK_CONNECTIONS connections) on loopback drives them in
  turns, app, bare, app, bare … (ROUNDS each, after a warm-up of each), and every run must answer only
  2xx. Each figure is the median over the rounds of app requests/s / bare requests/s. Figures:
    catalog_vs_bare_public_<db>  GET /api/v1/whitelist?city=360100&per_page=50 (anonymous). The public list
                                 is answered from the shared Redis cache in front of the app
                                 (registry.core.cache.FrontCache); the warm-up fills it, so this is the
                                 steady state of a list that changes rarely. Target ≥ 0.5.
    catalog_vs_bare_school_<db>  GET /api/v1/school/catalog?per_page=50&stage=… of the school admin with the
                                 most candidate entries of 南昌市, with a bearer token made for the run and
                                 deleted afterwards. Every request authenticates against the database; the
                                 page itself comes from the cache the schools of one county and type share
                                 (registry.orders.catalog.cache_key). Target ≥ 0.2.
    catalog_public_rps_<db>, bare_public_rps_<db>, catalog_school_rps_<db>, bare_school_rps_<db>
                                 the median requests/s of each side over its rounds.
    catalog_public_miss_ms_<db>, catalog_school_miss_ms_<db>
                                 what a request costs when the cache cannot answer it (right after a commit
                                 that changed what the page shows): the median of sequential requests, each
                                 after bumping the generations the page is cached under. For the school: a
                                 commit that touched one provider of the page (issue 20: the page's
                                 generation and that provider's eligibility scope). Target ≤ 30 ms.
    catalog_school_cold_ms_<db>  the same page when no entry's eligibility is cached either (a city's rules
                                 changed, or the day's first request).
verify
  GET /verify/<token> (the HTML page behind a certificate's QR code) at a FIXED rate, open loop: an
  asyncio client schedules request i at start + i/rate on its own connection, and each latency is counted
  from the scheduled send time, so a server that falls behind is measured at the rate asked for and not
  at the rate it can sustain (no coordinated omission). The tokens, asked in turn, are a random sample of
  VERIFY_TOKENS of the dataset's certificates (valid, suspended, delisted, expired). The page is not cached:
  every request reads the database. The run starts once the machine's CPUs were 90 % idle for a second
  (wait_until_quiet): a latency tail must not carry what the previous benchmark left running. Figures:
    verify_p50_ms_<db>, verify_p99_ms_<db>   latency percentiles over the measured window. Target p99 ≤ 25 ms.
    verify_rate_rps_<db>                     OK responses per second actually achieved (asked: VERIFY_RATE).
    verify_unanswered_<db>                   requests that timed out (10 s) or were refused; counted in the
                                             percentiles with the time they waited.
"""
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bench.benchmarks import FROZEN_AT, frozen_clock, note

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS") or os.cpu_count() or 1)  # README: one per core
BENCH_REDIS_DB = 12
BENCH_REDIS_URL = f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}"
ROUNDS = 5
WRK_CONNECTIONS = 4
PUBLIC_CITY = "360100"     # 南昌市, the largest city of the dataset
PER_PAGE = 50
VERIFY_RATE = 200
VERIFY_TOKENS = 2000


# ---------------------------------------------------------------- the two WSGI apps gunicorn loads

def registry_app():
    """gunicorn 'bench.http:registry_app()': create_app() from the REGISTRY_* environment, with the clock
    frozen at $BENCH_FROZEN_AT (the dataset's "today")."""
    from registry import create_app
    from registry.core import clock
    if os.environ.get("BENCH_FROZEN_AT"):
        clock.freeze(datetime.fromisoformat(os.environ["BENCH_FROZEN_AT"]))
    return create_app()


def bare_app():
    """gunicorn 'bench.http:bare_app()': a bare Flask app answering each path of $BENCH_BARE_BODIES
    ({path: file}) with that file's bytes as JSON."""
    from flask import Flask, Response
    app = Flask("bare")
    for number, (path, file) in enumerate(json.loads(os.environ["BENCH_BARE_BODIES"]).items()):
        body = Path(file).read_bytes()
        app.add_url_rule(path, f"body{number}", lambda body=body: Response(body, mimetype="application/json"))
    return app


# ---------------------------------------------------------------- servers and load

def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port, path, headers=None, timeout=30):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def gunicorn(spec, env, probe="/healthz", prefix=(), workers=None):
    """Run `gunicorn spec` on a free loopback port; yields the port once `probe` answers. `prefix` goes
    before the command (e.g. taskset -c 0: the mixed load pins the app to cores of its own)."""
    port = _free_port()
    command = [*prefix, sys.executable, "-m", "gunicorn", "--workers", str(workers or GUNICORN_WORKERS),
               "--worker-class", "sync",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--worker-tmp-dir", "/dev/shm", spec]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"gunicorn {spec} exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                _get(port, probe, timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {spec} did not answer on port {port}") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        text = log.read().decode(errors="replace")
        log.close()
        errors = text.count("Traceback")
        if errors:
            last = text[text.rindex("Traceback"):]
            note(f"warning: gunicorn {spec} logged {errors} traceback(s), the last:\n{last[-3000:]}")


def _wrk_binary():
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk "
                           "(make bench does it via scripts/system-deps.sh --bench)")
    return path


def wrk(port, path, seconds, headers=None):
    """Requests/s of a wrk run (1 thread, WRK_CONNECTIONS connections). Fails on any non-2xx answer or socket error."""
    command = [_wrk_binary(), "-t", "1", "-c", str(WRK_CONNECTIONS), "-d", f"{max(1, round(seconds))}s",
               "--timeout", "30s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if bad or (errors and int(errors.group(1)) + int(errors.group(3)) + int(errors.group(4))):
        raise RuntimeError(f"wrk saw errors on {path}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def compare(app_port, bare_port, path, seconds, headers=None):
    """Alternate app and bare runs after a warm-up of each; (median ratio of the rounds' app/bare requests/s,
    median app requests/s, median bare requests/s). Each round's two runs are next to each other in time,
    so a burst of other work on the machine weighs on one round, not on one side."""
    import statistics
    wrk(app_port, path, 2, headers)   # warm-up: imports, pools, the cache
    wrk(bare_port, path, 2, headers)
    app_rps, bare_rps = [], []
    for _round in range(ROUNDS):
        app_rps.append(wrk(app_port, path, seconds, headers))
        bare_rps.append(wrk(bare_port, path, seconds, headers))
    note(f"  {path}: app {[round(x, 1) for x in app_rps]} rps, bare {[round(x, 1) for x in bare_rps]} rps")
    return (statistics.median(a / b for a, b in zip(app_rps, bare_rps, strict=True)), statistics.median(app_rps),
            statistics.median(bare_rps))


def app_environment(app):
    """REGISTRY_* variables for a production-like app bound to the benchmark's database and secrets."""
    config = app.config
    blind = config["BLIND_INDEX_KEY"]
    return {
        "REGISTRY_ENV": "production",
        "REGISTRY_DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REGISTRY_SECRET_KEY": config["SECRET_KEY"],
        "REGISTRY_DATA_KEYS": ",".join(f"{kid}:{key.hex()}" for kid, key in config["DATA_KEYS"]),
        "REGISTRY_PASS_SIGNING_KEYS": ",".join(f"{kid}:{seed.hex()}" for kid, seed in config["PASS_SIGNING_KEYS"]),
        "REGISTRY_BLIND_INDEX_KEY": blind.hex() if len(blind) == 32 else blind.decode(),
        "REGISTRY_CACHE_URL": os.environ.get("BENCH_CACHE_URL", BENCH_REDIS_URL),  # BENCH_CACHE_URL= : no cache
        "REGISTRY_RATELIMIT_STORAGE_URI": BENCH_REDIS_URL,
        "BENCH_FROZEN_AT": FROZEN_AT.isoformat(),
    }


def flush_bench_redis():
    import redis
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()


# ---------------------------------------------------------------- catalog_vs_bare

def _school_admin(db):
    """The school admin (and a stage of the school) with the most active entries of PUBLIC_CITY covering its
    county: the fullest catalog of the city."""
    from sqlalchemy import func, select

    from registry.auth.models import User
    from registry.projects.models import STAGE_BITS
    from registry.regions.models import Region
    from registry.schools.models import School
    from registry.whitelist.models import EntryCounty, EntryStatus, WhitelistEntry
    city_id = db.session.scalar(select(Region.id).where(Region.code == PUBLIC_CITY))
    counts = dict(db.session.execute(
        select(EntryCounty.county_id, func.count()).join(WhitelistEntry, WhitelistEntry.id == EntryCounty.entry_id)
        .where(WhitelistEntry.city_id == city_id, WhitelistEntry.status == EntryStatus.active)
        .group_by(EntryCounty.county_id)).all())
    admins = db.session.execute(select(User, School).join(School, School.id == User.school_id)
                                .where(School.city_id == city_id, User.disabled_at.is_(None))
                                .order_by(School.id)).all()
    if not admins:
        raise RuntimeError(f"no school admin in {PUBLIC_CITY}")
    user, school = max(admins, key=lambda pair: (counts.get(pair[1].county_id, 0), -pair[1].id))
    stage = next(s for s, bit in STAGE_BITS.items() if bit & school.stage_mask)
    return user, school, stage.value


@contextmanager
def bench_token(db, user):
    """A personal access token for `user` for the length of the run (inserted directly, without the
    audit row create_token writes, so the dataset's audit chain and row counts stay as generated)."""
    import secrets
    from datetime import timedelta

    from sqlalchemy import delete

    from registry.auth.models import ApiToken
    from registry.auth.services import TOKEN_PREFIX
    from registry.core import clock, crypto
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name="bench", prefix=plaintext[:10], token_hash=crypto.token_hash(plaintext),
                   expires_at=clock.utcnow() + timedelta(days=1))
    db.session.add(row)
    db.session.flush()
    token_id = row.id
    db.session.commit()
    db.session.remove()   # no transaction (and no SQLite read snapshot) stays open while the servers write
    try:
        yield plaintext
    finally:
        db.session.execute(delete(ApiToken).where(ApiToken.id == token_id))
        db.session.commit()
        db.session.remove()


def catalog_vs_bare(app, kind, seconds=20.0, scale=1.0, **_):
    from registry.extensions import db
    run_seconds = max(2.0, seconds / 5)
    public_path = f"/api/v1/whitelist?city={PUBLIC_CITY}&per_page={PER_PAGE}"
    flush_bench_redis()
    with app.app_context(), frozen_clock():
        user, school, stage = _school_admin(db)
        school_path = f"/api/v1/school/catalog?per_page={PER_PAGE}&stage={stage}"
        note(f"  school: {school.name} ({school.code}), user {user.username}")
        db.session.remove()
        with bench_token(db, user) as token, tempfile.TemporaryDirectory() as tmp, \
                gunicorn("bench.http:registry_app()", app_environment(app)) as app_port:
            headers = {"Authorization": f"Bearer {token}"}
            bodies = {}
            for name, path, extra in (("public", public_path, None), ("school", school_path, headers)):
                status, body = _get(app_port, path, extra)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
                data = json.loads(body)
                note(f"  {name}: {len(data['items'])} items of {data['total']}, {len(body)} bytes")
                file = Path(tmp) / f"{name}.json"
                file.write_bytes(body)
                bodies[path.split("?")[0]] = str(file)
            with gunicorn("bench.http:bare_app()", {"BENCH_BARE_BODIES": json.dumps(bodies)},
                          probe=public_path) as bare_port:
                for path in (public_path, school_path):
                    assert _get(bare_port, path)[1] == Path(bodies[path.split("?")[0]]).read_bytes()
                public = compare(app_port, bare_port, public_path, run_seconds)
                school_figures = compare(app_port, bare_port, school_path, run_seconds, headers)
            # A commit that touched one provider of the page (its staff's check, a document): the page's
            # generation and that provider's eligibility scope are new (issue 20). And the cold page: every
            # entry's eligibility too (a city's rules changed, a bulk statement, or the first request of a day).
            touched = {"eligibility": {json.loads(Path(bodies["/api/v1/school/catalog"]).read_bytes())
                                       ["items"][0]["provider"]["id"]}}
            misses = {"public": after_a_change(app_port, public_path, None, ("whitelist",), 10),
                      "school": after_a_change(app_port, school_path, headers, ("catalog",), 10, touched),
                      "school_cold": after_a_change(app_port, school_path, headers, ("catalog", "eligibility"), 5)}
    figures = []
    for name, (ratio, app_rps, bare_rps) in (("public", public), ("school", school_figures)):
        figures += [(f"catalog_vs_bare_{name}_{kind}", round(ratio, 3)),
                    (f"catalog_{name}_rps_{kind}", round(app_rps, 1)), (f"bare_{name}_rps_{kind}", round(bare_rps)),
                    (f"catalog_{name}_miss_ms_{kind}", misses[name])]
    return figures + [(f"catalog_school_cold_ms_{kind}", misses["school_cold"])]


def after_a_change(port, path, headers, generations, times, scopes=None):
    """Median milliseconds of `path` when the cache cannot answer: before each request the generations are
    bumped (and the `scopes` of scoped ones: {name: {scope}}), as a commit that writes one of their tables
    does."""
    import statistics

    from registry.core.cache import RedisCache
    cache = RedisCache(BENCH_REDIS_URL, "registry:")
    spent = []
    for _ in range(times):
        cache.bump(set(generations), scopes)
        started = time.perf_counter()
        status, body = _get(port, path, headers)
        spent.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
    return round(statistics.median(spent) * 1000, 1)


# ---------------------------------------------------------------- verify

async def _request(port, path, scheduled, results, timeout=10.0):
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        if isinstance(path, bytes):  # a whole request (the gate-scan benchmark's POSTs, bench/gate.py)
            writer.write(path)
        else:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = await asyncio.wait_for(reader.read(), timeout)  # until the server closes
        writer.close()
        status = int(data[9:12]) if data.startswith(b"HTTP/1.") else 0
    except (OSError, asyncio.TimeoutError):
        status = 0
    results.append((scheduled, loop.time(), status))


async def _open_loop(port, paths, rate, seconds):
    """Send request i at start + i/rate whatever the earlier ones are doing; [(scheduled, done, status)]."""
    loop = asyncio.get_running_loop()
    results, tasks = [], []
    start = loop.time() + 0.05
    for i in range(int(seconds * rate)):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_request(port, paths[i % len(paths)], scheduled, results)))
    await asyncio.gather(*tasks)
    return results


def fixed_rate(port, paths, rate, seconds, warmup=2.0):
    """After the warm-up: the latencies (seconds from the scheduled send, sorted), the requests that got no
    answer (timed out or refused: their latency, at least the timeout, stays in the list), and the rate of
    answered requests actually achieved. An answer other than 200 is an error of the benchmark itself."""
    results = asyncio.run(_open_loop(port, paths, rate, warmup + seconds))
    first = min(r[0] for r in results)
    measured = [r for r in results if r[0] >= first + warmup]
    wrong = [r for r in measured if r[2] not in (0, 200)]
    if wrong:
        raise RuntimeError(f"{len(wrong)} of {len(measured)} verify requests answered {wrong[0][2]}")
    answered = [r for r in measured if r[2] == 200]
    window = max(r[1] for r in measured) - min(r[0] for r in measured)
    return (sorted(done - scheduled for scheduled, done, _status in measured), len(measured) - len(answered),
            len(answered) / window)


def _percentile(sorted_values, q):
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def _cpu_times():
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)   # idle + iowait, all


def wait_until_quiet(idle=0.9, window=1.0, timeout=60.0):
    """Wait until the machine's CPUs were at least `idle` idle over a `window` (what ran before, e.g.
    PostgreSQL's autovacuum after the benchmark that wrote, would otherwise land in a latency tail).
    Returns the seconds waited; gives up after `timeout` with a note."""
    started = time.monotonic()
    while True:
        idle_before, total_before = _cpu_times()
        time.sleep(window)
        idle_after, total_after = _cpu_times()
        share = (idle_after - idle_before) / max(1, total_after - total_before)
        if share >= idle:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            note(f"  warning: the machine stayed busy ({share:.0%} idle) for {timeout:.0f} s; measuring anyway")
            return time.monotonic() - started


def verify_latency(app, kind, seconds=20.0, scale=1.0, **_):
    from sqlalchemy import select

    from registry.extensions import db
    from registry.whitelist.models import Certificate
    with app.app_context():
        tokens = db.session.scalars(select(Certificate.token).order_by(Certificate.id)).all()
        db.session.remove()
    if not tokens:
        raise RuntimeError("the dataset has no certificates")
    tokens = random.Random(6).sample(tokens, min(VERIFY_TOKENS, len(tokens)))
    paths = [f"/verify/{token}" for token in tokens]
    flush_bench_redis()
    with gunicorn("bench.http:registry_app()", app_environment(app)) as port:
        for path in paths[:20]:
            status, body = _get(port, path)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        waited = wait_until_quiet()
        latencies, unanswered, rate = fixed_rate(port, paths, VERIFY_RATE, max(5.0, 1.5 * seconds))
    note(f"  verify: {len(latencies)} requests over {len(tokens)} certificates, {unanswered} unanswered, "
         f"max {latencies[-1] * 1000:.1f} ms (started after {waited:.0f} s waiting for an idle machine)")
    return [(f"verify_p50_ms_{kind}", round(_percentile(latencies, 0.50) * 1000, 2)),
            (f"verify_p99_ms_{kind}", round(_percentile(latencies, 0.99) * 1000, 2)),
            (f"verify_rate_rps_{kind}", round(rate, 1)),
            (f"verify_unanswered_{kind}", unanswered)]

"""The mixed-load runner (issue 20): `python -m bench.load` or `python -m bench --only load`.

1. The PostgreSQL dataset is copied (CREATE DATABASE … TEMPLATE) into <dataset>_load, so the orders the
   load creates and accepts never change the dataset itself; the copy is dropped afterwards.
2. world.py writes what the users act as (tokens made directly in the copy, entries, orders).
3. The real app runs under gunicorn (production settings, Redis cache in database 12, flushed first, the
   clock frozen at AS_OF) pinned with taskset to the app's cores; Locust runs headless pinned to a core of
   its own (the last one). PostgreSQL and Redis are shared services and are not pinned: the split is
   reported (`load_cpu_split`).
4. Each scenario runs open loop (locustfile.py). Term start has no rate of its own: it is stepped up from
   START_RATE (x STEP) until a step fails (p99 > P99_TARGET_MS, an error, or a request unanswered), then
   once between the last good and the failed rate; `term_start_rps` is the highest rate held. Gate rush
   and survey evening run at the rate their adapters ask (300 scans/s, 200 submissions/s), after a probe
   of their endpoint: a 404 skips the scenario with a note.

The cache is empty when the scenario starts (the day's first requests): a first run at the start rate
measures that cold start apart (term_start_cold_*, no warm-up excluded). The steps follow on the cache as
that left it, each after a warm-up of WARMUP seconds; nothing keeps it warm: the orders, acceptances and
the providers' staff checks commit during the measured window as they come, and the checks miss the
catalog pages and their provider's entries.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.benchmarks import BUSY_AT, frozen_clock, note
from bench.http import PUBLIC_CITY, _get, app_environment, flush_bench_redis, gunicorn
from bench.load import adapters, world

ROOT = Path(__file__).resolve().parent.parent.parent
P99_TARGET_MS = 300
START_RATE = 8.0
STEP = 1.5
MIN_RATE = 2.0
MAX_STEPS = 8
WARMUP = 5.0
SURVEY_RATE_LIMIT = "1000000 per minute"
PROFILE_OUT = ROOT / "bench/data/load-profile.txt"
RUN_CPU = []   # per run: CPU milliseconds per request of the app's workers and of PostgreSQL
SCENARIO_CLASS = {"term_start": "TermStartUser", "gate_rush": "GateRushUser", "survey_evening": "SurveyEveningUser"}


def cpu_split():
    """(cores for the app, cores for the load generator, text): the generator on the last core, the app on
    the others; on one core both share it (said so)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return cores, cores, f"generator and app share core {cores[0]} (one core only)"
    app, gen = cores[:-1], cores[-1:]
    return app, gen, (f"gunicorn on core(s) {','.join(map(str, app))}, Locust on core {gen[0]}; "
                      "PostgreSQL and Redis not pinned (shared)")


def _taskset(cores):
    return ("taskset", "-c", ",".join(map(str, cores))) if len(os.sched_getaffinity(0)) > 1 else ()


# ---------------------------------------------------------------- the database copy

def _admin_conn(url):
    import psycopg
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    return psycopg.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 5432, user=parsed.username,
                           password=parsed.password, dbname="postgres", autocommit=True), parsed


def copy_database(url):
    """CREATE DATABASE <name>_load TEMPLATE <name>; the copy's URL."""
    conn, parsed = _admin_conn(url)
    copy = f"{parsed.database}_load"
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{parsed.database}"')
    return parsed.set(database=copy).render_as_string(hide_password=False)


def drop_database(url):
    conn, parsed = _admin_conn(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


# ---------------------------------------------------------------- CPU time spent (contention-proof cost)

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK   # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


class CpuMeter:
    """CPU seconds used by the gunicorn workers and by the PostgreSQL backends serving the copy database
    between start() and stop(): what a request costs each side whatever else the machine runs (waiting for
    a core is not counted), the basis of the capacity arithmetic in README.md."""

    def __init__(self, database_url):
        self.url = database_url

    def _pg_backends(self):
        conn, parsed = _admin_conn(self.url)
        with conn:
            return [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                                   (parsed.database,))]

    def _sample(self):
        master = _gunicorn_master()
        app = {pid: _cpu_seconds(pid) for pid in _children(master)}
        pg = {pid: _cpu_seconds(pid) for pid in self._pg_backends()}
        return app, pg

    def start(self):
        self.before = self._sample()

    def stop(self):
        after = self._sample()
        spent = []
        for side in (0, 1):
            spent.append(sum(max(0.0, value - self.before[side].get(pid, 0.0)) for pid, value in after[side].items()))
        return spent   # [app seconds, PostgreSQL seconds]


# ---------------------------------------------------------------- one Locust run

def run_locust(port, user_class, rate, seconds, world_file, cores, warmup=WARMUP, meter=None):
    """One open-loop run at `rate` requests/s: [(name, scheduled, latency s, status, ok)] of the measured
    window, and how many requests scheduled in the window got no answer before the run ended."""
    users = max(20, int(rate))   # one request a second per user
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl"
        t0 = time.time() + 4.0          # Locust's start and the users' spawn happen before T0
        end = t0 + warmup + seconds
        env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_LOAD_WORLD": str(world_file),
               "BENCH_LOAD_RATE": str(rate), "BENCH_LOAD_USERS": str(users), "BENCH_LOAD_T0": str(t0),
               "BENCH_LOAD_END": str(end), "BENCH_LOAD_OUT": str(out)}
        command = [*_taskset(cores), sys.executable, "-m", "locust", "-f", str(ROOT / "bench/load/locustfile.py"),
                   "--headless", "-u", str(users), "-r", str(users), "--run-time", f"{int(end - time.time() + 12)}s",
                   "--stop-timeout", "10", "--host", f"http://127.0.0.1:{port}", "--only-summary",
                   "--loglevel", "ERROR", "--csv", str(Path(tmp) / "locust"), user_class]
        if meter is not None:
            meter.start()
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        cpu = meter.stop() if meter is not None else None
        if not out.exists():
            raise RuntimeError(f"locust wrote no results (exit {proc.returncode}): {proc.stderr[-2000:]}")
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    _consume_pool(world_file, sum(1 for r in rows if r[0] == "order accept"))
    measured = [r for r in rows if t0 + warmup <= r[1] < end]
    expected = int(seconds * rate)
    if cpu is not None and rows:   # the whole run, warm-up included: every request's cost
        RUN_CPU.append({"app_ms": round(1000 * cpu[0] / len(rows), 2), "pg_ms": round(1000 * cpu[1] / len(rows), 2)})
    return measured, max(0, expected - len(measured))


def _consume_pool(world_file, accepted):
    """The next run accepts other orders: the first `accepted` of the pool were taken (in order) by this one."""
    data = json.loads(Path(world_file).read_text())
    if accepted and data.get("accept_pool"):
        data["accept_pool"] = data["accept_pool"][accepted:]
        Path(world_file).write_text(json.dumps(data))


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))] if values else float("nan")


def summarize(measured, unanswered, seconds):
    """{name or "all": {count, rps, p50_ms, p95_ms, p99_ms, errors}}; unanswered requests count as errors."""
    by_name = {}
    for row in measured:
        by_name.setdefault(row[0], []).append(row)
    by_name["all"] = measured
    summary = {}
    for name, rows in by_name.items():
        latencies = [r[2] * 1000 for r in rows]
        errors = sum(1 for r in rows if not r[4]) + (unanswered if name == "all" else 0)
        summary[name] = {"count": len(rows), "rps": round(sum(1 for r in rows if r[4]) / seconds, 1),
                         "p50_ms": round(_pct(latencies, 0.50), 1), "p95_ms": round(_pct(latencies, 0.95), 1),
                         "p99_ms": round(_pct(latencies, 0.99), 1), "errors": errors}
    return summary


def _errors_seen(measured, limit=3):
    return [f"{r[0]} {r[3]}" for r in measured if not r[4]][:limit]


def _line(rate, summary):
    parts = [f"{name} {s['count']} req p50 {s['p50_ms']} p95 {s['p95_ms']} p99 {s['p99_ms']} ms err {s['errors']}"
             + (f" cpu app {s['app_cpu_ms']} pg {s['pg_cpu_ms']} ms/req" if "app_cpu_ms" in s else "")
             for name, s in sorted(summary.items())]
    return f"  rate {rate:.0f}/s: " + "; ".join(parts)


def held(summary):
    return summary["all"]["errors"] == 0 and summary["all"]["p99_ms"] <= P99_TARGET_MS


def _with_cpu(summary):
    if RUN_CPU:
        summary["all"].update({"app_cpu_ms": RUN_CPU[-1]["app_ms"], "pg_cpu_ms": RUN_CPU[-1]["pg_ms"]})
    return summary


def term_start(port, world_file, cores, seconds, start_rate=START_RATE, meter=None):
    """Step the rate up from `start_rate` (x STEP) while it holds, or down (/ STEP) while it does not,
    then once between the last rate held and the first one not held; (highest rate held and its summary,
    or None, [(rate, summary)] of every step)."""
    steps, best, failed_at = [], None, None
    rate = start_rate
    for _ in range(MAX_STEPS):
        measured, unanswered = run_locust(port, "TermStartUser", rate, seconds, world_file, cores, meter=meter)
        summary = _with_cpu(summarize(measured, unanswered, seconds))
        steps.append((rate, summary))
        note(_line(rate, summary) + ("" if held(summary) else f"  NOT HELD {_errors_seen(measured)}"))
        if held(summary):
            best = (rate, summary)
            if failed_at is not None:
                break
            rate = round(rate * STEP)
        else:
            failed_at = rate if failed_at is None else min(failed_at, rate)
            if best is None:
                if rate <= MIN_RATE:
                    break
                rate = max(MIN_RATE, round(rate / STEP))
                continue
            between = round((best[0] + failed_at) / 2)
            if between in {r for r, _s in steps} or failed_at - best[0] < 0.15 * failed_at:
                break
            rate = between
    return best, steps


def _gunicorn_master():
    """The pid of the gunicorn this process started (its child whose command line names gunicorn)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == os.getpid() and b"gunicorn" in cmdline:
                return int(entry.name)
    raise RuntimeError("no gunicorn child found")


def profile(port, world_file, cores, rate, seconds, out):
    """py-spy (sampling every gunicorn worker, --subprocesses) during one term-start run at `rate`; the
    collapsed stacks go to `out`, and the functions with the most samples (own and with callees) to stderr."""
    import shutil
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    duration = int(WARMUP + seconds + 4)
    recorder = subprocess.Popen([spy, "record", "--pid", str(_gunicorn_master()), "--subprocesses", "--format", "raw",
                                 "--duration", str(duration), "--rate", "200", "--output", str(out), "--nonblocking"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    measured, unanswered = run_locust(port, "TermStartUser", rate, seconds, world_file, cores)
    recorder.wait(timeout=duration + 60)
    note(_line(rate, summarize(measured, unanswered, seconds)))
    own, total, samples = {}, {}, 0
    for line in Path(out).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        count = int(count)
        samples += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + count
    note(f"  py-spy: {samples} samples; most own time:")
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:25]:
        note(f"    {100 * count / samples:5.1f}%  {frame}")
    note("  with callees (registry code):")
    for frame, count in sorted(((f, c) for f, c in total.items() if "registry/" in f), key=lambda kv: -kv[1])[:30]:
        note(f"    {100 * count / samples:5.1f}%  {frame}")


def fixed(port, name, world_file, cores, seconds, meter=None, rate=None):
    """One run of a fixed-rate scenario at the rate its adapter asks (or `rate`: --rate, for measuring the CPU
    per request where the app keeps up; the figure's rate is said in <name>_rate_asked)."""
    rate = rate or adapters.SCENARIOS[name][1]
    measured, unanswered = run_locust(port, SCENARIO_CLASS[name], rate, seconds, world_file, cores, meter=meter)
    summary = _with_cpu(summarize(measured, unanswered, seconds))
    note(_line(rate, summary))
    return rate, summary


def _figures(prefix, kind, summary):
    figures = []
    for name, s in sorted(summary.items()):
        label = "" if name == "all" else "_" + name.replace(" ", "_")
        figures += [(f"{prefix}{label}_ok_rps_{kind}", s["rps"]), (f"{prefix}{label}_p50_ms_{kind}", s["p50_ms"]),
                    (f"{prefix}{label}_p95_ms_{kind}", s["p95_ms"]), (f"{prefix}{label}_p99_ms_{kind}", s["p99_ms"]),
                    (f"{prefix}{label}_errors_{kind}", s["errors"])]
        if "app_cpu_ms" in s:
            figures += [(f"{prefix}_app_cpu_ms_per_request_{kind}", s["app_cpu_ms"]),
                        (f"{prefix}_pg_cpu_ms_per_request_{kind}", s["pg_cpu_ms"])]
    return figures


def load(app, kind, seconds=20.0, scale=1.0, scenarios=None, start_rate=None, profile_rate=None, rate=None, **_):
    """BENCHMARKS["load"]: the mixed load on PostgreSQL (the SQLite dataset is skipped: production runs
    PostgreSQL, and SQLite serialises the writers)."""
    from bench.dataset import make_app
    from registry.extensions import db
    if kind != "postgres":
        note("  load: PostgreSQL only, skipped on " + kind)
        return []
    scenarios = scenarios or list(adapters.SCENARIOS)
    seconds = max(8.0, seconds)
    with app.app_context():
        from registry.core.reads import reads_engine
        for engine in (db.engine, reads_engine(app)):   # a template database must have no connection
            if engine is not None:
                engine.dispose()
        url = app.config["SQLALCHEMY_DATABASE_URI"]
    copy_url = copy_database(url)
    app_cores, gen_cores, split = cpu_split()
    note(f"  load: {split}; dataset copied to {copy_url.rsplit('/', 1)[-1]}")
    figures = [("load_cpu_split", split)]
    try:
        copy_app = make_app(copy_url)
        with tempfile.TemporaryDirectory() as tmp, copy_app.app_context(), frozen_clock():
            worlds = {"term_start": world.term_start_world(db, PUBLIC_CITY), "gate_rush": {}, "survey_evening": {}}
            if "gate_rush" in scenarios:
                worlds["gate_rush"] = world.gate_world(db)
                note(f"  gate rush: {len(worlds['gate_rush']['gates'])} gates, "
                     f"{sum(len(g['passes']) for g in worlds['gate_rush']['gates'])} passes")
            if "survey_evening" in scenarios:   # fresh codes: the page loads take about half the run's requests
                needed = int(0.6 * max(rate or 0, adapters.SCENARIOS["survey_evening"][1]) * (WARMUP + seconds)) + 1000
                worlds["survey_evening"] = world.survey_world(db, needed)
                note(f"  survey evening: {len(worlds['survey_evening']['survey_codes'])} fresh codes issued")
            db.session.remove()
            db.engine.dispose()
            ts = worlds["term_start"]
            note(f"  term start: {len(ts['schools'])} schools ({sum(1 for s in ts['schools'] if s['orderable'])} "
                 f"ordering), {len(ts['providers'])} providers, {len(ts['accept_pool'])} requested orders")
            flush_bench_redis()
            # All the parents come from 127.0.0.1 here: the survey's per-address limit (30/min) is raised for
            # the run, as bench/quality.py does; the limiter's check itself still runs against Redis.
            env = {**app_environment(copy_app), "REGISTRY_SURVEY_RATE_LIMIT": SURVEY_RATE_LIMIT,
                   "BENCH_FROZEN_AT": BUSY_AT.isoformat()}   # 15:30 CST: scans fall in their passes' hours
            meter = CpuMeter(copy_url)
            with gunicorn("bench.http:registry_app()", env, prefix=_taskset(app_cores)) as port:
                for name in scenarios:
                    probe, _rate = adapters.SCENARIOS[name]
                    if probe is not None:
                        if "{code}" in probe:
                            if not worlds[name].get("survey_codes"):
                                note(f"  {name}: skipped, no survey code could be issued")
                                figures.append((f"{name}_skipped_{kind}", "no survey code issued"))
                                continue
                            probe = probe.format(code=worlds[name]["survey_codes"][-1])   # a page load only
                        status, _body = _get(port, probe)
                        if status == 404:
                            note(f"  {name}: skipped, {probe} answered 404 (the endpoint has not landed)")
                            figures.append((f"{name}_skipped_{kind}", f"{probe} answered 404"))
                            continue
                    world_file = Path(tmp) / f"{name}.json"
                    world_file.write_text(json.dumps({**worlds["term_start"], **worlds[name]}))
                    if name == "term_start" and profile_rate:
                        profile(port, world_file, gen_cores, profile_rate, seconds, PROFILE_OUT)
                    elif name == "term_start":
                        # The day's first requests, on the empty cache: reported apart (term_start_cold_*).
                        rate = start_rate or START_RATE
                        measured, unanswered = run_locust(port, "TermStartUser", rate, seconds, world_file,
                                                          gen_cores, warmup=0.0, meter=meter)
                        cold = _with_cpu(summarize(measured, unanswered, seconds))
                        note("  cold start:" + _line(rate, cold)[1:])
                        figures += [(f"term_start_cold_rate_{kind}", rate)] + _figures("term_start_cold", kind, cold)
                        best, steps = term_start(port, world_file, gen_cores, seconds, start_rate or START_RATE,
                                                 meter)
                        figures.append((f"term_start_steps_{kind}", " ".join(
                            f"{r:.0f}:{s['all']['p99_ms']}{'' if held(s) else '!'}" for r, s in steps)))
                        if best is None:
                            figures.append((f"term_start_rps_{kind}", 0))
                            figures += _figures("term_start", kind, steps[0][1])
                        else:
                            figures.append((f"term_start_rps_{kind}", best[0]))
                            figures += _figures("term_start", kind, best[1])
                    else:
                        asked, summary = fixed(port, name, world_file, gen_cores, seconds, meter, rate)
                        figures.append((f"{name}_rate_asked_{kind}", asked))
                        figures += _figures(name, kind, summary)
                        if name == "survey_evening" and "survey submit" in summary:
                            figures.append((f"survey_submit_p99_ms_{kind}", summary["survey submit"]["p99_ms"]))
    finally:
        drop_database(copy_url)
    return figures


def main(argv=None):
    from bench.dataset import ensure, targets
    parser = argparse.ArgumentParser(prog="python -m bench.load", description="The mixed load (issue 20).")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scenario", action="append", choices=list(adapters.SCENARIOS))
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds of each step")
    parser.add_argument("--start-rate", type=float, default=None, help=f"term start's first step ({START_RATE}/s)")
    parser.add_argument("--rate", type=float, default=None,
                        help="gate rush / survey evening at this rate instead of the asked one (CPU per request)")
    parser.add_argument("--profile", type=float, default=None, metavar="RATE",
                        help=f"instead of the rate steps: one term-start run at RATE under py-spy ({PROFILE_OUT})")
    args = parser.parse_args(argv)
    for target in targets(args.scale, "postgres", log=note):
        app, _seconds = ensure(target, args.scale, log=lambda line, *_: None)
        for figure, value in load(app, "postgres", args.seconds, args.scale, args.scenario, args.start_rate,
                                  profile_rate=args.profile, rate=args.rate):
            print(f"{figure}: {value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

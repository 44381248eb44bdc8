"""`python -m bench [--scale S] [--only NAME ...] [--regenerate]` (what `make bench` runs).

Builds the dataset on SQLite (bench/data/registry-bench.db) and on PostgreSQL (database
registry_bench on 127.0.0.1, or $BENCH_POSTGRES_URL; skipped with a note when no server answers),
or reuses it when bench/data/<name>.json says it matches this generator, scale and schema. Then runs
the benchmarks on each database and prints one `name: value` line per figure on stdout; notes go to
stderr. Other scales than 1.0 get their own SQLite file and PostgreSQL database.

Figures: see bench/README.md.
"""
import argparse
import sys
import time

from bench import benchmarks
from bench.benchmarks import note
from bench.dataset import count_rows, ensure, targets

ROW_TABLES = ("region", "provider", "person", "person_check", "provider_document", "project", "school",
              "service_order", "audit_log", "whitelist_entry", "application", "user", "stored_file", "status_change",
              "entry_pass", "gate_scan")


def _pages_equal(values):
    equal = sum(int(v.split("/")[0]) for v in values)
    measured = sum(int(v.split("/")[1].split()[0]) for v in values)
    return f"{equal}/{measured} pages equal"


# name -> how the per-database figures combine into the headline figure (the worse one)
AGGREGATES = (
    ("orm_vs_raw", max),
    ("statements_per_page", _pages_equal),
    ("sweep_statements", max),
    ("sweep_vs_per_row", min),
    ("catalog_vs_bare_public", min),
    ("catalog_vs_bare_school", min),
    ("verify_p50_ms", max),
    ("verify_p99_ms", max),
    # issue 18: supervision
    ("dashboard_province_ms", max),
    ("dashboard_county_ms", max),
    ("dashboard_statements", max),
    ("monthly_report_seconds", max),
    ("survey_submit_rps", min),           # issue 16
    ("standing_sweep_statements", max),   # issue 16
    ("schedule_validate_ms", max),  # issue 15
    ("schedule_public_page_statements", max),
    ("gate_scan_p50_ms", max),  # issue 14: passes
    ("gate_scan_p99_ms", max),
    ("gate_scan_statements", max),
)


def emit(name, value):
    print(f"{name}: {value}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description="Provincial-scale benchmarks (issue 6).")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = the issue's Jiangxi size (default)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only these benchmarks ({', '.join(benchmarks.BENCHMARKS)}; "
                             "'none' just builds the data); repeatable")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--regenerate", action="store_true", help="build the data even if it could be reused")
    parser.add_argument("--seconds", type=float, default=None,
                        help="time budget of each timing loop (default 20 s at full scale, less when smaller)")
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = min(20.0, max(1.0, 20.0 * args.scale))
    unknown = set(args.only) - set(benchmarks.BENCHMARKS) - {"none"}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    selected = [name for name in benchmarks.BENCHMARKS if not args.only or name in args.only]

    started = time.perf_counter()
    apps = []
    for target in targets(args.scale, args.db, log=note):
        app, seconds = ensure(target, args.scale, force=args.regenerate,
                              log=lambda line, *_: None if line.startswith("  ") else note(line))
        if seconds is not None:
            emit(f"generate_seconds_{target.kind}", round(seconds, 1))
        apps.append((target, app))

    from registry.extensions import db
    rows = {}
    for target, app in apps:
        with app.app_context():
            rows[target.kind] = count_rows(db.engine, db.metadata)
    if rows:
        first = next(iter(rows.values()))
        for table in ROW_TABLES:
            emit(f"rows_{table}", first[table])
        if len({tuple(sorted(r.items())) for r in rows.values()}) > 1:
            note("warning: the databases hold different row counts: " + str(rows))

    figures, failed = {}, []
    for name in selected:
        for target, app in apps:
            options = {"seconds": args.seconds, "scale": args.scale}
            try:
                results = benchmarks.BENCHMARKS[name](app, target.kind, **options)
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                first_line = (str(exc).strip().splitlines() or [""])[0][:300]
                note(f"{name} on {target.kind} FAILED: {type(exc).__name__}: {first_line}")
                emit(f"{name}_error_{target.kind}", type(exc).__name__)
                failed.append(f"{name}/{target.kind}")
                continue
            for figure, value in results:
                figures[figure] = value
                emit(figure, value)
    # Figures over both databases: the worse of the two.
    for name, combine in AGGREGATES:
        values = [figures[f"{name}_{kind}"] for kind in ("sqlite", "postgres") if f"{name}_{kind}" in figures]
        if values:
            emit(name, combine(values))
    note(f"bench finished in {time.perf_counter() - started:.0f}s")
    for _target, app in apps:
        with app.app_context():
            db.engine.dispose()
    if failed:
        note(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build a benchmark dataset, or reuse the one already there.

    python -m bench.dataset [--scale S] [--db sqlite|postgres|both] [--force]

A marker file bench/data/<name>.<db>.json (git-ignored, like the SQLite files) records what was
built: a fingerprint of the scale, the seed, the generator's code (generate.py, words.py, loader.py)
and the schema (tables, columns, constraints, unique indexes), plus the row counts and how long it
took. A dataset is reused when the fingerprint matches, a few row counts agree with the database,
and the first person's ID number still decrypts under the app's keys and matches its blind index
(a new instance/data-key would otherwise make every person look uncleared).

Plain indexes are not in the fingerprint: on reuse, bench.loader.sync_indexes creates the ones
the models gained and drops those they lost, so an index added in the code shows up in the next
`make bench` without building the data again.
"""
import argparse
import hashlib
import json
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.generate import AS_OF, GENERATOR_VERSION, NOW, SEED, World
from bench.loader import make_sink, postgres_available, postgres_target, reset_database, schema_signature, sqlite_target

HERE = Path(__file__).resolve().parent
CODE_FILES = ("generate.py", "words.py", "loader.py")


def make_app(url):
    from registry import create_app
    from registry.core.db import long_running
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    long_running(app)  # bulk loads and index builds: the CLI's statement timeout, not a web request's
    return app


def fingerprint(scale, metadata):
    code = hashlib.sha256(b"".join((HERE / name).read_bytes() for name in CODE_FILES)).hexdigest()
    blob = f"{GENERATOR_VERSION}|{SEED}|{scale!r}|{AS_OF}|{code}|{schema_signature(metadata)}"
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def count_rows(engine, metadata):
    from sqlalchemy import func, select
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in metadata.sorted_tables}


def read_marker(target):
    try:
        return json.loads(target.marker.read_text())
    except (OSError, ValueError):
        return None


def dataset_ok(target, scale):
    """(True, "reused") or (False, why). Needs the target's app context."""
    from sqlalchemy import select

    from registry.core import crypto
    from registry.extensions import db
    from registry.people.models import Person
    marker = read_marker(target)
    if not marker:
        return False, "no marker"
    if marker.get("fingerprint") != fingerprint(scale, db.metadata):
        return False, "the generator, the scale or the schema changed"
    try:
        # Not audit_log: logging a user in for a benchmark appends to the chain without changing the data.
        counts = {name: marker["counts"][name] for name in ("provider", "person", "service_order")}
        actual = {k: v for k, v in count_rows(db.engine, db.metadata).items() if k in counts}
        person = db.session.scalar(select(Person).order_by(Person.id).limit(1))
    except Exception as exc:  # missing tables or database
        return False, f"cannot read the database ({type(exc).__name__})"
    finally:
        db.session.remove()
    if actual != counts:
        return False, f"row counts differ from the marker: {actual} != {counts}"
    if person is not None:
        try:
            number = crypto.decrypt(person.id_enc, "person.id_number")
        except crypto.DecryptionError:
            return False, "the data key changed"
        if crypto.blind_index(number, "person-id") != person.id_bidx:
            return False, "the blind-index key changed"
    return True, "reused"


def build(target, scale, app, log=print):
    """Build the dataset in `target` from nothing with `app` (bound to target.url).
    Returns (seconds, row counts) and writes the marker."""
    from registry.extensions import db
    started = time.perf_counter()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()   # the database is dropped and created again
        target.marker.unlink(missing_ok=True)   # an interrupted build must not look complete
        reset_database(target)
        db.create_all()
        sink = make_sink(db.engine, db.metadata, NOW)
        sink.drop_plain_indexes()
        World(app, sink, scale, log=log).build()
        step = time.perf_counter()
        sink.create_plain_indexes()
        log(f"indexes: {time.perf_counter() - step:.1f}s")
        step = time.perf_counter()
        sink.finish()
        log(f"finish: {time.perf_counter() - step:.1f}s")
        counts = count_rows(db.engine, db.metadata)
        seconds = time.perf_counter() - started
        target.marker.parent.mkdir(parents=True, exist_ok=True)
        target.marker.write_text(json.dumps({
            "fingerprint": fingerprint(scale, db.metadata), "scale": scale, "seed": SEED, "as_of": AS_OF.isoformat(),
            "generator_version": GENERATOR_VERSION, "generate_seconds": round(seconds, 1),
            "generated_at": datetime.now().isoformat(timespec="seconds"), "url": target.url, "counts": counts},
            indent=1))
    return seconds, counts


def ensure(target, scale, force=False, log=print):
    """Reuse or build. Returns (app, seconds it took to build, or None when reused)."""
    from bench.loader import sync_indexes
    from registry.extensions import db
    app = make_app(target.url)
    if not force:
        with app.app_context():
            ok, why = dataset_ok(target, scale)
            if ok:
                for line in sync_indexes(db.engine, db.metadata):
                    log(f"{target.kind}: {line}")
                log(f"{target.kind}: reusing the dataset in {target.url}")
                return app, None
        log(f"{target.kind}: building the dataset at scale {scale} ({why}) ...")
    else:
        log(f"{target.kind}: building the dataset at scale {scale} ...")
    seconds, _counts = build(target, scale, app, log=log)
    return app, seconds


def targets(scale, which="both", log=print):
    chosen = []
    if which in ("sqlite", "both"):
        chosen.append(sqlite_target(scale))
    if which in ("postgres", "both"):
        target = postgres_target(scale)
        problem = postgres_available(target.url)
        if problem:
            log(f"PostgreSQL skipped: {problem}")
        else:
            chosen.append(target)
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description="Build or reuse the bench dataset.")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--force", action="store_true", help="build even if the dataset could be reused")
    parser.add_argument("--verbose", action="store_true", help="also time every table")
    args = parser.parse_args(argv)
    note = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    for target in targets(args.scale, args.db, log=note):
        app, seconds = ensure(target, args.scale, args.force, log=note if args.verbose else (
            lambda line, *_: None if line.startswith("  ") else note(line)))
        if seconds is not None:
            print(f"generate_seconds_{target.kind}: {seconds:.1f}", flush=True)
        from registry.extensions import db
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()

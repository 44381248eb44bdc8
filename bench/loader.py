"""Where the benchmark databases live, and fast bulk loading into them.

Rows are plain dicts keyed by column name. Both sinks fill the columns a row leaves out from the
column's scalar default (or None), so a row that misses a NOT NULL column without default fails
loudly here rather than as a constraint error deep inside a driver.

- SQLite: the DBAPI cursor's executemany on tuples, with SQLAlchemy's own bind processors applied
  (dates and datetimes as SQLAlchemy stores them, Numeric as float, JSON serialised), foreign keys ON.
- PostgreSQL: COPY FROM STDIN through psycopg, with `session_replication_role = replica` during the
  load (no foreign-key triggers: the same deterministic rows load into SQLite with foreign keys on,
  which checks them), then sequences set past the largest id and VACUUM ANALYZE.
"""
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import JSON, Enum, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, DropIndex

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/registry_bench"
CHUNK = 10_000


@dataclass
class Target:
    kind: str          # "sqlite" | "postgres"
    url: str
    marker: Path       # bench/data/<name>.json, records what was generated

    @property
    def label(self):
        return self.kind


def _suffix(scale):
    return "" if scale == 1.0 else "-s" + f"{scale:g}".replace(".", "_")


def sqlite_target(scale):
    """bench/data/registry-bench.db at full scale; other scales get their own file so a quick
    `--scale 0.01` run never throws away the full dataset."""
    name = "registry-bench" + _suffix(scale)
    return Target("sqlite", f"sqlite:///{DATA_DIR / (name + '.db')}", DATA_DIR / f"{name}.sqlite.json")


def postgres_target(scale):
    base = make_url(os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = base.database + _suffix(scale).replace("-", "_")
    url = base.set(database=name).render_as_string(hide_password=False)
    return Target("postgres", url, DATA_DIR / f"{name}.postgres.json")


def postgres_available(url, timeout=3):
    """Create the database when a server answers. Returns None when ready, else the reason."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=timeout) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone():
                conn.execute(f'CREATE DATABASE "{parsed.database}"')
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server at {parsed.host}:{parsed.port or 5432} ({str(exc).strip().splitlines()[0]})"
    return None


def reset_database(target):
    """Start from nothing: delete the SQLite file, or drop and recreate the PostgreSQL database."""
    if target.kind == "sqlite":
        path = Path(make_url(target.url).database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg
    parsed = make_url(target.url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def _column_defaults(table, now):
    """Value for a column a row leaves out: its scalar default, `now` for callable defaults, else None."""
    defaults = {}
    for column in table.columns:
        default = column.default
        if default is None:
            value = None
        elif getattr(default, "is_callable", False):
            value = {} if default.arg.__name__ == "dict" else now
        else:
            value = default.arg
        defaults[column.key] = value
    return defaults


class Sink:
    """Collects nothing: every insert goes to the database at once, in chunks."""

    def __init__(self, engine, metadata, now):
        self.engine = engine
        self.metadata = metadata
        self.now = now
        self.counts = {}
        self._plans = {}

    def _plan(self, name):
        plan = self._plans.get(name)
        if plan is None:
            table = self.metadata.tables[name]
            columns = list(table.columns)
            plan = (table, [c.key for c in columns], _column_defaults(table, self.now), columns)
            self._plans[name] = plan
        return plan

    def insert(self, name, rows):
        table, keys, defaults, columns = self._plan(name)
        buffer = []
        count = 0
        for row in rows:
            if len(row) != len(keys):
                unknown = set(row) - set(keys)
                if unknown:
                    raise KeyError(f"{name}: unknown columns {sorted(unknown)}")
                row = {**defaults, **row}
                missing = [c.key for c in columns if row[c.key] is None and not c.nullable
                           and not (c.primary_key and c.autoincrement is not False)]
                if missing:
                    raise ValueError(f"{name}: no value for NOT NULL {missing}")
            buffer.append(row)
            if len(buffer) >= CHUNK:
                self._write(table, keys, buffer)
                count += len(buffer)
                buffer = []
        if buffer:
            self._write(table, keys, buffer)
            count += len(buffer)
        self.counts[name] = self.counts.get(name, 0) + count
        return count

    # Plain (non-unique) indexes are built after the load: much faster than keeping them up to date
    # row by row. Unique indexes stay, so duplicates still fail at once.
    def _plain_indexes(self):
        return [ix for table in self.metadata.sorted_tables for ix in table.indexes if not ix.unique]

    def drop_plain_indexes(self):
        self.ddl([str(DropIndex(ix).compile(dialect=self.engine.dialect)) for ix in self._plain_indexes()])

    def create_plain_indexes(self):
        self.ddl([str(CreateIndex(ix).compile(dialect=self.engine.dialect)) for ix in self._plain_indexes()])


class SqliteSink(Sink):
    def __init__(self, engine, metadata, now):
        super().__init__(engine, metadata, now)
        self.raw = engine.raw_connection()
        dbapi = self.raw.driver_connection
        dbapi.isolation_level = None
        cursor = dbapi.cursor()
        for pragma in ("PRAGMA foreign_keys=ON", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-200000",
                       "PRAGMA temp_store=MEMORY"):
            cursor.execute(pragma)
        cursor.execute("BEGIN")
        self.cursor = cursor
        self.dialect = engine.dialect
        self._processors = {}
        self._sql = {}

    def _write(self, table, keys, rows):
        name = table.name
        if name not in self._sql:
            procs = [c.type.dialect_impl(self.dialect).bind_processor(self.dialect) for c in table.columns]
            self._processors[name] = [(i, p) for i, p in enumerate(procs) if p is not None]
            cols = ", ".join(f'"{k}"' for k in keys)
            self._sql[name] = f'INSERT INTO "{name}" ({cols}) VALUES ({", ".join("?" * len(keys))})'
        processors = self._processors[name]
        data = []
        for row in rows:
            values = [row[k] for k in keys]
            for i, proc in processors:
                if values[i] is not None:
                    values[i] = proc(values[i])
            data.append(values)
        self.cursor.executemany(self._sql[name], data)

    def commit(self):
        self.cursor.execute("COMMIT")
        self.cursor.execute("BEGIN")

    def ddl(self, statements):
        for statement in statements:
            self.cursor.execute(statement)
        self.commit()

    def finish(self):
        self.cursor.execute("COMMIT")   # foreign keys were checked row by row (PRAGMA foreign_keys=ON)
        self.cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.cursor.close()
        self.raw.close()


class PostgresSink(Sink):
    def __init__(self, engine, metadata, now):
        super().__init__(engine, metadata, now)
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        with self.conn.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
            try:
                cur.execute("SET session_replication_role = replica")
                self.replica = True
            except Exception:  # not a superuser: load with the foreign-key triggers on
                self.conn.rollback()
                self.replica = False
        self._convert = {}

    def _write(self, table, keys, rows):
        name = table.name
        if name not in self._convert:
            conv = []
            for i, column in enumerate(table.columns):
                if isinstance(column.type, JSON):
                    conv.append((i, lambda v: json.dumps(v, ensure_ascii=False)))
                elif isinstance(column.type, Enum):
                    conv.append((i, lambda v: v.value if hasattr(v, "value") else v))
            self._convert[name] = conv
        conv = self._convert[name]
        cols = ", ".join(f'"{k}"' for k in keys)
        with self.conn.cursor() as cur:
            with cur.copy(f'COPY "{name}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    values = [row[k] for k in keys]
                    for i, fn in conv:
                        if values[i] is not None:
                            values[i] = fn(values[i])
                    copy.write_row(values)

    def commit(self):
        self.conn.commit()

    def ddl(self, statements):
        with self.conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
        self.conn.commit()

    def finish(self):
        with self.conn.cursor() as cur:
            if self.replica:
                cur.execute("SET session_replication_role = DEFAULT")
            # Ids were assigned here, not by the sequences: move every sequence past its table's largest id.
            for table in self.metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
                    cur.execute(f"""SELECT setval(pg_get_serial_sequence('"{table.name}"', '{pk[0].name}'),
                                    COALESCE((SELECT MAX("{pk[0].name}") FROM "{table.name}"), 0) + 1, false)""")
        self.conn.commit()
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
        self.conn.autocommit = False
        self.raw.close()


def make_sink(engine, metadata, now):
    return (PostgresSink if engine.dialect.name == "postgresql" else SqliteSink)(engine, metadata, now)


# ---------------------------------------------------------------- schema fingerprint and index sync

def schema_signature(metadata):
    """Tables, columns and constraints (not plain indexes: those are synced on reuse, see sync_indexes)."""
    parts = []
    for table in sorted(metadata.sorted_tables, key=lambda t: t.name):
        parts.append(f"T {table.name}")
        for c in table.columns:
            parts.append(f"  C {c.name} {c.type!r} null={c.nullable} pk={c.primary_key}")
        for con in sorted(table.constraints, key=lambda k: str(k.name)):
            cols = ",".join(sorted(getattr(con, "columns", {}).keys())) if hasattr(con, "columns") else ""
            sqltext = str(getattr(con, "sqltext", ""))
            parts.append(f"  K {type(con).__name__} {con.name} {cols} {sqltext}")
        for ix in sorted(table.indexes, key=lambda i: str(i.name)):
            if ix.unique:  # a unique index is a constraint on the data
                parts.append(f"  U {ix.name} {','.join(c.name for c in ix.columns)}")
    return "\n".join(parts)


def sync_indexes(engine, metadata):
    """Bring an existing dataset's plain indexes in line with the models (create missing, drop removed),
    so adding an index in the code shows in the next `make bench` without regenerating. Returns notes."""
    notes = []
    with engine.begin() as conn:
        # Inspect on the same connection: on SQLite, writers start with BEGIN IMMEDIATE (registry.core.db), so an
        # inspector on a second connection would wait for this one's write lock.
        insp = inspect(conn)
        for table in metadata.sorted_tables:
            wanted = {ix.name: ix for ix in table.indexes if not ix.unique}
            present = {ix["name"] for ix in insp.get_indexes(table.name) if not ix.get("unique")}
            for name, ix in wanted.items():
                if name not in present:
                    ix.create(conn)
                    notes.append(f"created index {name}")
            for name in sorted(present - set(wanted)):
                if name.startswith("ix_"):
                    conn.execute(text(f'DROP INDEX "{name}"'))
                    notes.append(f"dropped index {name}")
        if notes and engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    return notes

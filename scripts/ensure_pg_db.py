"""Create the PostgreSQL test database if a server answers. Exit 0: ready; exit 3: no server."""
import sys

from sqlalchemy.engine import make_url

url = make_url(sys.argv[1])
try:
    import psycopg
except ImportError:
    sys.exit(3)
admin = url.set(drivername="postgresql", database="postgres")
conninfo = admin.render_as_string(hide_password=False).replace("postgresql://", "postgresql://", 1)
try:
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{url.database}"')
            print(f"created database {url.database}")
except psycopg.OperationalError as exc:
    print(f"PostgreSQL not reachable at {url.host}:{url.port}: {exc}".strip(), file=sys.stderr)
    sys.exit(3)

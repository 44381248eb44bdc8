"""Two app instances against one PostgreSQL database, one Redis and one upload store (README, Deployment).

Two `gunicorn wsgi:app` processes run as deployed: REGISTRY_ENV=production, the secrets in the
environment, rate limits in Redis, behind a reverse proxy (REGISTRY_PROXY_COUNT=1, every request
carries X-Forwarded-For), and an upload directory that is the same shared directory on both — each
instance sees it through its own mount point (a symlink here, an NFS mount in production). The checks:

- the login rate limit is one counter in Redis: failed login POSTs alternating between the instances
  are refused at the configured total, although neither instance alone has reached it;
- two sweeps, one with each instance's environment, started at the same moment do the work once
  (the check of tests/integration/test_sweep_concurrency.py, tests/fixtures/sweep_race.py);
- a PDF uploaded through one instance downloads byte for byte through the other, with the session
  started on the first; and the control: an instance whose upload directory is not the shared one
  cannot serve it.

The instances' database is a dedicated PostgreSQL database on the test server (one per test process,
so xdist workers and parallel runs never share it), created, seeded and committed by this process with
the same keys the instances get, and dropped afterwards. Rate-limit keys carry a per-run prefix
(REGISTRY_RATELIMIT_KEY_PREFIX) and are deleted afterwards.

Needs PostgreSQL and Redis (REGISTRY_TEST_REDIS_URL, default redis://127.0.0.1:6379/0): skipped on
SQLite; skipped when Redis does not answer, except under CI=true, where that is a failure.
"""
import hashlib
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB_URL
from tests.fixtures.sweep_race import HEALTHY_ADMIN, REPO_ROOT, assert_two_sweeps_do_the_work_once, build_scenario

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(make_url(TEST_DB_URL).get_backend_name() != "postgresql",
                       reason="two instances share one PostgreSQL database; the test database is SQLite"),
]

REDIS_URL = os.environ.get("REGISTRY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STARTUP_SECONDS = 120  # how long an instance may take to answer /healthz (a heavily loaded machine)
LOGIN_LIMIT = 10       # the default REGISTRY_LOGIN_RATE_LIMIT, "10 per minute"
WRONG_PASSWORD = "Wrong#Passw0rd"


# ------------------------------------------------------------------ a small HTTP client

@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """One browser behind the proxy: its own cookies and the client address the proxy forwards.

    The session cookie is Secure in production; a browser would not send it over plain HTTP, so the
    cookies are kept here by hand (the proxy would have terminated TLS)."""
    address: str
    cookies: dict = field(default_factory=dict)

    def request(self, instance, method, path, *, form=None, files=None):
        headers = {"X-Forwarded-For": self.address, "X-Forwarded-Proto": "http"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if files:
            body, headers["Content-Type"] = _multipart(form or {}, files)
        elif form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def get(self, instance, path):
        return self.request(instance, "GET", path)

    def post(self, instance, path, form, files=None):
        return self.request(instance, "POST", path, form=form, files=files)

    def csrf_token(self, instance, path):
        page = self.get(instance, path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status == 200 and match, (page.status, instance.log_tail())
        return match.group(1)


def _multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, content_type) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ------------------------------------------------------------------ the instances

@dataclass
class Instance:
    name: str
    port: int
    env: dict
    upload_mount: Path
    log_path: Path
    process: subprocess.Popen = None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--timeout", "120", "--graceful-timeout", "5", "--access-logfile", "-", "wsgi:app"],
            cwd=REPO_ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: the worker is killed with the master

    def wait_until_healthy(self, deadline):
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"instance {self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            if time.monotonic() > deadline:
                pytest.fail(f"instance {self.name} never answered /healthz:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self):
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self.log.close()

    def log_tail(self, chars=4000):
        try:
            return f"--- {self.name} log ---\n" + self.log_path.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"--- {self.name} log unreadable: {exc}"

    def point_uploads_at(self, directory):
        """Re-point this instance's mount point (read at every request) at `directory`, atomically."""
        tmp = self.upload_mount.with_name(self.upload_mount.name + ".new")
        tmp.symlink_to(directory, target_is_directory=True)
        os.replace(tmp, self.upload_mount)


@dataclass
class Cluster:
    a: Instance
    b: Instance
    database_url: str
    shared_uploads: Path
    prefix: str
    redis: object

    def logs(self):
        return "\n".join(i.log_tail() for i in (self.a, self.b))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_client():
    import redis
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"no Redis at {REDIS_URL} ({exc}); the two-instance test needs it (REGISTRY_TEST_REDIS_URL)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — required under CI", pytrace=False)
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture(scope="module")
def cluster(redis_client, tmp_path_factory):
    from tests.browser.conftest import _create_pg_database, _drop_pg_database

    server = make_url(TEST_DB_URL)
    db_name = f"{server.database}_multi_{os.getpid()}"
    database_url = server.set(database=db_name).render_as_string(hide_password=False)
    root = tmp_path_factory.mktemp("two-instances")
    shared = root / "shared-uploads"
    shared.mkdir()
    prefix = f"registry-test-{uuid.uuid4().hex[:12]}"
    data_key, blind_key = secrets.token_hex(32), secrets.token_hex(32)
    secret_key = secrets.token_urlsafe(32)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "FLASK_"))}
    instances = []
    for name in ("A", "B"):
        mount = root / f"mnt-{name}"
        mount.symlink_to(shared, target_is_directory=True)
        (root / f"instance-{name}").mkdir()
        port = _free_port()
        env = {
            **base_env,
            "REGISTRY_ENV": "production",
            "REGISTRY_DATABASE_URL": database_url,
            "REGISTRY_SECRET_KEY": secret_key,
            "REGISTRY_DATA_KEYS": f"k1:{data_key}",
            "REGISTRY_PASS_SIGNING_KEYS": f"p1:{data_key}",
            "REGISTRY_BLIND_INDEX_KEY": blind_key,
            "REGISTRY_RATELIMIT_STORAGE_URI": REDIS_URL,
            "REGISTRY_RATELIMIT_KEY_PREFIX": prefix,
            # No page cache: it is not what this test checks (its own tests do), and its keys carry no
            # per-run prefix, so parallel runs sharing this Redis would bump each other's generations.
            "REGISTRY_CACHE_URL": "",
            "REGISTRY_UPLOAD_DIR": str(mount),
            "REGISTRY_PROXY_COUNT": "1",
            "REGISTRY_INSTANCE_DIR": str(root / f"instance-{name}"),
            "REGISTRY_BASE_URL": f"http://127.0.0.1:{port}",
            # Cheap hashes for the seeded users and the unknown-user dummy check; the cost does not
            # change what is shared (tests/web/test_passwords.py checks the production default).
            "REGISTRY_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        }
        instances.append(Instance(name, port, env, mount, root / f"gunicorn-{name}.log"))
    cluster = Cluster(*instances, database_url, shared, prefix, redis_client)
    seed_app = None
    _create_pg_database(server, db_name)
    try:
        for instance in instances:
            instance.start()  # they import while this process seeds the database
        seed_app = build_scenario(database_url, SECRET_KEY=secret_key,
                                  DATA_KEYS=[("k1", bytes.fromhex(data_key))],
                                  BLIND_INDEX_KEY=bytes.fromhex(blind_key))
        deadline = time.monotonic() + STARTUP_SECONDS
        for instance in instances:
            instance.wait_until_healthy(deadline)
        yield cluster
    finally:
        for instance in instances:
            instance.stop()
        if seed_app is not None:
            from registry.extensions import db
            with seed_app.app_context():
                db.engine.dispose()
        _drop_pg_database(server, db_name)
        keys = list(redis_client.scan_iter(match=f"*{prefix}*"))
        if keys:
            redis_client.delete(*keys)


@pytest.fixture
def engine(cluster):
    engine = create_engine(cluster.database_url)
    yield engine
    engine.dispose()


# ------------------------------------------------------------------ the checks

def test_login_rate_limit_is_one_counter_across_both_instances(cluster, engine):
    from registry.audit.models import AuditLog

    client = Client("203.0.113.7")
    token = client.csrf_token(cluster.a, "/login")  # the same session and token are good on both
    username = f"nobody_{cluster.prefix[-12:]}"
    sent = []
    for n in range(LOGIN_LIMIT + 2):
        instance = (cluster.a, cluster.b)[n % 2]
        response = client.post(instance, "/login", {"username": username, "password": WRONG_PASSWORD,
                                                    "csrf_token": token})
        sent.append((instance.name, response.status, response.headers.get("X-RateLimit-Remaining")))
    statuses = [status for _name, status, _left in sent]
    assert statuses == [401] * LOGIN_LIMIT + [429, 429], (sent, cluster.logs())
    # One counter: each instance reports what is left of the total, whichever served the request.
    assert [int(left) for _name, _status, left in sent[:LOGIN_LIMIT]] == list(range(LOGIN_LIMIT - 1, -1, -1))
    # Neither instance alone had seen the limit when the 11th POST was refused: per-process counters
    # (memory://) would have let it through.
    served = Counter(name for name, _status, _left in sent[:LOGIN_LIMIT + 1])
    assert served == {"A": 6, "B": 5} and max(served.values()) <= LOGIN_LIMIT
    # The counter lives in Redis under this run's prefix, keyed by the forwarded client address.
    keys = [k.decode() for k in cluster.redis.scan_iter(match=f"*{cluster.prefix}*")]
    assert any("203.0.113.7" in k for k in keys), keys
    # The limit is per client: another address behind the same proxy still gets an answer.
    other = Client("203.0.113.8")
    response = other.post(cluster.b, "/login", {"username": username, "password": WRONG_PASSWORD,
                                                "csrf_token": other.csrf_token(cluster.b, "/login")})
    assert response.status == 401, cluster.logs()

    # Each refused-by-the-password attempt is audited once, with the forwarded address, and the two
    # instances writing alternately kept the hash chain intact.
    with engine.connect() as conn:
        rows = conn.execute(select(AuditLog.ip, func.count()).where(
            AuditLog.action == "login", AuditLog.actor_name == username).group_by(AuditLog.ip)).all()
    assert dict(rows) == {"203.0.113.7": LOGIN_LIMIT, "203.0.113.8": 1}
    _assert_audit_chain_intact(cluster)


def test_a_file_uploaded_through_one_instance_downloads_through_the_other(cluster, engine):
    from registry.files.models import StoredFile
    from tests.fixtures.accounts import PASSWORD
    from tests.fixtures.providers import pdf_bytes

    client = Client("203.0.113.20")
    response = client.post(cluster.a, "/login", {"username": HEALTHY_ADMIN, "password": PASSWORD,
                                                 "csrf_token": client.csrf_token(cluster.a, "/login")})
    assert response.status == 302, (response.status, cluster.logs())
    pdf = pdf_bytes(f"two instances {cluster.prefix}")
    digest = hashlib.sha256(pdf).hexdigest()
    form = {"csrf_token": client.csrf_token(cluster.a, "/provider/documents"), "doc_type": "other",
            "title": "双实例上传测试", "number": "MI-1", "issuer": "南昌市教育局", "issue_date": "2026-01-05",
            "expiry_date": ""}
    response = client.post(cluster.a, "/provider/documents", form,
                           files={"file": ("双实例.pdf", pdf, "application/pdf")})
    assert response.status == 302, (response.status, response.text[-2000:], cluster.logs())
    with engine.connect() as conn:
        file_id = conn.execute(select(StoredFile.id).where(StoredFile.sha256 == digest)).scalar_one()

    # B serves it, to the session started on A (same secret key, sessions in the shared database).
    download = client.get(cluster.b, f"/files/{file_id}")
    assert download.status == 200, cluster.logs()
    assert hashlib.sha256(download.body).hexdigest() == digest and download.body == pdf
    assert download.headers["Content-Disposition"].startswith("attachment")

    # Control: B with its own, unshared upload directory (the shared mount missing) cannot serve it.
    empty = cluster.shared_uploads.parent / "unshared-B"
    empty.mkdir(exist_ok=True)
    cluster.b.point_uploads_at(empty)
    try:
        assert client.get(cluster.b, f"/files/{file_id}").status == 500  # the file is not there
        assert client.get(cluster.a, f"/files/{file_id}").body == pdf
    finally:
        cluster.b.point_uploads_at(cluster.shared_uploads)
    assert client.get(cluster.b, f"/files/{file_id}").body == pdf


def test_two_sweeps_one_per_instance_do_the_work_once(cluster):
    first, second = assert_two_sweeps_do_the_work_once(cluster.database_url, [cluster.a.env, cluster.b.env])
    assert sum(first.values()) > 0 and sum(second.values()) == 0


def _assert_audit_chain_intact(cluster):
    from registry.audit import services as audit
    from registry.extensions import db
    from tests.conftest import make_app

    app = make_app(SQLALCHEMY_DATABASE_URI=cluster.database_url)
    with app.app_context():
        try:
            result = audit.verify_chain()
        finally:
            db.session.remove()
            db.engine.dispose()
    assert result.ok, result

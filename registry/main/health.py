"""What GET /healthz checks: the database (under a statement timeout of its own), Redis where the cache or
the rate-limit storage is configured to use it, the upload store (a file written and removed), and the free
space under it (REGISTRY_HEALTH_MIN_FREE_MB). Each check is bounded in time and reports rather than raises."""
import logging
import os
import secrets
import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from registry.core.db import rollback_quietly
from registry.extensions import db

log = logging.getLogger(__name__)

OK = "ok"
NOT_CONFIGURED = "not_configured"
REDIS_TIMEOUT_SECONDS = 0.5
LABELS = {"database": "数据库", "cache": "缓存（Redis）", "rate_limit_storage": "限流存储（Redis）",
          "upload_store": "上传文件存储", "disk": "磁盘空间"}


def is_ok(state):
    return state in (OK, NOT_CONFIGURED)


def check_database():
    """SELECT 1, under HEALTH_DB_TIMEOUT_MS on PostgreSQL (a new connection is bounded by the connect
    timeout and the pool's checkout timeout)."""
    session = db.session()
    try:
        if session.get_bind().dialect.name == "postgresql":
            milliseconds = int(current_app.config["HEALTH_DB_TIMEOUT_MS"])
            session.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
        session.execute(text("SELECT 1"))
        # SET LOCAL ends with the transaction; nothing was written.
        session.rollback()
        return OK
    except Exception as error:  # noqa: BLE001 - report, never raise, from a health check
        log.warning("healthz: database: %s", str(error).splitlines()[0] if str(error) else error)
        rollback_quietly()
        return "unreachable"


def check_redis(url):
    if not url or not url.startswith(("redis://", "rediss://", "unix://")):
        return NOT_CONFIGURED
    import redis
    client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
    try:
        client.ping()
        return OK
    except redis.RedisError as error:
        log.warning("healthz: redis %s: %s", url.rsplit("@", 1)[-1], error)
        return "unreachable"
    finally:
        client.close()


def check_upload_store():
    """A small file written into the store's staging directory and removed."""
    staging = Path(current_app.config["UPLOAD_DIR"]) / ".incoming"
    probe = staging / f"healthz-{secrets.token_hex(8)}.probe"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"ok")
        os.unlink(probe)
        return OK
    except OSError as error:
        log.warning("healthz: upload store %s: %s", staging, error)
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
        return "not_writable"


def check_disk():
    """(state, free MB) of the file system holding the upload store."""
    root = Path(current_app.config["UPLOAD_DIR"])
    try:
        free_mb = shutil.disk_usage(root if root.exists() else root.parent).free // (1024 * 1024)
    except OSError as error:
        log.warning("healthz: disk usage of %s: %s", root, error)
        return "unknown", None
    return (OK if free_mb >= current_app.config["HEALTH_MIN_FREE_MB"] else "low"), free_mb


def run_checks():
    """({dependency: state}, {"disk_free_mb": …})."""
    config = current_app.config
    disk, free_mb = check_disk()
    rate_limits = config.get("RATELIMIT_STORAGE_URI") if config.get("RATELIMIT_ENABLED") else None
    return {
        "database": check_database(),
        "cache": check_redis(config.get("CACHE_URL")),
        "rate_limit_storage": check_redis(rate_limits),
        "upload_store": check_upload_store(),
        "disk": disk,
    }, {"disk_free_mb": free_mb}

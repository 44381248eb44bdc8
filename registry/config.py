"""Configuration from REGISTRY_* environment variables.

Every setting a deployer may change is read here and documented in the README.
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("REGISTRY_INSTANCE_DIR", PROJECT_ROOT / "instance"))


class ConfigError(RuntimeError):
    pass


def _env(name, default=None):
    return os.environ.get(f"REGISTRY_{name}", default)


def _env_bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret(filename, nbytes=32):
    """Generate a development secret into instance/ on first use and reuse it afterwards."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / filename
    if not path.exists():
        path.write_text(secrets.token_hex(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def _keyring(raw, variable):
    """"kid:hex64,kid:hex64" -> [(kid, 32 bytes)]; the first is the current key."""
    keys = []
    for part in raw.split(","):
        kid, _, hexkey = part.strip().partition(":")
        key = bytes.fromhex(hexkey)
        if not kid or len(key) != 32:
            raise ConfigError(f"REGISTRY_{variable} entries must be kid:64-hex-chars")
        keys.append((kid, key))
    return keys


def _data_keys(production):
    """Data-encryption keys: "kid:hex64,kid:hex64"; the first one encrypts, all of them decrypt."""
    raw = _env("DATA_KEYS")
    if not raw:
        if production:
            raise ConfigError("REGISTRY_DATA_KEYS must be set in production")
        raw = "dev1:" + _dev_secret("data-key", 32)
    return _keyring(raw, "DATA_KEYS")


def _pass_signing_keys(production):
    """Entry-pass signing keys (Ed25519 seeds, issue 14): "kid:hex64,kid:hex64"; the first signs, all verify
    (the gate pages keep every listed public key). Generated into instance/pass-signing-key in development."""
    raw = _env("PASS_SIGNING_KEYS")
    if not raw:
        if production:
            raise ConfigError("REGISTRY_PASS_SIGNING_KEYS must be set in production")
        raw = "pass1:" + _dev_secret("pass-signing-key", 32)
    return _keyring(raw, "PASS_SIGNING_KEYS")


def _local_base_url():
    """Without REGISTRY_BASE_URL, links point at the address `make run` serves on (HOST, PORT)."""
    host = os.environ.get("HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or "5000"
    return f"http://{host}:{port}"


def load_config():
    """Build the configuration mapping from the environment."""
    env = _env("ENV", "development")
    production = env == "production"
    secret_key = _env("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("REGISTRY_SECRET_KEY must be set in production")
        secret_key = _dev_secret("secret-key")
    blind_key = _env("BLIND_INDEX_KEY")
    if not blind_key:
        if production:
            raise ConfigError("REGISTRY_BLIND_INDEX_KEY must be set in production")
        blind_key = _dev_secret("blind-index-key")
    database_url = _env("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'registry.db'}"
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENV_NAME": env,
        "PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "DATA_KEYS": _data_keys(production),
        "PASS_SIGNING_KEYS": _pass_signing_keys(production),
        "BLIND_INDEX_KEY": bytes.fromhex(blind_key) if len(blind_key) == 64 else blind_key.encode(),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "DB_PING_IDLE_SECONDS": float(_env("DB_PING_IDLE_SECONDS", "10")),
        "DB_CONNECT_TIMEOUT_SECONDS": int(_env("DB_CONNECT_TIMEOUT_SECONDS", "5")),
        "DB_STATEMENT_TIMEOUT_MS": int(_env("DB_STATEMENT_TIMEOUT_MS", "15000")),
        "DB_CLI_STATEMENT_TIMEOUT_MS": int(_env("DB_CLI_STATEMENT_TIMEOUT_MS", "0")),
        "DB_POOL_TIMEOUT_SECONDS": float(_env("DB_POOL_TIMEOUT_SECONDS", "10")),
        "HEALTH_DB_TIMEOUT_MS": int(_env("HEALTH_DB_TIMEOUT_MS", "2000")),
        "HEALTH_MIN_FREE_MB": int(_env("HEALTH_MIN_FREE_MB", "1024")),
        "UPLOAD_DIR": _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads")),
        "MAX_UPLOAD_MB": int(_env("MAX_UPLOAD_MB", "10")),
        "MAX_CONTENT_LENGTH": (int(_env("MAX_UPLOAD_MB", "10")) + 1) * 1024 * 1024,
        "SMTP_HOST": _env("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(_env("SMTP_PORT", "25")),
        "SMTP_USER": _env("SMTP_USER"),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "MAIL_FROM": _env("MAIL_FROM", "registry@localhost"),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0" if production else "memory://"),
        "RATELIMIT_KEY_PREFIX": _env("RATELIMIT_KEY_PREFIX", "registry"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: count in this process's memory and carry on (registry.extensions), never a 500.
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "CACHE_URL": _env("CACHE_URL", "redis://127.0.0.1:6379/1" if production else ""),
        "BASE_URL": _env("BASE_URL") or _local_base_url(),
        "HELP_CONTACT": _env("HELP_CONTACT", "工作日 9:00—17:00 致电所在县（市、区）教育局基础教育科"),
        "PROXY_COUNT": int(_env("PROXY_COUNT", "0")),
        "MFA_ENFORCED": _env_bool("MFA_ENFORCED", production),
        "PASSWORD_HASH_METHOD": _env("PASSWORD_HASH_METHOD", "scrypt:131072:8:1"),
        "LOGIN_RATE_LIMIT": _env("LOGIN_RATE_LIMIT", "10 per minute"),
        "OBJECTION_RATE_LIMIT": _env("OBJECTION_RATE_LIMIT", "5 per hour"),
        "COMPLAINT_RATE_LIMIT": _env("COMPLAINT_RATE_LIMIT", "5 per hour"),  # issue 17: public complaints
        "SURVEY_RATE_LIMIT": _env("SURVEY_RATE_LIMIT", "30 per minute"),  # issue 16: parent survey
        "LOCKOUT_THRESHOLD": int(_env("LOCKOUT_THRESHOLD", "5")),
        "LOCKOUT_MINUTES": int(_env("LOCKOUT_MINUTES", "30")),
        "SESSION_IDLE_MINUTES": int(_env("SESSION_IDLE_MINUTES", "30")),
        "SESSION_ABSOLUTE_HOURS": int(_env("SESSION_ABSOLUTE_HOURS", "12")),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(_env("SESSION_ABSOLUTE_HOURS", "12"))),
        "SESSION_COOKIE_NAME": "registry_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "API_TITLE": "课后服务第三方机构白名单 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "PDF_TIMEOUT_SECONDS": int(_env("PDF_TIMEOUT_SECONDS", "60")),
        "PDF_CACHE_DIR": _env("PDF_CACHE_DIR", str(INSTANCE_DIR / "pdf-cache")),
        "AUDIT_RETENTION_DAYS": int(_env("AUDIT_RETENTION_DAYS", "183")),
    }

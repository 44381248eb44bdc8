"""The one source of "now" and "today", so tests can freeze time.

Datetimes are naive UTC in the database; dates for business rules are China
Standard Time (UTC+8), since a check "expires on 2026-10-01" in Beijing.
"""
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))
_frozen = None


def utcnow():
    """Naive UTC datetime (what the database stores)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today():
    """Today's date in China Standard Time."""
    return (utcnow().replace(tzinfo=timezone.utc).astimezone(CST)).date()


def freeze(moment):
    """Freeze the clock at a naive UTC datetime (None unfreezes). Used by tests and the CLI --as-of option."""
    global _frozen
    _frozen = moment


def to_cst(moment):
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc).astimezone(CST)

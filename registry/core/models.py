"""Shared column helpers."""
from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column

from registry.core import clock


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, nullable=False)

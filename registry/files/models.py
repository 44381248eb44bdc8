from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.models import TimestampMixin
from registry.extensions import db


class StoredFile(TimestampMixin, db.Model):
    """An uploaded file. Stored under a random key outside static/; the original name is data only."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def __repr__(self):
        return f"<StoredFile {self.id} {self.content_type} {self.size}B>"

"""Import every model so metadata is complete (Alembic, create_all)."""
from registry.audit.models import AuditHead, AuditLog  # noqa: F401
from registry.auth.models import ApiToken, User, UserSession  # noqa: F401
from registry.regions.models import Region  # noqa: F401

"""Downloads of uploaded files: the owning provider and reviewers whose jurisdiction covers it."""
from flask import Blueprint, request
from flask_login import current_user

from registry.audit import services as audit
from registry.auth.jurisdiction import can_read_provider
from registry.core.db import keep_changes_on_error
from registry.core.errors import NotFound
from registry.extensions import db
from registry.files import services
from registry.files.models import StoredFile
from registry.providers.models import Provider

bp = Blueprint("files", __name__)


def may_download(user, stored):
    """Files belong to a provider: its own accounts, and reviewers or inspectors covering it, may read them."""
    if stored is None or stored.provider_id is None:
        return False
    return can_read_provider(user, db.session.get(Provider, stored.provider_id))


@bp.get("/files/<int:file_id>")
def download(file_id):
    user = current_user._get_current_object()
    stored = db.session.get(StoredFile, file_id)
    if not may_download(user, stored):
        # 404, not 403: a file that is not yours does not exist as far as you can tell.
        audit.record("file.download", object_type="stored_file", object_id=file_id, result="denied",
                     details={"reason": "missing" if stored is None else "not_permitted", "path": request.path})
        keep_changes_on_error()
        raise NotFound("文件不存在或您无权查看")
    audit.record("file.download", object_type="stored_file", object_id=stored.id,
                 details={"provider_id": stored.provider_id, "sha256": stored.sha256})
    return services.download_response(stored)

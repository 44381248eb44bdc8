"""Uploads: checked by content, stored under random names outside static/, hashed, served as attachments.

A file is written under UPLOAD_DIR/.incoming/<key>.part first and moved to its place, UPLOAD_DIR/<k2>/<key>,
only after the transaction that records its StoredFile row commits; a transaction that rolls back (a failed
request, a commit the database refused) removes it. What a killed worker or a full disk leaves in
.incoming is removed at startup and by the nightly sweep once it is STALE_PART_SECONDS old."""
import hashlib
import logging
import os
import secrets
import time
from pathlib import Path

from flask import current_app, send_file
from sqlalchemy import event
from sqlalchemy.orm import Session

from registry.core.errors import DomainError, ValidationFailed
from registry.extensions import db
from registry.files.models import StoredFile

log = logging.getLogger(__name__)

STAGING = ".incoming"           # under UPLOAD_DIR, on the same file system: the move into place is a rename
STALE_PART_SECONDS = 3600       # no upload takes that long to commit
_PENDING = "registry_files_pending"      # Session.info: {SessionTransaction: [(staged path, final path)]}
_COMMITTED = "registry_files_committed"  # Session.info: the transactions of _PENDING that committed

MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
# PDF names that run code, open things or carry files (docs/architecture.md "Security": uploads).
ACTIVE_PDF_KEYS = {"/JavaScript", "/JS", "/OpenAction", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/AA",
                   "/RichMedia", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/XFA"}


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class StorageUnavailable(DomainError):
    """The upload store could not take the file (full disk, unwritable mount)."""

    status = 503
    code = "storage_unavailable"


def _sniff(data):
    for content_type, prefixes in MAGIC.items():
        if any(data.startswith(p) for p in prefixes):
            return content_type
    return None


def _pdf_active_content(data):
    """Parse the PDF and return the first active-content key found (None when clean)."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return "encrypted"
        seen = set()
        stack = [reader.trailer]
        while stack:
            node = stack.pop()
            if isinstance(node, IndirectObject):
                key = (node.idnum, node.generation)
                if key in seen:
                    continue
                seen.add(key)
                node = node.get_object()
            if isinstance(node, DictionaryObject):
                for name, value in node.items():
                    if name in ACTIVE_PDF_KEYS:
                        return name
                    if name == "/S" and isinstance(value, NameObject) and value in ACTIVE_PDF_KEYS:
                        return str(value)
                    if name == "/Type" and value == "/EmbeddedFile":
                        return "/EmbeddedFile"
                    stack.append(value)
            elif isinstance(node, ArrayObject):
                stack.extend(node)
        if len(reader.pages) < 1:
            return "no_pages"
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError, AttributeError, OSError):
        return "unparseable"
    return None


def validate_upload(filename, data, field="file"):
    """Return the content type, or raise with a message that names the field and the rule."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    if not data:
        raise ValidationFailed({field: ["请选择要上传的文件"]})
    if len(data) > limit_mb * 1024 * 1024:
        raise TooLarge(f"上传的文件过大：每个文件不能超过 {limit_mb} MB", field=field)
    name = (filename or "").strip()
    ext = os.path.splitext(name)[1].lower()
    if ext not in EXTENSIONS:
        raise ValidationFailed({field: ["只接受 PDF、JPG、PNG 格式的文件（扩展名须为 .pdf、.jpg、.jpeg 或 .png）"]})
    content_type = _sniff(data)
    if content_type is None:
        raise ValidationFailed({field: ["文件内容不是 PDF、JPG 或 PNG（按文件内容识别）"]})
    if content_type != EXTENSIONS[ext]:
        raise ValidationFailed({field: [f"文件扩展名 {ext} 与文件实际内容不符"]})
    if content_type == "application/pdf":
        problem = _pdf_active_content(data)
        if problem == "encrypted":
            raise ValidationFailed({field: ["不接受加密的 PDF 文件"]})
        if problem in ("unparseable", "no_pages"):
            raise ValidationFailed({field: ["PDF 文件已损坏或无法解析"]})
        if problem:
            raise ValidationFailed({field: [f"PDF 含有脚本、自动动作或嵌入文件（{problem}），出于安全原因不予接受"]})
    return content_type


def _path_for(key):
    root = Path(current_app.config["UPLOAD_DIR"])
    return root / key[:2] / key


def _stage(key, data, field):
    """Write the bytes to UPLOAD_DIR/.incoming/<key>.part (to disk, fsync'd); nothing is left on failure."""
    staging = Path(current_app.config["UPLOAD_DIR"]) / STAGING
    staged = staging / f"{key}.part"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        with open(staged, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        try:
            staged.unlink(missing_ok=True)
        except OSError:
            pass
        log.error("upload store %s: could not write a file: %s", staging, error)
        raise StorageUnavailable("文件存储暂时不可用（磁盘空间不足或无法写入），请稍后重试", field=field) from error
    return staged


def _transaction(session):
    """The transaction a write belongs to now: the innermost savepoint, else the outermost transaction."""
    return session.get_nested_transaction() or session.get_transaction()


def store(filename, data, *, provider_id=None, uploaded_by=None, field="file"):
    """Validate and store an upload; flushes the StoredFile row and returns it. The file reaches its place
    when the transaction commits (module docstring)."""
    content_type = validate_upload(filename, data, field=field)
    key = secrets.token_hex(20)
    staged = _stage(key, data, field)
    session = db.session()
    session.connection()   # begins the transaction (autobegin) if nothing has yet: the file belongs to it
    session.info.setdefault(_PENDING, {}).setdefault(_transaction(session), []).append((staged, _path_for(key)))
    original = os.path.basename((filename or "").replace("\\", "/"))[:255]
    row = StoredFile(
        storage_key=key, original_name=original, content_type=content_type, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), provider_id=provider_id,
        uploaded_by_id=getattr(uploaded_by, "id", None),
    )
    db.session.add(row)
    db.session.flush()
    return row


def read_upload(storage, field="file"):
    """Read a werkzeug FileStorage within the limit; returns (filename, bytes)."""
    if storage is None or not storage.filename:
        raise ValidationFailed({field: ["请选择要上传的文件"]})
    limit = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    data = storage.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"上传的文件过大：每个文件不能超过 {current_app.config['MAX_UPLOAD_MB']} MB", field=field)
    return storage.filename, data


def download_response(stored):
    """An attachment with the original (Chinese) name as filename*=UTF-8''…"""
    response = send_file(_path_for(stored.storage_key), mimetype=stored.content_type, as_attachment=True,
                          download_name=stored.original_name or f"file-{stored.id}", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- files follow their transaction

@event.listens_for(Session, "after_commit")
def _after_commit(session):
    # Fired for the outermost transaction and for each released savepoint alike; which one it was is
    # known when it ends (below).
    if session.info.get(_PENDING):
        session.info.setdefault(_COMMITTED, set()).add(_transaction(session))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction):
    pending = session.info.get(_PENDING)
    if not pending:
        return
    committed = transaction in session.info.get(_COMMITTED, ())
    session.info.get(_COMMITTED, set()).discard(transaction)
    files = pending.pop(transaction, None)
    if not files:
        return
    if not committed:
        for staged, _final in files:
            staged.unlink(missing_ok=True)
    elif transaction.parent is not None:   # a released savepoint: its files follow the enclosing transaction
        pending.setdefault(transaction.parent, []).extend(files)
    else:
        for staged, final in files:
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, final)
            except OSError as error:
                log.error("upload store: committed file %s could not be moved into place: %s", final.name, error)


def remove_stale_parts(root=None, max_age=STALE_PART_SECONDS, legacy=True):
    """Remove partial uploads older than `max_age` seconds: those in .incoming, and with `legacy` the
    <key>.part files that earlier versions wrote beside the stored files (a listing of the whole store: the
    nightly sweep, not the startup). Returns how many were removed."""
    root = Path(root or current_app.config["UPLOAD_DIR"])
    patterns = [f"{STAGING}/*.part"] + (["??/*.part"] if legacy else [])
    cutoff = time.time() - max_age
    removed = 0
    for pattern in patterns:
        for path in root.glob(pattern):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue   # another instance removed it first
    if removed:
        log.info("upload store %s: removed %d stale partial uploads", root, removed)
    return removed


def init_app(app):
    """At startup: remove the stale partial uploads of .incoming (a cheap listing of one directory)."""
    try:
        remove_stale_parts(app.config["UPLOAD_DIR"], legacy=False)
    except OSError as error:
        log.warning("upload store %s: stale partial uploads not checked: %s", app.config["UPLOAD_DIR"], error)


# ---------------------------------------------------------------- issue 14: pass photos

def inline_image(stored):
    """A stored JPEG/PNG shown inline (a pass photo for the gate), never cached."""
    if stored.content_type not in ("image/jpeg", "image/png"):
        raise ValidationFailed({"file": ["只能显示 JPG 或 PNG 图片"]})
    response = send_file(_path_for(stored.storage_key), mimetype=stored.content_type, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def remove(stored):
    """Delete a stored file's row and its bytes (retention). The bytes go when the row's transaction commits
    would be nicer; a file already gone is fine."""
    try:
        _path_for(stored.storage_key).unlink(missing_ok=True)
    except OSError as error:
        log.warning("could not remove stored file %s: %s", stored.id, error)
    db.session.delete(stored)


def read_bytes(stored):
    """The bytes of a stored file (a pass photo on a badge)."""
    return _path_for(stored.storage_key).read_bytes()

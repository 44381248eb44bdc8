"""Uploads: checked by content, stored under random names outside static/, hashed, served as attachments."""
import hashlib
import os
import secrets
from pathlib import Path

from flask import current_app, send_file

from registry.core.errors import DomainError, ValidationFailed
from registry.extensions import db
from registry.files.models import StoredFile

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


def store(filename, data, *, provider_id=None, uploaded_by=None, field="file"):
    """Validate and store an upload; flushes the StoredFile row and returns it."""
    content_type = validate_upload(filename, data, field=field)
    key = secrets.token_hex(20)
    path = _path_for(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
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

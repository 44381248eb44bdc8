"""Uploaded files reach the upload store only when their transaction commits (registry.files.services):
a request that fails after the file was written, or whose commit the database refuses, leaves no file; a
savepoint rolled back inside a committed transaction leaves none either; stale partial uploads are removed
at startup and by the sweep, fresh ones are kept."""
import os
import time
from pathlib import Path

import pytest
from flask import Response
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from registry.extensions import db as _db
from registry.files import services as files
from registry.files.models import StoredFile
from registry.providers.models import ProviderDocument
from tests.conftest import make_app
from tests.fixtures.accounts import login
from tests.fixtures.providers import document_form, pdf_bytes


def files_in(root):
    return sorted(p.relative_to(root) for p in Path(root).rglob("*") if p.is_file())


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def refuse_inserts(db, table, deferred=False):
    """A real trigger that makes the database refuse every INSERT into `table` (at the statement, or with
    `deferred` at COMMIT on PostgreSQL). Created in the current transaction: gone when it rolls back."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text(f"CREATE TEMP TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                                "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"))
        return
    db.session.execute(text("CREATE FUNCTION registry_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                            "$$ BEGIN RAISE EXCEPTION 'refused by the test trigger'; END $$"))
    timing = "DEFERRABLE INITIALLY DEFERRED" if deferred else "NOT DEFERRABLE"
    db.session.execute(text(f"CREATE CONSTRAINT TRIGGER refuse_{table} AFTER INSERT ON {table} {timing} "
                            "FOR EACH ROW EXECUTE FUNCTION registry_test_refuse()"))


def test_a_committed_upload_is_in_place_and_nothing_is_left_staged(app, db, provider_admin):
    client = app.test_client()
    login(client, provider_admin.username)
    response = client.post("/provider/documents", data=document_form(data=pdf_bytes()),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    [stored] = db.session.scalars(select(StoredFile).where(StoredFile.provider_id == provider_admin.provider_id))
    root = Path(app.config["UPLOAD_DIR"])
    assert (root / stored.storage_key[:2] / stored.storage_key).read_bytes() == pdf_bytes()
    assert list((root / files.STAGING).glob("*")) == []


def test_a_request_that_fails_after_storing_the_file_leaves_no_file(app, db, provider_admin):
    """The file is written, then the database refuses the document row: the request fails (500), its
    transaction rolls back, and the written file goes with it."""
    client = app.test_client()
    login(client, provider_admin.username)
    before_rows, before_files = count(db, StoredFile), files_in(app.config["UPLOAD_DIR"])
    refuse_inserts(db, "provider_document")
    response = client.post("/provider/documents", data=document_form(data=pdf_bytes()),
                           content_type="multipart/form-data")
    assert response.status_code == 500
    assert count(db, StoredFile) == before_rows and count(db, ProviderDocument) == 0
    assert files_in(app.config["UPLOAD_DIR"]) == before_files


@pytest.fixture
def committing_app(app):
    """An app whose requests really commit (no `db` fixture around them); `app` created the schema."""
    application = make_app()
    yield application
    with application.app_context():
        _db.session.remove()


def test_a_request_whose_commit_fails_leaves_no_file(committing_app):
    """The request's one commit (registry.core.db) is refused by the database itself: a deferred
    constraint trigger on PostgreSQL, a deferred foreign key on SQLite. Nothing of the request remains."""
    root = committing_app.config["UPLOAD_DIR"]
    with committing_app.test_request_context("/provider/documents", method="POST"):
        session = _db.session()
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("PRAGMA defer_foreign_keys = ON"))
            uploader = type("Missing", (), {"id": 987654321})()   # no such user: checked at COMMIT
        else:
            refuse_inserts(_db, "stored_file", deferred=True)
            uploader = None
        row = files.store("资料.pdf", pdf_bytes(), uploaded_by=uploader)
        key = row.storage_key
        assert [p.name for p in files_in(root)] == [f"{key}.part"]   # written, not yet in place
        with pytest.raises(DBAPIError):
            committing_app.process_response(Response("ok"))
    assert files_in(root) == []
    with committing_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(StoredFile)
                                  .where(StoredFile.storage_key == key)) == 0


def test_a_rolled_back_savepoint_takes_its_file_and_the_outer_commit_places_the_others(db, tmp_path):
    application = make_app(UPLOAD_DIR=str(tmp_path))
    root = tmp_path
    with application.test_request_context():
        kept = files.store("留.pdf", pdf_bytes("kept"))
        savepoint = db.session.begin_nested()
        dropped = files.store("弃.pdf", pdf_bytes("dropped"))
        savepoint.rollback()
        released = db.session.begin_nested()
        inner = files.store("内.pdf", pdf_bytes("inner"))
        released.commit()
        assert {p.name for p in files_in(root)} == {f"{kept.storage_key}.part", f"{inner.storage_key}.part"}
        db.session.commit()
    assert files_in(root) == sorted(Path(k[:2]) / k for k in (kept.storage_key, inner.storage_key))
    assert dropped.storage_key not in str(files_in(root))


def test_a_full_or_unwritable_store_is_a_503_and_stores_nothing(db, provider_admin, tmp_path):
    """The store cannot be written (here: its path runs through a regular file): a clear 503, no row,
    no file."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    application = make_app(UPLOAD_DIR=str(blocker / "uploads"))
    client = application.test_client()
    login(client, provider_admin.username)
    before = count(db, StoredFile)
    response = client.post("/provider/documents", data=document_form(data=pdf_bytes()),
                           content_type="multipart/form-data")
    assert response.status_code == 503
    assert "文件存储暂时不可用" in response.get_data(as_text=True)
    assert count(db, StoredFile) == before and count(db, ProviderDocument) == 0


def _aged(path, seconds):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"partial")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_stale_partial_uploads_are_removed_at_startup_and_by_the_sweep(db, tmp_path):
    root = tmp_path / "uploads"
    staged_old = _aged(root / files.STAGING / "a1.part", files.STALE_PART_SECONDS + 60)
    staged_fresh = _aged(root / files.STAGING / "a2.part", 60)
    legacy_old = _aged(root / "ab" / "ab12.part", files.STALE_PART_SECONDS + 60)   # the layout before .incoming
    legacy_fresh = _aged(root / "ab" / "ab34.part", 60)
    stored = _aged(root / "ab" / "ab56", files.STALE_PART_SECONDS + 60)            # a stored file: never touched

    application = make_app(UPLOAD_DIR=str(root))   # startup: .incoming only
    assert not staged_old.exists()
    assert staged_fresh.exists() and legacy_old.exists() and legacy_fresh.exists() and stored.exists()

    with application.app_context():   # (the `db` fixture holds the session app's context)
        result = application.test_cli_runner().invoke(args=["registry", "sweep"])
    assert result.exit_code == 0, result.output
    assert "stale partial uploads removed: 1" in result.output
    assert not legacy_old.exists()
    assert staged_fresh.exists() and legacy_fresh.exists() and stored.exists()

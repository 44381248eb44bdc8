"""ID numbers at rest: AES-GCM with a key id, an HMAC blind index, no plaintext anywhere, tampering detected."""
import hashlib
import hmac
import re

import pytest
from sqlalchemy import select, text

from registry.audit.models import AuditLog
from registry.core import crypto
from registry.people import services
from registry.people.models import Person
from tests.fixtures.providers import add_cleared_person, id_number_for

NUMBER = "360102199003071236"


@pytest.fixture
def person(db, provider_admin):
    p = services.create_person(provider_admin.provider, actor=provider_admin, name="王老师", id_number=NUMBER,
                               gender="female", phone="13900000000", staff_role="teacher", specialties="跳绳")
    db.session.flush()
    return p


def _as_text(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    return str(value)


def test_raw_sql_finds_no_plaintext_in_any_column(db, person):
    rows = db.session.execute(text("SELECT * FROM person")).mappings().all()
    assert rows
    birth = NUMBER[6:14]
    for row in rows:
        for column, value in row.items():
            if value is None:
                continue
            blob = _as_text(value)
            assert NUMBER not in blob, f"plaintext ID number in person.{column}"
            assert NUMBER[:17] not in blob, f"ID body in person.{column}"
            assert birth not in blob, f"birth date part of the ID in person.{column}"
    raw = db.session.execute(text("SELECT id_enc, id_key_id, id_masked FROM person WHERE id = :id"),
                             {"id": person.id}).one()
    assert raw.id_masked == "360102********1236"
    assert raw.id_key_id == crypto.current_key_id()
    assert crypto.key_id_of(raw.id_enc) == raw.id_key_id
    # nor in the audit trail of the creation
    for details, in db.session.execute(select(AuditLog.details)):
        assert NUMBER not in str(details)


def test_the_same_number_encrypts_differently_each_time(db, person, provider_admin):
    other = add_cleared_person(provider_admin.provider, provider_admin, n=2)
    again = crypto.encrypt(NUMBER, services.ID_CONTEXT)
    assert bytes(person.id_enc) != again
    assert crypto.decrypt(again, services.ID_CONTEXT) == NUMBER
    assert other.id_enc != person.id_enc


def test_blind_index_is_the_keyed_hmac(app, db, person):
    expected = hmac.new(app.config["BLIND_INDEX_KEY"], f"{services.ID_PURPOSE}:{NUMBER}".encode(),
                        hashlib.sha256).hexdigest()
    assert person.id_bidx == expected
    assert re.fullmatch(r"[0-9a-f]{64}", person.id_bidx)
    # exact search works through the index, whatever the case of a trailing x
    found = db.session.scalar(select(Person).where(Person.id_bidx == services.id_blind_index(NUMBER)))
    assert found.id == person.id
    assert services.id_blind_index("36010219900307105x") == services.id_blind_index("36010219900307105X")
    # and an unkeyed hash of the number does not match it
    assert person.id_bidx != hashlib.sha256(NUMBER.encode()).hexdigest()


def test_ciphertext_is_bound_to_its_column(person):
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(person.id_enc, "person.phone")


def _flip_last_byte(db, person_id):
    blob = bytearray(db.session.execute(text("SELECT id_enc FROM person WHERE id = :id"), {"id": person_id}).scalar())
    blob[-1] ^= 0x01
    db.session.execute(text("UPDATE person SET id_enc = :blob WHERE id = :id"), {"blob": bytes(blob), "id": person_id})
    db.session.expire_all()


def test_tampered_ciphertext_fails_and_blocks_clearance(db, provider_admin):
    person = add_cleared_person(provider_admin.provider, provider_admin, n=3)
    assert services.clearance(person).cleared
    _flip_last_byte(db, person.id)
    person = db.session.get(Person, person.id)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(person.id_enc, services.ID_CONTEXT)
    with pytest.raises(crypto.DecryptionError):
        services.reveal_id(person, actor=provider_admin, reason="核对身份信息")
    result = services.clearance(person)
    assert not result.cleared
    assert result.reasons == ["身份证号码无效或无法核验"]


def test_unknown_key_id_fails(db, person, app, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_KEYS", [("other", b"\x01" * 32)])
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(person.id_enc, services.ID_CONTEXT)
    assert "身份证号码无效或无法核验" in services.clearance(person).reasons


def test_rotation_reencrypts_under_the_new_key(db, app, provider_admin, monkeypatch):
    key_a, key_b = ("A", b"\xaa" * 32), ("B", b"\xbb" * 32)
    monkeypatch.setitem(app.config, "DATA_KEYS", [key_a])
    people = [add_cleared_person(provider_admin.provider, provider_admin, n=n) for n in (11, 12, 13)]
    numbers = {p.id: id_number_for(n) for p, n in zip(people, (11, 12, 13), strict=True)}
    assert {p.id_key_id for p in people} == {"A"}

    monkeypatch.setitem(app.config, "DATA_KEYS", [key_b, key_a])  # B encrypts, both decrypt
    newer = add_cleared_person(provider_admin.provider, provider_admin, n=14)
    assert newer.id_key_id == "B"
    for p in people:  # old rows stay readable before rotation
        assert crypto.decrypt(p.id_enc, services.ID_CONTEXT) == numbers[p.id]

    assert services.rotate_keys() == 3  # only the rows still under A
    db.session.expire_all()
    rows = db.session.execute(text("SELECT id, id_enc, id_key_id FROM person")).all()
    assert {r.id_key_id for r in rows} == {"B"}
    assert {crypto.key_id_of(r.id_enc) for r in rows} == {"B"}
    assert services.rotate_keys() == 0  # nothing left to do

    monkeypatch.setitem(app.config, "DATA_KEYS", [key_b])  # key A retired
    for p in people:
        p = db.session.get(Person, p.id)
        assert crypto.decrypt(p.id_enc, services.ID_CONTEXT) == numbers[p.id]
        assert services.clearance(p).cleared
    rotated = db.session.scalars(select(AuditLog).where(AuditLog.action == "crypto.rotate")).all()
    assert [r.details for r in rotated] == [{"rows": 3, "key_id": "B"}]


def test_without_rotation_a_retired_key_leaves_rows_unreadable(db, app, provider_admin, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_KEYS", [("A", b"\xaa" * 32)])
    person = add_cleared_person(provider_admin.provider, provider_admin, n=21)
    monkeypatch.setitem(app.config, "DATA_KEYS", [("B", b"\xbb" * 32)])
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(person.id_enc, services.ID_CONTEXT)
    with pytest.raises(crypto.DecryptionError):
        services.rotate_keys()

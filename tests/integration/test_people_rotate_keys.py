"""`flask registry rotate-keys`: create under key A, add key B in front, rotate, retire A; every row stays readable."""
from sqlalchemy import select, text

from registry.audit.models import AuditLog
from registry.cli import registry_cli
from registry.core import crypto
from registry.people import services
from registry.people.models import Person
from tests.fixtures.providers import add_cleared_person, id_number_for

KEY_A = ("keyA", bytes.fromhex("aa" * 32))
KEY_B = ("keyB", bytes.fromhex("bb" * 32))


def _rotate(app):
    return app.test_cli_runner().invoke(registry_cli, ["rotate-keys"])


def test_rotate_keys_command(app, db, provider_admin, monkeypatch, login_as):
    monkeypatch.setitem(app.config, "DATA_KEYS", [KEY_A])
    people = [add_cleared_person(provider_admin.provider, provider_admin, n=n) for n in (31, 32)]
    _c, other = login_as("provider_admin")
    people.append(add_cleared_person(other.provider, other, n=33))
    numbers = {p.id: id_number_for(n) for p, n in zip(people, (31, 32, 33), strict=True)}
    db.session.commit()

    monkeypatch.setitem(app.config, "DATA_KEYS", [KEY_B, KEY_A])
    for p in people:  # still readable under the old key before rotation
        assert services.reveal_id(p, actor=provider_admin, reason="轮换前核对") == numbers[p.id]

    result = _rotate(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "re-encrypted 3 rows under key keyB"
    db.session.expire_all()
    rows = db.session.execute(text("SELECT id_key_id, id_enc FROM person")).all()
    assert {r.id_key_id for r in rows} == {"keyB"} and {crypto.key_id_of(r.id_enc) for r in rows} == {"keyB"}
    assert _rotate(app).output.strip() == "re-encrypted 0 rows under key keyB"

    monkeypatch.setitem(app.config, "DATA_KEYS", [KEY_B])
    for p in people:
        person = db.session.get(Person, p.id)
        assert services.reveal_id(person, actor=provider_admin, reason="轮换后核对") == numbers[p.id]
        assert services.clearance(person).cleared
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "crypto.rotate")).all()
    assert [a.details["rows"] for a in audit] == [3]


def test_rotate_keys_fails_cleanly_when_an_old_key_is_missing(app, db, provider_admin, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_KEYS", [KEY_A])
    person = add_cleared_person(provider_admin.provider, provider_admin, n=34)
    db.session.commit()
    monkeypatch.setitem(app.config, "DATA_KEYS", [KEY_B])  # A dropped too early
    result = _rotate(app)
    assert result.exit_code != 0
    assert "could not be decrypted" in result.output and "nothing was changed" in result.output
    db.session.expire_all()
    assert db.session.get(Person, person.id).id_key_id == "keyA"

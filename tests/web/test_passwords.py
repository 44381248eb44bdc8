"""docs/architecture.md "Security" (passwords): the stored hash is scrypt N=2^17, and the policy is applied with Chinese
messages."""
import hashlib

import pytest

from registry.auth import services as auth
from registry.auth.models import User
from registry.auth.passwords import hash_password, verify_password
from registry.config import load_config
from registry.core.errors import ValidationFailed
from tests.conftest import make_app
from tests.fixtures.accounts import NEW_PASSWORD, PASSWORD, login


def test_default_config_hashes_with_scrypt_n_2_17():
    assert load_config()["PASSWORD_HASH_METHOD"] == "scrypt:131072:8:1"


def test_stored_hash_is_scrypt_n_2_17(db, seeded_regions):
    default = load_config()["PASSWORD_HASH_METHOD"]
    app = make_app(PASSWORD_HASH_METHOD=default)
    with app.app_context():
        user = auth.create_user(username="hash_check", display_name="哈希检查", role="auditor", password=PASSWORD)
        db.session.flush()
        stored = db.session.get(User, user.id).password_hash
        method, salt, digest = stored.split("$")
        assert method == "scrypt:131072:8:1"
        n, r, p = (int(x) for x in method.split(":")[1:])
        assert n >= 2 ** 17 and r == 8 and p == 1
        # The digest really is scrypt with those parameters (not just a label).
        expected = hashlib.scrypt(PASSWORD.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p)
        assert expected.hex() == digest
        assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + "x")
        assert PASSWORD not in stored


def test_hash_is_salted(app, db):
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


@pytest.mark.parametrize("new_password, message", [
    ("Ab1#xyz", "密码长度不能少于 8 个字符"),
    ("Ab1#" * 17, "密码长度不能超过 64 个字符"),
    ("abcdefgh1234", "密码须包含大写字母、小写字母、数字、符号中的至少三类"),
    ("Password#123", "密码包含常见弱口令，请换一个"),
    ("Xy#教育局2026", "密码不能包含用户名、单位、地名等容易猜到的词"),
    ("Nanchang#2026", "密码不能包含用户名、单位、地名等容易猜到的词"),
    ("Xy#南昌2026ab", "密码不能包含用户名、单位、地名等容易猜到的词"),
])
def test_change_password_form_refuses_weak_passwords_in_chinese(login_as, db, new_password, message):
    client, user = login_as("auditor")
    old_hash = user.password_hash
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new_password, "confirm_password": new_password})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash


def test_the_username_is_refused_inside_the_password(login_as, db):
    client, user = login_as("auditor", username="wangfang77")
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Wangfang77#x", "confirm_password": "Wangfang77#x"})
    assert response.status_code == 422
    assert "密码不能包含用户名、单位、地名等容易猜到的词" in response.get_data(as_text=True)


def test_a_good_password_is_accepted(login_as, db):
    client, user = login_as("auditor")
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 302
    client.post("/logout")
    assert login(client, user.username, NEW_PASSWORD).status_code == 302


def test_services_apply_the_policy_too(db, seeded_regions):
    with pytest.raises(ValidationFailed) as info:
        auth.create_user(username="weak_one", display_name="弱口令", role="auditor", password="12345678")
    assert info.value.field == "password"

"""docs/architecture.md "Security" (passwords): the password policy, rule by rule (pure function, no app needed)."""
import pytest

from registry.auth.passwords import MAX_LENGTH, MIN_LENGTH, policy_errors

GOOD = "Xk9#mQ2v!pL7"

LENGTH_SHORT = f"密码长度不能少于 {MIN_LENGTH} 个字符"
LENGTH_LONG = f"密码长度不能超过 {MAX_LENGTH} 个字符"
CLASSES = "密码须包含大写字母、小写字母、数字、符号中的至少三类"
COMMON = "密码包含常见弱口令，请换一个"
CONTEXT = "密码不能包含用户名、单位、地名等容易猜到的词"


def test_a_good_password_is_accepted():
    assert policy_errors(GOOD) == []
    assert policy_errors(GOOD, ["zhang_wei", "张伟"]) == []


@pytest.mark.parametrize("password, message", [
    ("Xk9#mQ2", LENGTH_SHORT),                    # 7 characters
    ("Xk9#mQ2v!pL7" * 6, LENGTH_LONG),            # 72 characters
    ("xk9mq2vbpl7r", CLASSES),                    # lower + digits only
    ("XKMQVPLRTWZB", CLASSES),                    # one class
    ("xk#mq!vb@pl&", CLASSES),                    # lower + symbols only
])
def test_length_and_character_classes(password, message):
    assert message in policy_errors(password)


def test_length_bounds_are_inclusive():
    assert policy_errors("Xk9#mQ2v") == []                       # exactly 8
    assert policy_errors(("Xk9#mQ2v" * 8)[:MAX_LENGTH]) == []    # exactly 64
    assert LENGTH_LONG in policy_errors(("Xk9#mQ2v" * 9)[:MAX_LENGTH + 1])


@pytest.mark.parametrize("password", ["Password#2024", "P@ssw0rd!x9Z", "Qwerty#1234x", "Zz#1qaz2wsx9", "Aa#5201314b"])
def test_common_passwords_are_rejected(password):
    assert COMMON in policy_errors(password)


@pytest.mark.parametrize("password", [
    "Jx#教育局2026a",       # the bureau
    "Nanchang#2026x",     # a city name in pinyin
    "Xk9#南昌mQ2v",        # a city name in Chinese
    "Gz@Ganzhou99",       # another city
    "Zq#Jiangxi2026",     # the province
    "N4nch4ng#2026Q",     # leetspeak does not hide it
])
def test_context_words_are_rejected(password):
    assert CONTEXT in policy_errors(password)


def test_the_username_and_display_name_are_context_words():
    assert CONTEXT in policy_errors("Zhangwei88#x", ["zhangwei88", "张伟"])
    assert CONTEXT in policy_errors("张三丰#Abc12345", ["wei_z", "张三丰"])
    assert policy_errors("Zhangwei88#x", ["li_si", "李四"]) == []


def test_every_message_is_chinese():
    for message in policy_errors("abc"):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message)

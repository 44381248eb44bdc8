"""统一社会信用代码 (GB 32100) validation with python-stdnum, in the service and in the input schema."""
import pytest
from marshmallow import ValidationError

from registry.core.errors import ValidationFailed
from registry.providers.schemas import _uscc
from registry.providers.services import validate_uscc


@pytest.mark.parametrize("value, expected", [
    ("91360100MA35ABCD1R", "91360100MA35ABCD1R"),  # a valid example
    (" 91360100ma35abcd1r ", "91360100MA35ABCD1R"),  # spaces and lower case are normalised
    ("91360100-MA35ABCD1R", "91360100MA35ABCD1R"),
])
def test_valid_codes_are_normalised(value, expected):
    assert validate_uscc(value) == expected


@pytest.mark.parametrize("value, message", [
    ("91360100MA35ABCD1X", "统一社会信用代码校验位不正确"),  # wrong check character
    ("91360100MA35ABCD1", "统一社会信用代码应为 18 位"),
    ("91360100MA35ABCD1RR", "统一社会信用代码应为 18 位"),
    ("9136010OMA35ABCD1R", "统一社会信用代码格式不正确"),  # letter O where the region code has digits
    ("91360100MA35ABCDIR", "统一社会信用代码格式不正确"),  # I is not in the GB 32100 alphabet
    ("", "统一社会信用代码应为 18 位"),
    (None, "统一社会信用代码应为 18 位"),
])
def test_invalid_codes_name_the_field_and_the_rule(value, message):
    with pytest.raises(ValidationFailed) as caught:
        validate_uscc(value)
    assert caught.value.errors == {"uscc": [message]}
    assert caught.value.field == "uscc"


def test_every_single_wrong_check_character_is_refused():
    body = "91360100MA35ABCD1"
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    wrong = [c for c in alphabet if c != "R"]
    for char in wrong:
        with pytest.raises(ValidationFailed):
            validate_uscc(body + char)


def test_schema_validator_reports_the_same_message():
    with pytest.raises(ValidationError) as caught:
        _uscc("91360100MA35ABCD1X")
    assert caught.value.messages == ["统一社会信用代码校验位不正确"]
    assert _uscc("91360100MA35ABCD1R") is None

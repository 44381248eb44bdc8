"""居民身份证号 (GB 11643): validation with python-stdnum, Chinese messages naming the field, masking."""
import pytest
from marshmallow import ValidationError

from registry.core.errors import ValidationFailed
from registry.people import services
from registry.people.schemas import PersonIn

VALID = "360102199003071236"  # a valid example (GB 11643 check character)
VALID_X = "36010219900307105X"  # check character X


def with_check_digit(body17):
    from stdnum.cn import ric
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.mark.parametrize("value, expected", [
    (VALID, VALID),
    (f"  {VALID} ", VALID),
    (VALID_X, VALID_X),
    (VALID_X.lower(), VALID_X),  # a lower-case x is normalised
])
def test_valid_numbers_are_normalised(value, expected):
    assert services.validate_id_number(value) == expected


@pytest.mark.parametrize("value, message", [
    ("360102199003071235", "身份证号码校验位不正确"),  # wrong check digit
    (with_check_digit("36010219900230123"), "身份证号码中的出生日期或地区码无效"),  # 30 February
    (with_check_digit("36010219901332123"), "身份证号码中的出生日期或地区码无效"),  # month 13
    (with_check_digit("99010219900307123"), "身份证号码中的出生日期或地区码无效"),  # no such region
    ("36010219900307123", "身份证号码应为 18 位"),  # 17 characters
    ("3601021990030712361", "身份证号码应为 18 位"),  # 19 characters
    ("360102900307123", "身份证号码应为 18 位"),  # the old 15-digit form
    ("3601021990030712A6", "身份证号码格式不正确"),
    ("", "身份证号码应为 18 位"),
])
def test_invalid_numbers_name_the_field_and_the_rule(value, message):
    with pytest.raises(ValidationFailed) as caught:
        services.validate_id_number(value)
    assert caught.value.errors == {"id_number": [message]}
    assert caught.value.field == "id_number"


def test_the_input_schema_applies_the_same_rule(app):
    base = {"name": "王老师", "gender": "female", "phone": "13900000000", "staff_role": "teacher"}
    assert PersonIn().load({**base, "id_number": VALID})["id_number"] == VALID
    with pytest.raises(ValidationError) as caught:
        PersonIn().load({**base, "id_number": "360102199003071235", "gender": "x"})
    # every field error is reported at once, each naming its rule in Chinese
    assert caught.value.messages == {"id_number": ["身份证号码校验位不正确"], "gender": ["性别应为：男、女"]}


def test_mask_keeps_region_and_last_four_only():
    assert services.mask_id(VALID) == "360102********1236"
    assert services.mask_id(VALID_X) == "360102********105X"

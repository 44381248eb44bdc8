"""open_case routes a complaint (county of the school, else the provider's city) and sets working-day
deadlines from the calendar (issue 17)."""
from datetime import date

import pytest

from registry.complaints import services as complaints
from registry.complaints.models import ComplaintStatus, SubjectKind
from registry.core.errors import ValidationFailed
from registry.passes.models import EntryPass, PassKind
from tests.fixtures.reviews import at
from tests.fixtures.schools import make_school_row


def test_school_complaint_goes_to_its_county(db, frozen_clock, create_provider):
    at(date(2026, 3, 2))  # Monday
    school = make_school_row(db)
    case = complaints.open_case(source="school", category="illegal_fees", summary="收取材料费", school_id=school.id,
                                provider_id=create_provider().id)
    assert case.region_id == school.county_id and case.city_id == school.city_id
    assert case.subject_kind == SubjectKind.provider
    assert case.status == ComplaintStatus.received
    assert (case.ack_due, case.resolve_due) == (date(2026, 3, 3), date(2026, 3, 19))
    assert case.tracking_code.startswith("TS-") and len(case.tracking_code) == 19


def test_provider_without_school_goes_to_the_city(db, frozen_clock, create_provider):
    at(date(2026, 2, 13))  # Friday before the Spring Festival: 14 Feb (Sat) is worked, 15–23 Feb off
    provider = create_provider()
    case = complaints.open_case(source="survey", category="forced_participation", summary="强制报名",
                                provider_id=provider.id)
    assert case.region_id == provider.city_id == case.city_id
    assert case.ack_due == date(2026, 2, 14)
    # 14 Feb (Sat, worked), 24–27 Feb, 28 Feb (Sat, worked), 2–6 Mar, 9 and 10 Mar: the 13th working day
    assert case.resolve_due == date(2026, 3, 10)


def test_a_person_named_by_the_code_on_their_entry_pass(db, frozen_clock, whitelisted):
    """A parent names the person by the code printed on the pass they wore (never by an ID number); the case
    takes the person, the school and (for an order's pass) the order from the pass. An unknown code is refused."""
    at(date(2026, 3, 2))
    school = make_school_row(db)
    worn = EntryPass(kind=PassKind.school, code="ABCD2345", link_key="complaint-test-link",
                     person_id=whitelisted["person"].id, school_id=school.id, weekdays=[0], time_slot="16:30-17:30",
                     valid_from=date(2026, 3, 1), valid_until=date(2026, 3, 31), token="", key_id="")
    db.session.add(worn)
    db.session.flush()
    case = complaints.open_case(source="public", category="staff_conduct", summary="上课时言语粗暴",
                                pass_code=" abcd2345 ", complainant_name="王丽", complainant_phone="13870012345")
    assert case.subject_kind == SubjectKind.person and case.person_id == whitelisted["person"].id
    assert case.school_id == school.id and case.region_id == school.county_id and case.pass_code == "ABCD2345"
    with pytest.raises(ValidationFailed) as unknown:
        complaints.open_case(source="public", category="staff_conduct", summary="上课时言语粗暴",
                             pass_code="ZZZZ9999", complainant_name="王丽", complainant_phone="13870012345")
    assert "pass_code" in unknown.value.errors

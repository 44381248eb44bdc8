"""Clearance (docs/domain.md "People, checks and clearance"), computed for a date, with the reasons in Chinese, around
every expiry."""
from datetime import date, datetime, timedelta

import pytest

from registry.people import services
from registry.people.models import PersonBan
from tests.fixtures.providers import id_number_for, pdf_bytes

TODAY = datetime(2027, 3, 1, 4, 0)  # 12:00 in Beijing; every record below is dated before it
D = date(2025, 10, 1)
E = date(2026, 6, 1)  # the default day clearance is computed for
CHECKS = ("criminal", "sexual_offence", "health", "moral")


def _d(days):
    return D + timedelta(days=days)


@pytest.fixture
def make_person(db, provider_admin, frozen_clock):
    """make_person(day, **overrides): a person whose records are all fresh on `day` except what is overridden.

    Overrides: <type>_date, <type>_until, <type>_result, omit=(types), qual_expiry, qual_type, no_qual,
    ban=(start, end).
    """
    frozen_clock(TODAY)
    counter = iter(range(100, 1000))

    def factory(day, omit=(), qual_expiry=None, qual_type="coach", no_qual=False, ban=None, lifted=False, **over):
        person = services.create_person(provider_admin.provider, actor=provider_admin, name="测试",
                                        id_number=id_number_for(next(counter)), gender="male",
                                        phone="13900000000", staff_role="teacher")
        for check_type in CHECKS:
            if check_type in omit:
                continue
            check_date = over.get(f"{check_type}_date", day - timedelta(days=30))
            until = over.get(f"{check_type}_until", day + timedelta(days=200) if check_type == "health" else None)
            services.add_check(person, actor=provider_admin, check_type=check_type,
                               result=over.get(f"{check_type}_result", "clear"), check_date=check_date,
                               valid_until=until, authority="南昌市公安局")
        if not no_qual:
            services.add_qualification(person, actor=provider_admin, qual_type=qual_type, number="Q1",
                                       issuer="江西省体育局", issue_date=date(2024, 1, 1), expiry_date=qual_expiry)
        if ban is not None:
            db.session.add(PersonBan(id_bidx=person.id_bidx, reason="查询结果有不良记录", starts_on=ban[0],
                                     ends_on=ban[1], lifted_at=TODAY if lifted else None))
        db.session.flush()
        db.session.expire(person)
        return person

    return factory


CASES = [
    # (case, day, overrides, required qualification, expected reasons)
    ("all fresh", E, {}, None, []),
    ("criminal check 365 days old", _d(365), {"criminal_date": D}, None, []),
    ("criminal check 366 days old", _d(366), {"criminal_date": D}, None,
     ["违法犯罪记录查询已超过 365 天（查询日期 2025-10-01），须重新查询"]),
    ("sexual-offence check 365 days old", _d(365), {"sexual_offence_date": D}, None, []),
    ("sexual-offence check 366 days old", _d(366), {"sexual_offence_date": D}, None,
     ["性侵违法犯罪信息查询已超过 365 天（查询日期 2025-10-01），须重新查询"]),
    ("criminal check on its own validity end", date(2026, 3, 1),
     {"criminal_date": D, "criminal_until": date(2026, 3, 1)}, None, []),
    ("criminal check a day after its validity end", date(2026, 3, 2),
     {"criminal_date": D, "criminal_until": date(2026, 3, 1)}, None, ["违法犯罪记录查询已于2026-03-01过期"]),
    ("health certificate on its last valid day", date(2026, 10, 1),
     {"health_date": D, "health_until": date(2026, 10, 1)}, None, []),
    ("health certificate a day later", date(2026, 10, 2), {"health_date": D, "health_until": date(2026, 10, 1)}, None,
     ["健康证明已于2026-10-01过期"]),
    ("moral check past its validity end", date(2026, 10, 2), {"moral_date": D, "moral_until": date(2026, 10, 1)}, None,
     ["品德考察已于2026-10-01过期"]),
    ("qualification on its expiry day", date(2026, 10, 1), {"qual_expiry": date(2026, 10, 1)}, None, []),
    ("qualification a day after expiry", date(2026, 10, 2), {"qual_expiry": date(2026, 10, 1)}, None,
     ["无有效的资格证书"]),
    ("expired qualification of the required type", date(2026, 10, 2), {"qual_expiry": date(2026, 10, 1)}, "coach",
     ["无有效的教练员/社会体育指导员证书"]),
    ("no qualification at all", E, {"no_qual": True}, None, ["无有效的资格证书"]),
    ("required qualification type matches", E, {}, "coach", []),
    ("required qualification type mismatch", E, {}, "teacher", ["无有效的教师资格证"]),
    ("missing health certificate", E, {"omit": ("health",)}, None, ["未登记健康证明"]),
    ("missing criminal and moral checks", E, {"omit": ("criminal", "moral")}, None,
     ["未登记违法犯罪记录查询", "未登记品德考察"]),
    ("pending sexual-offence check", E, {"sexual_offence_result": "pending"}, None, ["性侵违法犯罪信息查询结果待出"]),
    # An adverse check bans at once (domain.md rule 5): for the default 3 years from its date (2026-05-02).
    ("adverse criminal check", E, {"criminal_result": "adverse"}, None,
     ["违法犯罪记录查询结果为有不良记录", "该人员已被列入禁入名单（至2029-05-01）"]),
    ("ban active on its last day", date(2026, 12, 31), {"ban": (date(2026, 1, 1), date(2026, 12, 31))}, None,
     ["该人员已被列入禁入名单（至2026-12-31）"]),
    ("ban ended the day before", date(2027, 1, 1), {"ban": (date(2026, 1, 1), date(2026, 12, 31))}, None, []),
    ("ban not started yet", date(2025, 12, 31), {"ban": (date(2026, 1, 1), date(2026, 12, 31))}, None, []),
    ("permanent ban", E, {"ban": (date(2026, 1, 1), None)}, None, ["该人员已被列入禁入名单（永久）"]),
    ("lifted ban", E, {"ban": (date(2026, 1, 1), None), "lifted": True}, None, []),
]


@pytest.mark.parametrize("day, overrides, required, reasons", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_clearance_on_a_date(make_person, day, overrides, required, reasons):
    person = make_person(day, **overrides)
    result = services.clearance(person, day, required_qualification=required)
    assert result.reasons == reasons
    assert result.cleared is (not reasons)


def test_the_latest_check_of_a_type_counts(db, make_person, provider_admin):
    # (A pending result, not an adverse one: an adverse check bans whatever comes after it.)
    person = make_person(E)
    services.add_check(person, actor=provider_admin, check_type="criminal", result="pending",
                       check_date=E - timedelta(days=5), authority="南昌市公安局")
    db.session.expire(person)  # the service adds rows by person_id; reload the collections
    assert services.clearance(person, E).reasons == ["违法犯罪记录查询结果待出"]
    services.add_check(person, actor=provider_admin, check_type="criminal", result="clear",
                       check_date=E - timedelta(days=1), authority="南昌市公安局")
    db.session.expire(person)
    assert services.clearance(person, E).cleared


def test_health_certificate_defaults_to_365_days(db, make_person, provider_admin):
    person = make_person(E, omit=("health",))
    check = services.add_check(person, actor=provider_admin, check_type="health", result="clear", check_date=D,
                               authority="南昌市第一医院")
    assert check.valid_until == date(2026, 10, 1)
    db.session.expire(person)
    assert services.clearance(person, date(2026, 10, 1)).cleared
    assert services.clearance(person, date(2026, 10, 2)).reasons == ["健康证明已于2026-10-01过期"]


def test_items_lapsing_within_30_days_are_flagged(make_person):
    person = make_person(date(2026, 9, 15), health_date=D, health_until=date(2026, 10, 1),
                         qual_expiry=date(2026, 10, 10))
    result = services.clearance(person, date(2026, 9, 15))
    assert result.cleared
    assert result.expiring == [("健康证明", date(2026, 10, 1)), ("教练员/社会体育指导员证书", date(2026, 10, 10))]
    assert services.clearance(person, date(2026, 8, 1)).expiring == []


def test_consent_is_separate_from_clearance(db, make_person, provider_admin):
    person = make_person(E)
    assert services.clearance(person, E).cleared and not services.has_consent(person)
    services.record_consent(person, actor=provider_admin, consent_date=E, upload=("同意书.pdf", pdf_bytes()))
    db.session.expire(person)
    assert services.has_consent(person)

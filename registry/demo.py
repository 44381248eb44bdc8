"""Demo data for `make run`: every capability populated, as a reviewer, provider, school or
member of the public would see it. Idempotent: when the demo providers exist, nothing is added.

History is played through the real services with the clock set to past dates (registration
and publication in September 2026, a delisting in November), then today's sweep runs.
"""
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from stdnum.cn import ric, uscc

from registry.auth import services as auth
from registry.auth.models import User
from registry.core import clock
from registry.extensions import db
from registry.providers.models import Provider
from registry.regions import services as regions

DEMO_PASSWORD = "Kehou#Demo2026"
PAST = date(2026, 9, 1)          # registration, review and the first batch's publicity
FIRST_PUBLISHED = date(2026, 9, 10)
DELISTED_ON = date(2026, 11, 10)

DEMO_USERS = [
    ("admin", "系统管理员", "sys_admin", None),
    ("auditor", "审计管理员", "auditor", None),
    ("nc_city", "南昌市教育局审核员", "city_reviewer", "360100"),
    ("nc_honggutan", "红谷滩区教育局审核员", "county_reviewer", "360113"),
    ("nc_donghu", "东湖区教育局审核员", "county_reviewer", "360102"),
    ("gz_city", "赣州市教育局审核员", "city_reviewer", "360700"),
    ("nc_inspector", "红谷滩区责任督学", "inspector", "360113"),
    # issue 18: supervision (read-only supervisors)
    ("jx_supervisor", "江西省教育厅督导员", "province_supervisor", "360000"),
    ("nc_supervisor", "南昌市教育局督导员", "city_supervisor", "360100"),
]

# key, name, USCC body, org type, county, service counties, offering, where it ends up
PROVIDERS = [
    ("qihang", "南昌启航体育文化发展有限公司", "91360113MA38QH01", "enterprise", "360113", ["360113", "360102"],
     "sports", "published"),
    ("qinghe", "南昌青禾劳动教育服务中心", "52360113MJ80QH04", "private_non_enterprise", "360113", ["360113"],
     "labour", "delisted"),
    ("xinghe", "南昌星河艺术培训有限公司", "91360102MA38XH05", "enterprise", "360102", ["360102", "360113"],
     "arts", "rule_suspended"),
    ("zuqiu", "南昌市少儿足球俱乐部", "51360113MJ80FQ06", "social_organization", "360113", ["360113"],
     "football", "publicity"),
    ("tongxin", "红谷滩区童心阅读推广中心", "52360113MJ80TX07", "private_non_enterprise", "360113", ["360113"],
     "reading", "city_review"),
    ("kepu", "南昌市东湖区小小科学家科普服务中心", "52360102MJ80KP02", "private_non_enterprise", "360102", ["360102"],
     "science", "county_review"),
    ("feiyi", "赣州章贡非遗剪纸传习社", "51360702MJ90FY03", "social_organization", "360702", ["360702"],
     "heritage", "incomplete"),
]

# name, gender, role, specialties, qualification, check age in days on the real date (None = a check is missing)
STAFF = {
    "sports": [("王丽娟", "female", "teacher", "花样跳绳、踢毽子", "coach", 150),
               ("张伟", "male", "teacher", "足球", "coach", 350),
               ("李娜", "female", "assistant", "体育助教", "coach", 120)],
    "labour": [("刘春生", "male", "teacher", "种植、木工", "skill", 140)],
    "arts": [("陈思雨", "female", "teacher", "儿童画、剪纸", "arts", 130)],
    "football": [("黄志强", "male", "teacher", "青少年足球", "coach", 40)],
    "reading": [("林小燕", "female", "teacher", "绘本阅读", "teacher", 30)],
    "science": [("赵敏", "female", "teacher", "青少年科普、机器人", "teacher", 45),
                ("孙浩然", "male", "teacher", "天文观测", "teacher", 45)],
    "heritage": [("周桂英", "female", "teacher", "赣南剪纸（非遗传承人）", "heritage", None),
                 ("吴建国", "male", "teacher", "折纸", "heritage", 50)],
}

# title, category, stages, level, qualification, price, staff indexes
PROJECTS = {
    "sports": [("花样跳绳", "sports", ["lower_primary", "upper_primary"], "beginner", "coach", "3.00", [0, 2]),
               ("趣味足球", "sports", ["upper_primary", "junior"], "advanced", "coach", "4.50", [1])],
    "labour": [("校园小农场", "labour", ["lower_primary", "upper_primary"], "beginner", "skill", "2.00", [0])],
    "arts": [("创意儿童画", "arts", ["lower_primary", "upper_primary"], "beginner", "arts", "4.00", [0])],
    "football": [("足球启蒙", "sports", ["lower_primary"], "beginner", "coach", "3.50", [0])],
    "reading": [("绘本共读", "reading", ["lower_primary"], "beginner", "teacher", "0.00", [0])],
    "science": [("小小科学家：动手做实验", "science", ["lower_primary", "upper_primary"], "beginner", "teacher", "0.00",
                 [0]),
                ("星空观测社", "science", ["junior", "upper_primary"], "advanced", "teacher", "2.00", [1])],
    "heritage": [("赣南剪纸", "intangible_heritage", ["upper_primary", "junior"], "beginner", "heritage", "2.50",
                  [0, 1])],
}

SCHOOLS = [
    # code, name, county, type, students, admin username
    ("2136011301", "南昌市红谷滩区凤凰城小学", "360113", "primary", 1860, "fhc_school"),
    ("2136010201", "南昌市东湖区育新学校", "360102", "nine_year", 2410, "yx_school"),
]
OWN_PROJECTS = [("合唱团", "arts"), ("书法社", "traditional_culture"), ("篮球社", "sports"), ("科学探究", "science"),
                ("经典诵读", "reading"), ("田径队", "sports"), ("美术社", "arts"), ("心理成长课", "mental_health")]
TERM = ("2026—2027学年第一学期", date(2026, 9, 1), date(2027, 1, 22))


# issue 19: who issues each check in the demo (a 品德考察 comes from the community, not a hospital)
CHECK_AUTHORITY = {"criminal": "南昌市公安局红谷滩分局", "sexual_offence": "南昌市公安局红谷滩分局",
                   "health": "南昌市第一医院", "moral": "红谷滩区沙井街道社区居民委员会"}
AREA_CODES = {"3601": "0791", "3607": "0797"}
CHECK_CODES = {"criminal": "01", "sexual_offence": "02", "health": "03", "moral": "04"}
CHECK_FILES = {"criminal": "无犯罪记录证明", "sexual_offence": "性侵违法犯罪信息查询结果", "health": "健康证明",
               "moral": "品德考察表"}
DOC_FILES = {"safety_plan": "安全管理制度", "liability_insurance": "公众责任保险单"}


def _doc_number(doc_type, county_code, uscc_body):
    """Numbers as such papers carry them: a policy number for insurance, a filing number for the rest."""
    if doc_type == "liability_insurance":
        return f"PICC{county_code}{uscc_body[-4:].encode().hex()[:6].upper()}"
    return f"{county_code}-2025-{sum(map(ord, uscc_body)) % 9000 + 1000}"


def _landline(county_code, key):
    """A plausible office landline: the city's area code and eight digits derived from the key."""
    digits = 80000000 + sum(ord(c) * 7919 for c in key) % 10000000
    return f"{AREA_CODES.get(county_code[:4], '0791')}-{digits}"


def _at(day):
    clock.freeze(datetime(day.year, day.month, day.day, 2, 0))


def _uscc(body):
    body = body.ljust(17, "0")[:17]
    return body + uscc.calc_check_digit(body)


def _id_number(birth, seq):
    body = f"360121{birth}{seq:03d}"  # 南昌县： a birthplace code valid for these birth years
    return body + ric.calc_check_digit(body + "0")


def _pdf(title):
    from pypdf import PdfWriter
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def seed():
    regions.seed_jiangxi()
    logins = []
    for username, name, role, region_code in DEMO_USERS:
        user = _user(username)
        if user is None:
            region = regions.get_by_code(region_code) if region_code else None
            user = auth.create_user(username=username, display_name=name, role=role, password=DEMO_PASSWORD,
                                    region_id=region.id if region else None, must_change_password=False)
        logins.append((username, DEMO_PASSWORD, user.role_label))
    _notice_settings()
    if db.session.scalar(select(Provider.id).where(Provider.uscc == _uscc(PROVIDERS[0][2]))) is None:
        real_today = clock.today()
        try:
            _play_history(real_today)
        finally:
            clock.freeze(None)
        from registry.adjustments import sweep
        sweep.run()
    for key, name, *_ in PROVIDERS:
        logins.append((f"{key}_admin", DEMO_PASSWORD, f"机构账号 · {name}"))
    for _code, name, _county, _type, _students, username in SCHOOLS:
        logins.append((username, DEMO_PASSWORD, f"学校管理员 · {name}"))
    logins.append(("fhc_gate", DEMO_PASSWORD, "门卫 · 南昌市红谷滩区凤凰城小学"))  # issue 14: passes
    return logins


# issue 19: 南昌's public-notice settings (the 公示 page, its notice PDF, the announcement)
NOTICE_SETTINGS = {"360100": {
    "notice_contact": "南昌市教育局基础教育处 李老师", "notice_phone": "0791-83987654",
    "objection_address": "南昌市红谷滩区卧龙路999号南昌市教育局基础教育处（邮编 330038）",
    "supervision_phone": "0791-83987600", "doc_number_pattern": "洪教基字〔{year}〕{seq}号"}}


def _notice_settings():
    from registry.policy import services as policy

    for code, values in NOTICE_SETTINGS.items():
        city = regions.get_by_code(code)
        if not policy.for_city(city).doc_number_pattern:
            policy.update_notice_settings(city, actor=_user("admin"), **values)


def _verify_all(app, reviewer):
    """The reviewer verifies every document and check of the submission before passing it (a pass needs it)."""
    from registry.providers.models import VerificationStatus
    from registry.reviews import services as reviews
    docs, checks = reviews.live_items([app.latest_snapshot.data])
    for doc in docs.values():
        if doc.verification_status != VerificationStatus.verified:
            reviews.verify_document(doc, actor=reviewer, ok=True)
    for check in checks.values():
        if check.verification_status != VerificationStatus.verified:
            reviews.verify_check(check, actor=reviewer, ok=True)


def _play_history(real_today):
    from registry.applications import services as applications
    from registry.batches import services as batches
    from registry.reviews import services as reviews

    reviewer = {"city": _user("nc_city"), "360113": _user("nc_honggutan"), "360102": _user("nc_donghu")}
    _at(PAST)
    built = {}
    for spec in PROVIDERS:
        built[spec[0]] = _build_provider(*spec, real_today=real_today)
    # Review and the first batch: published on 2026-09-10.
    first = [k for k, *_rest, path in PROVIDERS if path in ("published", "delisted", "rule_suspended")]
    for key in first:
        app = built[key]["application"]
        applications.submit(app, actor=built[key]["admin"])
        county_reviewer = reviewer[app.county.code if hasattr(app, "county") else built[key]["county"]]
        _verify_all(app, county_reviewer)
        reviews.pass_to_city(app, actor=county_reviewer)
    batch = batches.create_batch(actor=reviewer["city"])
    for key in first:
        batches.add_to_batch(batch, built[key]["application"], actor=reviewer["city"])
    for doc in built["qihang"]["documents"]:
        reviews.verify_document(doc, actor=reviewer["city"], ok=True)
    batches.start_publicity(batch, actor=reviewer["city"])
    _at(FIRST_PUBLISHED)
    batches.publish(batch, actor=reviewer["city"])
    _seed_schools_and_orders(built)
    _seed_schedules(built, reviewer)  # issue 15: schedules
    # 星河: its insurance was renewed with a policy ending on 2026-11-20; nobody renewed it again.
    _at(date(2026, 10, 8))
    from registry.providers import services as providers
    old = next(d for d in built["xinghe"]["documents"] if d.doc_type.value == "liability_insurance")
    providers.upload_document(built["xinghe"]["provider"], actor=built["xinghe"]["admin"],
                              doc_type="liability_insurance", number="PICC-2026-XH", issuer="中国人保南昌分公司",
                              issue_date=date(2025, 11, 21), expiry_date=date(2026, 11, 20), filename="保险单.pdf",
                              data=_pdf("insurance"), replaces_id=old.id)
    # 青禾: delisted and banned after the school's complaint about fees was upheld (issue 17), then appealed.
    _complaint_history(built, reviewer)
    _seed_supervision(built, real_today)  # issue 18: supervision
    # Today: one application at each review stage, and a second batch under publicity with an objection.
    # The real clock, so that nothing is recorded later than the moment the demo was loaded.
    clock.freeze(None)
    for key, *_rest, path in PROVIDERS:
        app = built[key]["application"]
        if path in ("publicity", "city_review", "county_review"):
            applications.submit(app, actor=built[key]["admin"])
        if path in ("publicity", "city_review"):
            _verify_all(app, reviewer[built[key]["county"]])
            reviews.pass_to_city(app, actor=reviewer[built[key]["county"]])
    second = batches.create_batch(actor=reviewer["city"])
    batches.add_to_batch(second, built["zuqiu"]["application"], actor=reviewer["city"])
    batches.start_publicity(second, actor=reviewer["city"])
    batches.file_objection(second, application_id=built["zuqiu"]["application"].id, name="张明",
                             contact="13907911234",
                             content="该俱乐部教练曾在校外培训中要求学生购买指定球鞋，请核实是否存在推销行为。")
    _complaints_today(built, reviewer, real_today)
    _seed_quality(built)  # issue 16: quality


# ---- issue 17: complaints and appeals

def _complaint_history(built, reviewer):
    """凤凰城小学 complains of a 材料费 (2026-11-02); the county upholds it, the city confirms the delisting and
    ban on DELISTED_ON; 青禾 appeals two days later and the appeal is pending."""
    from registry.complaints import services as complaints
    qinghe = built["qinghe"]
    school_admin = _user("fhc_school")
    _at(date(2026, 11, 2))
    case = complaints.open_case(source="school", category="illegal_fees", actor=school_admin,
                                summary="青禾劳动教育服务中心在本校课后服务中以“材料费”名义向每名学生收取60元。",
                                provider_id=qinghe["provider"].id, school_id=school_admin.school_id)
    complaints.acknowledge(case, actor=reviewer["360113"])
    complaints.request_response(case, actor=reviewer["360113"], request="请说明在凤凰城小学收取“材料费”的情况及依据。")
    _at(date(2026, 11, 4))
    complaints.respond(case, actor=qinghe["admin"], response="材料为家长自愿购买，本中心仅代购。")
    _at(date(2026, 11, 6))
    complaints.decide(case, actor=reviewer["360113"], outcome="upheld",
                      reason="经核查，该机构在凤凰城小学以“材料费”名义另行收费，违反公益性收费规定。")
    _at(DELISTED_ON)
    complaints.confirm_sanction(case, actor=reviewer["city"], confirm=True,
                                reason="经核查，该机构在凤凰城小学以“材料费”名义另行收费，违反公益性收费规定。")
    _at(DELISTED_ON + timedelta(days=2))
    from registry.adjustments.models import ActionKind, ProviderAction
    delisting = db.session.scalar(select(ProviderAction).where(ProviderAction.provider_id == qinghe["provider"].id,
                                                               ProviderAction.kind == ActionKind.delisting))
    complaints.file_appeal(qinghe["provider"], actor=qinghe["admin"], subject="delisting", action_id=delisting.id,
                           reasons="所收款项为家长委托代购劳动材料的费用，有家长签字的委托书和购货发票，请求复核。")


def _complaints_today(built, reviewer, real_today):
    """Open complaints in different states: a parent's (received, with a name and phone), an inspector's
    (awaiting the provider's statement) and one filed a week ago that nobody acknowledged (escalated)."""
    from registry.complaints import services as complaints
    from registry.complaints import sweep as complaints_sweep
    school = _user("fhc_school")
    _at(real_today - timedelta(days=7))
    complaints.open_case(source="public", category="service_quality", provider_id=built["xinghe"]["provider"].id,
                         summary="科普课连续三周只放视频，没有动手实验。", school_id=school.school_id,
                         complainant_name="王丽", complainant_phone="13870012345")
    _at(real_today - timedelta(days=1))
    inspected = complaints.open_case(source="inspector", category="new_lessons", actor=_user("nc_inspector"),
                                     provider_id=built["qihang"]["provider"].id, school_id=school.school_id,
                                     summary="督导检查发现课后服务时段在讲授数学新课内容。")
    complaints.acknowledge(inspected, actor=reviewer["360113"])
    complaints.request_response(inspected, actor=reviewer["360113"], request="请说明课后服务时段的教学内容安排。")
    clock.freeze(None)  # today's on the real clock: nothing later than the moment the demo was loaded
    complaints.open_case(source="public", category="forced_participation", school_id=school.school_id,
                         summary="班主任要求全班学生必须报名课后服务，不报名要写说明。",
                         complainant_name="陈刚", complainant_phone="13607915678")
    complaints_sweep.run(real_today)


def _build_provider(key, name, uscc_body, org_type, county_code, service_codes, offering, path, real_today):
    from registry.applications import services as applications
    from registry.people import services as people
    from registry.projects import services as projects
    from registry.providers import services as providers

    county = regions.get_by_code(county_code)
    provider, admin = providers.register_provider(
        name=name, uscc=_uscc(uscc_body), org_type=org_type, legal_representative="刘建华", contact_name="陈晓燕",
        contact_phone=_landline(county_code, key), address=f"{county.full_name}示范路{len(name) * 3}号",
        county_id=county.id, service_county_ids=[regions.get_by_code(c).id for c in service_codes],
        description=f"{name}长期面向中小学生开展公益性课后服务活动，师资稳定，安全制度健全。",
        admin_username=f"{key}_admin", admin_display_name=f"{name}管理员", admin_password=DEMO_PASSWORD,
        admin_email=f"{key}@demo.invalid")
    today = clock.today()
    docs = [(provider.registration_doc_type.value, None), ("safety_plan", None)]
    if path != "incomplete":
        docs.append(("liability_insurance", date(2027, 6, 30)))
    documents = [providers.upload_document(
        provider, actor=admin, doc_type=doc_type, number=_doc_number(doc_type, county_code, uscc_body),
        issuer=f"{county.parent.name}行政审批局", issue_date=today - timedelta(days=400), expiry_date=expiry,
        filename=f"{DOC_FILES.get(doc_type, '登记证书')}.pdf", data=_pdf(doc_type)) for doc_type, expiry in docs]
    staff = []
    for i, (pname, gender, role, specialties, qual, age) in enumerate(STAFF[offering], start=1):
        seq = sum(ord(c) for c in key) % 90 * 10 + i
        person = people.create_person(provider, actor=admin, name=pname,
                                      id_number=_id_number(f"19{78 + i * 3}0{i}1{i}", seq),
                                      gender=gender, phone=f"139079{seq:05d}", staff_role=role, specialties=specialties)
        checked = real_today - timedelta(days=age if age is not None else 60)
        for check_type in ("criminal", "sexual_offence", "health", "moral"):
            if age is None and check_type == "sexual_offence":
                continue
            people.add_check(person, actor=admin, check_type=check_type, result="clear", check_date=min(checked, today),
                             authority=CHECK_AUTHORITY[check_type],
                             reference_no=f"{real_today.year}{CHECK_CODES[check_type]}{seq:05d}",
                             upload=(f"{CHECK_FILES[check_type]}.pdf", _pdf(check_type)))
        people.add_qualification(person, actor=admin, qual_type=qual, number=f"{2018 + i}36{seq:08d}",
                                 issuer="江西省相关主管部门", issue_date=today - timedelta(days=900),
                                 upload=("资格证书.pdf", _pdf("qualification")))
        if not (offering == "heritage" and i == 2):
            people.record_consent(person, actor=admin, consent_date=min(checked, today),
                                  upload=("查询授权同意书.pdf", _pdf("consent")))
        staff.append(person)
    created = []
    for title, category, stages, level, qual, price, members in PROJECTS[offering]:
        created.append(projects.create_project(
            provider, actor=admin, staff_ids=[staff[i].id for i in members], title=title, category=category,
            stages=stages, level=level, required_qualification=qual, price=price,
            description=f"{title}：寓教于乐的兴趣活动，注重安全与参与。",
            syllabus="共16课时：认识与体验、基础技能、综合练习、成果展示。",
            sessions_per_term=16, minutes_per_session=60, class_min=10, class_max=30, venue_needs="普通教室或活动场地",
            safety_measures="课前安全教育，全程专人看护，配备应急药箱。"))
    application = applications.create_application(provider, actor=admin, project_ids=[p.id for p in created])
    return {"provider": provider, "admin": admin, "documents": documents, "staff": staff, "projects": created,
            "application": application, "county": county_code}


def _seed_schools_and_orders(built):
    from registry.orders import services as orders
    from registry.schools.models import School, SchoolProject, SchoolType, Term
    from registry.whitelist.models import WhitelistEntry

    term = Term(name=TERM[0], starts_on=TERM[1], ends_on=TERM[2])
    db.session.add(term)
    schools = {}
    for code, name, county_code, school_type, students, username in SCHOOLS:
        county = regions.get_by_code(county_code)
        school = School(name=name, code=code, county=county, city_id=county.parent_id,
                        school_type=SchoolType(school_type), address=f"{county.name}学府路1号", student_count=students)
        db.session.add(school)
        db.session.flush()
        for i, (own, category) in enumerate(OWN_PROJECTS):
            db.session.add(SchoolProject(school_id=school.id, term_id=term.id, name=own, category=category,
                                         teacher=f"本校教师{i + 1}"))
        schools[username] = (school, auth.create_user(username=username, display_name=f"{name}管理员",
                                                      role="school_admin", password=DEMO_PASSWORD,
                                                      school_id=school.id, must_change_password=False,
                                                      email=f"{username}@demo.invalid"))
    db.session.flush()

    def entry(key, index=0):
        project = built[key]["projects"][index]
        return db.session.scalar(select(WhitelistEntry).where(WhitelistEntry.project_id == project.id))

    def order(username, key, index=0, grades=(3, 4), students=25):
        school, admin = schools[username]
        return orders.create_order(school, actor=admin, entry_id=entry(key, index).id, term_id=term.id,
                                   grades=list(grades), classes="、".join(f"{g}年级兴趣班" for g in grades),
                                   weekdays=[1, 3], time_slot="16:30-17:30", sessions=16, expected_students=students,
                                   venue="学校活动室")

    _at(date(2026, 9, 12))
    q = built["qihang"]
    active = order("fhc_school", "qihang")
    orders.accept_order(active, actor=q["admin"], person_ids=[q["staff"][0].id])
    xh = order("fhc_school", "xinghe")
    orders.accept_order(xh, actor=built["xinghe"]["admin"], person_ids=[built["xinghe"]["staff"][0].id])
    qh = order("fhc_school", "qinghe")
    orders.accept_order(qh, actor=built["qinghe"]["admin"], person_ids=[built["qinghe"]["staff"][0].id])
    order("yx_school", "qihang", index=1, grades=(7,), students=20)  # stays requested
    declined = order("yx_school", "qihang", index=0, grades=(2,), students=28)
    orders.decline_order(declined, actor=q["admin"], reason="周二、周四 16:30 时段教练已排满，可改约周三。")
    cancelled = order("yx_school", "xinghe", grades=(5,), students=22)
    orders.cancel_order(cancelled, actor=schools["yx_school"][1], reason="学校调整了课后服务安排")
    _seed_gate(schools, term)  # issue 14: passes


def _seed_gate(schools, term):
    """Issue 14: a gate keeper at 凤凰城小学 and a retired teacher the school engages itself, with a pass (the
    accepted orders above already gave their staff passes)."""
    from registry.passes import services as passes
    from registry.people import services as people

    school, admin = schools["fhc_school"]
    auth.create_user(username="fhc_gate", display_name="凤凰城小学门卫", role="gate_keeper", password=DEMO_PASSWORD,
                     school_id=school.id, must_change_password=False)
    person = people.create_school_person(school, actor=admin, name="胡建国", id_number=_id_number("19580412", 31),
                                         gender="male", phone="13907910031", engagement="retired_teacher",
                                         specialties="书法")
    day = clock.today()
    for check_type in ("criminal", "sexual_offence", "health", "moral"):
        people.add_check(person, actor=admin, check_type=check_type, result="clear",
                         check_date=day - timedelta(days=40), authority="南昌市公安局红谷滩分局")
    people.add_qualification(person, actor=admin, qual_type="teacher", number="19803601000031",
                             issuer="南昌市教育局", issue_date=date(1980, 7, 1))
    passes.issue_school_pass(school, actor=admin, person_id=person.id, weekdays=[0, 2], time_slot="16:30-17:30",
                             valid_from=day, valid_until=term.ends_on)


# ---- issue 18: supervision

def _seed_supervision(built, real_today):
    """The 红谷滩 inspector has 凤凰城小学 since the term began: visited on 2026-10-15 (the fire extinguishers had
    expired: a task for the school, answered and closed) and on 2026-11-18 (启航's fees were not posted: a task for
    the provider, still open and overdue). 育新学校 in 东湖区 has no inspector yet."""
    from registry.schools.models import School
    from registry.supervision import services as supervision

    inspector, county = _user("nc_inspector"), _user("nc_honggutan")
    school = db.session.scalar(select(School).where(School.code == SCHOOLS[0][0]))
    school_admin = _user(SCHOOLS[0][5])
    _at(date(2026, 9, 1))
    supervision.assign(school, inspector_id=inspector.id, actor=county, started_on=date(2026, 9, 1))
    ok = {"result": "conforms", "note": ""}
    keys = ("schedule_published", "activities_match", "one_plus_n", "passes_valid", "fees_disclosed", "voluntary",
            "no_new_lessons", "safety")
    if date(2026, 10, 25) < real_today:
        _at(date(2026, 10, 15))
        items = {k: dict(ok) for k in keys}
        items["safety"] = {"result": "fails", "note": "体育器材室两具灭火器已过有效期"}
        first = supervision.record_visit(school, actor=inspector, items=items, summary="课后服务秩序良好。",
                                         visited_at=supervision.visit_datetime(date(2026, 10, 15)))
        task = supervision.open_task(first, "safety", actor=inspector, target="school", deadline=date(2026, 10, 25),
                                     requirement="更换过期灭火器，并建立消防器材月检登记。")
        _at(date(2026, 10, 22))
        supervision.respond(task, actor=school_admin, response="已更换两具灭火器，月检登记表已张贴于器材室门口。")
        _at(date(2026, 10, 24))
        supervision.close(task, actor=inspector, note="复查合格")
    if date(2026, 11, 18) < real_today:
        _at(date(2026, 11, 18))
        items = {k: dict(ok) for k in keys}
        items["fees_disclosed"] = {"result": "fails", "note": "启航花样跳绳班未在教室门口公示收费标准"}
        items["passes_valid"] = {"result": "not_applicable", "note": "当日无校外人员入校"}
        second = supervision.record_visit(school, actor=inspector, items=items,
                                          visited_at=supervision.visit_datetime(date(2026, 11, 18)))
        supervision.open_task(second, "fees_disclosed", actor=inspector, target="provider",
                              provider_id=built["qihang"]["provider"].id, deadline=date(2026, 11, 28),
                              requirement="在上课地点公示收费标准（元/人·课时）及监督电话。")


# ---------------------------------------------------------------- issue 16: quality

SURVEY_ANSWERS = [  # satisfaction, interest, safety, extra_fee, voluntary, comment
    ("satisfied", "high", "safe", False, True, "孩子每周都盼着上跳绳课，回家还教弟弟跳。"),
    ("satisfied", "high", "safe", False, True, ""),
    ("basic", "some", "safe", False, True, "希望下课时间能准时一些，方便接孩子。"),
    ("satisfied", "high", "safe", False, True, ""),
    ("dissatisfied", "some", "concerned", False, True, "有一次操场地面湿滑，还在室外上课，担心摔倒。"),
    ("satisfied", "some", "safe", False, True, ""),
    ("basic", "high", "safe", False, True, ""),
    ("satisfied", "high", "safe", False, True, "教练很有耐心。"),
]


def _seed_quality(built):
    """凤凰城小学's order of 启航's 花样跳绳 this term: a sheet of survey codes, some parents' answers and the
    school's term evaluation (entered as a row: the service opens evaluations only in the term's last four weeks,
    and the demo's today may be earlier)."""
    from registry.orders.models import Order
    from registry.quality import services as quality
    from registry.quality.models import Grade, Interest, SafetyFeeling, Satisfaction, SchoolEvaluation
    from registry.schools.models import School

    project = built["qihang"]["projects"][0]
    order = db.session.scalar(select(Order).join(School, School.id == Order.school_id).where(
        Order.project_id == project.id, School.code == SCHOOLS[0][0]))
    if order is None:
        return
    codes = quality.issue_codes(order, actor=_user("fhc_school"))
    for code, (satisfaction, interest, safety, fee, voluntary, comment) in zip(codes, SURVEY_ANSWERS * 2,
                                                                                strict=False):
        quality.answer(code, satisfaction=Satisfaction(satisfaction), interest=Interest(interest),
                       safety=SafetyFeeling(safety), extra_fee=fee, voluntary=voluntary, comment=comment)
    db.session.add(SchoolEvaluation(
        order_id=order.id, term_id=order.term_id, school_id=order.school_id, provider_id=order.provider_id,
        project_id=order.project_id, content=Grade.good, punctuality=Grade.fair, safety=Grade.good,
        engagement=Grade.good, overall=Satisfaction.satisfied, created_by_id=_user("fhc_school").id,
        comment="内容丰富，学生参与积极；个别几次教练迟到约 10 分钟，请加强考勤。"))
    db.session.flush()


# ---- issue 15: schedules. 凤凰城小学 published its fee notice and filed a 1+N schedule (accepted by 红谷滩区);
# 育新学校 filed nothing, so the county sees it as late.

HOMEWORK_TEACHERS = [["陈静", "刘洋", "黄敏", "周婷", "吴芳"], ["徐丽", "孙磊", "马红", "朱琳", "胡军"],
                     ["郭燕", "何平", "高洁", "林峰", "罗娟"]]
ACTIVITY_TEACHERS = [["梁晨", "宋涛", "谢雨", "韩冰", "唐宁"], ["冯雪", "于波", "董梅", "萧然", "程亮"],
                     ["曹阳", "袁媛", "邓超", "许诺", "傅强"]]


def _seed_schedules(built, reviewer):
    from registry.orders.models import Order
    from registry.schedules import services as schedules
    from registry.schools.models import School, SchoolProject

    school = db.session.scalar(select(School).where(School.code == SCHOOLS[0][0]))
    admin = _user(SCHOOLS[0][5])
    term = db.session.scalar(select(Order).where(Order.school_id == school.id)).term
    own = {p.name: p for p in db.session.scalars(select(SchoolProject).where(SchoolProject.school_id == school.id))}
    jump = db.session.scalar(select(Order).where(Order.school_id == school.id,
                                                 Order.project_id == built["qihang"]["projects"][0].id))
    _at(date(2026, 9, 5))
    notice = schedules.save_fee_notice(school, term, actor=admin,
                                       fee_standard="每生每学期 300 元（红谷滩区发改委核定）",
                                       amount=Decimal("300.00"), service_time="周一至周五 16:00–17:40（每次 100 分钟）",
                                       content="作业辅导（1）与科普、体育、艺术、阅读等拓展活动（N）",
                                       subsidy="区财政按每生每学期 100 元补助，低保家庭学生免费")
    schedules.publish_fee_notice(notice, actor=admin)
    n_week = ["科学探究", "篮球社", "美术社", "田径队", "经典诵读"]
    rows = []
    for grades, room in (((1, 2), "一（1）班教室"), ((3, 4), "三（2）班教室"), ((5, 6), "五（1）班教室")):
        for day in range(5):
            third = grades == (3, 4) and day in (1, 3)
            start_n = 990 if third else 1000
            rows.append(dict(grade_from=grades[0], grade_to=grades[1], class_name="", weekday=day, starts_at=960,
                             ends_at=start_n, kind="one", source="own", content="作业辅导", category=None,
                             school_project_id=None, order_id=None, person_id=None,
                             teacher_name=HOMEWORK_TEACHERS[grades[0] // 2][day], venue=room, class_size=45))
            if third:
                rows.append(dict(grade_from=3, grade_to=4, class_name="", weekday=day, starts_at=990, ends_at=1050,
                                 kind="n", source="order", content="", category=None, school_project_id=None,
                                 order_id=jump.id, person_id=built["qihang"]["staff"][0].id, teacher_name="",
                                 venue="学校活动室", class_size=25))
                continue
            name = n_week[(day + grades[0]) % 5] if day else "科学探究"
            project = own[name]
            rows.append(dict(grade_from=grades[0], grade_to=grades[1], class_name="", weekday=day, starts_at=1000,
                             ends_at=1060, kind="n", source="own", content="", category=None,
                             school_project_id=project.id, order_id=None, person_id=None,
                             teacher_name=ACTIVITY_TEACHERS[grades[0] // 2][day],
                             venue="操场" if name in ("篮球社", "田径队") else room, class_size=40))
    _at(date(2026, 9, 20))
    draft = schedules.working_copy(school, term, actor=admin)
    schedules.replace_rows(draft, rows, actor=admin)
    schedules.submit(draft, actor=admin)
    _at(date(2026, 9, 22))
    schedules.accept(draft, actor=reviewer["360113"], comment="符合“1+N”要求，同意备案")

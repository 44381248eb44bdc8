"""Demo data for `make run`: every capability populated, as a reviewer, provider, school or
member of the public would see it. Idempotent: when the demo providers exist, nothing is added.

History is played through the real services with the clock set to past dates (registration
and publication in September 2026, a delisting in November), then today's sweep runs.
"""
import io
from datetime import date, datetime, timedelta

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
    # 星河: its insurance was renewed with a policy ending on 2026-11-20; nobody renewed it again.
    _at(date(2026, 10, 8))
    from registry.providers import services as providers
    old = next(d for d in built["xinghe"]["documents"] if d.doc_type.value == "liability_insurance")
    providers.upload_document(built["xinghe"]["provider"], actor=built["xinghe"]["admin"],
                              doc_type="liability_insurance", number="PICC-2026-XH", issuer="中国人保南昌分公司",
                              issue_date=date(2025, 11, 21), expiry_date=date(2026, 11, 20), filename="保险单.pdf",
                              data=_pdf("insurance"), replaces_id=old.id)
    # 青禾: delisted by hand after an upheld complaint about fees.
    _at(DELISTED_ON)
    from registry.adjustments import services as adjustments
    adjustments.delist(built["qinghe"]["provider"], actor=reviewer["city"], reason_category="illegal_fees",
                       reason="经核查，该机构在凤凰城小学以“材料费”名义另行收费，违反公益性收费规定。",
                       ban_until=adjustments.default_ban_end(built["qinghe"]["provider"]))
    # Today: one application at each review stage, and a second batch under publicity with an objection.
    _at(real_today)
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


def _build_provider(key, name, uscc_body, org_type, county_code, service_codes, offering, path, real_today):
    from registry.applications import services as applications
    from registry.people import services as people
    from registry.projects import services as projects
    from registry.providers import services as providers

    county = regions.get_by_code(county_code)
    provider, admin = providers.register_provider(
        name=name, uscc=_uscc(uscc_body), org_type=org_type, legal_representative="刘建华", contact_name="陈晓燕",
        contact_phone=f"0791-8{uscc_body[-4:]}66", address=f"{county.parent.name}{county.name}示范路{len(name) * 3}号",
        county_id=county.id, service_county_ids=[regions.get_by_code(c).id for c in service_codes],
        description=f"{name}长期面向中小学生开展公益性课后服务活动，师资稳定，安全制度健全。",
        admin_username=f"{key}_admin", admin_display_name=f"{name[:8]}管理员", admin_password=DEMO_PASSWORD,
        admin_email=f"{key}@demo.invalid")
    today = clock.today()
    docs = [(provider.registration_doc_type.value, None), ("safety_plan", None)]
    if path != "incomplete":
        docs.append(("liability_insurance", date(2027, 6, 30)))
    documents = [providers.upload_document(
        provider, actor=admin, doc_type=doc_type, number=f"{uscc_body[-4:]}-{doc_type[:4].upper()}",
        issuer=f"{county.parent.name}行政审批局", issue_date=today - timedelta(days=400), expiry_date=expiry,
        filename=f"{doc_type}.pdf", data=_pdf(doc_type)) for doc_type, expiry in docs]
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
                             authority="公安机关" if check_type in ("criminal", "sexual_offence") else "南昌市第一医院",
                             reference_no=f"{check_type[:3].upper()}{seq:05d}",
                             upload=(f"{check_type}.pdf", _pdf(check_type)))
        people.add_qualification(person, actor=admin, qual_type=qual, number=f"{qual.upper()}-{seq:06d}",
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

"""Demo data for `make run`. Idempotent: what exists already is left as it is."""
import io
from datetime import timedelta

from sqlalchemy import select
from stdnum.cn import ric, uscc

from registry.auth import services as auth
from registry.auth.models import User
from registry.core import clock
from registry.extensions import db
from registry.providers.models import Provider
from registry.regions import services as regions

DEMO_PASSWORD = "Kehou#Demo2026"

DEMO_USERS = [
    # username, display name, role, region code
    ("admin", "系统管理员", "sys_admin", None),
    ("auditor", "审计管理员", "auditor", None),
    ("nc_city", "南昌市教育局审核员", "city_reviewer", "360100"),
    ("nc_honggutan", "红谷滩区教育局审核员", "county_reviewer", "360113"),
    ("nc_donghu", "东湖区教育局审核员", "county_reviewer", "360102"),
    ("gz_city", "赣州市教育局审核员", "city_reviewer", "360700"),
    ("nc_inspector", "红谷滩区责任督学", "inspector", "360113"),
]

# name, USCC body (17 chars), org type, county, services, admin username, dossier kind
DEMO_PROVIDERS = [
    ("南昌启航体育文化发展有限公司", "91360113MA38QH01", "enterprise", "360113", ["360113", "360102"],
     "qihang", "complete_submitted"),
    ("南昌市东湖区小小科学家科普服务中心", "52360102MJ80KP02", "private_non_enterprise", "360102", ["360102"],
     "kepu", "complete_draft"),
    ("赣州章贡非遗剪纸传习社", "51360702MJ90FY03", "social_organization", "360702", ["360702"],
     "feiyi", "incomplete"),
]


def _uscc(body):
    body = body.ljust(17, "0")[:17]
    return body + uscc.calc_check_digit(body)


def _id_number(prefix, birth, seq):
    body = f"{prefix}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _pdf(title):
    from pypdf import PdfWriter
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def seed():
    regions.seed_jiangxi()
    logins = []
    for username, name, role, region_code in DEMO_USERS:
        user = _db_user(username)
        if user is None:
            region = regions.get_by_code(region_code) if region_code else None
            user = auth.create_user(username=username, display_name=name, role=role, password=DEMO_PASSWORD,
                                    region_id=region.id if region else None, must_change_password=False)
        logins.append((username, DEMO_PASSWORD, user.role_label))
    for spec in DEMO_PROVIDERS:
        admin = _seed_provider(*spec)
        logins.append((admin.username, DEMO_PASSWORD, f"机构账号 · {admin.provider.name}"))
    return logins


def _db_user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _seed_provider(name, uscc_body, org_type, county_code, service_codes, username, kind):
    from registry.applications import services as applications
    from registry.providers import services as providers

    code = _uscc(uscc_body)
    if db.session.scalar(select(Provider.id).where(Provider.uscc == code)) is not None:
        return _db_user(f"{username}_admin")
    county = regions.get_by_code(county_code)
    provider, admin = providers.register_provider(
        name=name, uscc=code, org_type=org_type, legal_representative="刘建华", contact_name="陈晓燕",
        contact_phone="0791-8888" + uscc_body[-4:], address=f"{county.parent.name}{county.name}示范路{len(name)}号",
        county_id=county.id, service_county_ids=[regions.get_by_code(c).id for c in service_codes],
        description=f"{name}长期面向中小学生开展公益性课后服务活动。", admin_username=f"{username}_admin",
        admin_display_name=f"{name[:6]}管理员", admin_password=DEMO_PASSWORD,
    )
    today = clock.today()
    docs = [(provider.registration_doc_type.value, None), ("safety_plan", None)]
    if kind != "incomplete":
        docs.append(("liability_insurance", today + timedelta(days=200)))
    for doc_type, expiry in docs:
        providers.upload_document(provider, actor=admin, doc_type=doc_type, number=f"{uscc_body[-4:]}-{doc_type[:4].upper()}",
                                  issuer=f"{county.parent.name}行政审批局", issue_date=today - timedelta(days=400),
                                  expiry_date=expiry, filename=f"{doc_type}.pdf", data=_pdf(doc_type))
    staff = _seed_staff(provider, admin, kind, county_code)
    projects = _seed_projects(provider, admin, kind, staff)
    if kind in ("complete_submitted", "complete_draft"):
        app = applications.create_application(provider, actor=admin, project_ids=[p.id for p in projects])
        if kind == "complete_submitted":
            applications.submit(app, actor=admin)
    elif kind == "incomplete":
        applications.create_application(provider, actor=admin, project_ids=[p.id for p in projects])
    db.session.flush()
    return admin


STAFF = {
    # name, gender, role, specialties, qualification, state
    "complete_submitted": [("王丽娟", "female", "teacher", "花样跳绳、踢毽子", "coach", "clear"),
                           ("张伟", "male", "teacher", "足球", "coach", "expiring"),
                           ("李娜", "female", "assistant", "体育助教", "coach", "clear")],
    "complete_draft": [("赵敏", "female", "teacher", "青少年科普、机器人", "teacher", "clear"),
                       ("孙浩然", "male", "teacher", "天文观测", "teacher", "clear")],
    "incomplete": [("周桂英", "female", "teacher", "赣南剪纸(非遗传承人)", "heritage", "missing_check"),
                   ("吴建国", "male", "teacher", "折纸", "heritage", "no_consent")],
}


def _seed_staff(provider, admin, kind, county_code):
    from registry.people import services as people

    today = clock.today()
    created = []
    for i, (name, gender, role, specialties, qual, state) in enumerate(STAFF[kind], start=1):
        birth = f"19{75 + i * 4}0{i}1{i}"
        person = people.create_person(provider, actor=admin, name=name,
                                      id_number=_id_number("360121", birth, provider.id * 10 + i),
                                      gender=gender, phone=f"1390791{provider.id:02d}{i:02d}", staff_role=role,
                                      specialties=specialties)
        age = 350 if state == "expiring" else 60
        for check_type in ("criminal", "sexual_offence", "health", "moral"):
            if state == "missing_check" and check_type == "sexual_offence":
                continue
            people.add_check(person, actor=admin, check_type=check_type, result="clear",
                             check_date=today - timedelta(days=age), authority="公安机关/卫生健康部门",
                             reference_no=f"{check_type[:3].upper()}{provider.id}{i:03d}",
                             upload=(f"{check_type}.pdf", _pdf(check_type)))
        people.add_qualification(person, actor=admin, qual_type=qual, number=f"{qual.upper()}-{provider.id}{i:04d}",
                                 issuer="江西省相关主管部门", issue_date=today - timedelta(days=900),
                                 upload=("资格证书.pdf", _pdf("qualification")))
        if state != "no_consent":
            people.record_consent(person, actor=admin, consent_date=today - timedelta(days=age + 1),
                                  upload=("查询授权同意书.pdf", _pdf("consent")))
        created.append(person)
    return created


PROJECTS = {
    "complete_submitted": [
        dict(title="花样跳绳", category="sports", stages=["lower_primary", "upper_primary"], level="beginner",
             required_qualification="coach", price="3.00", staff=[0, 2]),
        dict(title="趣味足球", category="sports", stages=["upper_primary", "junior"], level="advanced",
             required_qualification="coach", price="4.50", staff=[1]),
    ],
    "complete_draft": [
        dict(title="小小科学家:动手做实验", category="science", stages=["lower_primary", "upper_primary"],
             level="beginner", required_qualification="teacher", price="0.00", staff=[0]),
        dict(title="星空观测社", category="science", stages=["junior"], level="advanced",
             required_qualification="teacher", price="2.00", staff=[1]),
    ],
    "incomplete": [
        dict(title="赣南剪纸", category="intangible_heritage", stages=["upper_primary", "junior"], level="beginner",
             required_qualification="heritage", price="2.50", staff=[0, 1]),
    ],
}


def _seed_projects(provider, admin, kind, staff):
    from registry.projects import services as projects

    created = []
    for spec in PROJECTS[kind]:
        spec = dict(spec)
        members = [staff[i] for i in spec.pop("staff")]
        created.append(projects.create_project(
            provider, actor=admin, staff_ids=[p.id for p in members],
            description=f"{spec['title']}:面向{'、'.join(['小学低年级', '小学高年级', '初中'][:len(spec['stages'])])}学生的兴趣活动,寓教于乐。",
            syllabus="共16课时:认识与体验、基础技能、综合练习、成果展示。", sessions_per_term=16, minutes_per_session=60,
            class_min=10, class_max=30, venue_needs="普通教室或活动室", safety_measures="课前安全教育,全程专人看护,配备应急药箱。",
            **spec))
    return created

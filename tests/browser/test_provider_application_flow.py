"""Issue 3 browser test: a brand-new organisation registers → uploads its documents → adds a person with checks,
a qualification and the signed consent → adds a service project → submits its application (申报).

Everything goes through the real pages of the live server (CSRF on), in Debian's chromium. Fields are found by
their labels, forms by their buttons. Screenshots go to test-output/screenshots/.
"""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfWriter
from stdnum.cn import ric, uscc

pytestmark = pytest.mark.browser

ORG_NAME = "南昌跃动少儿体育发展有限公司"
ADMIN = "yuedong_admin"
ADMIN_PASSWORD = "Yuedong#2026"
PERSON = "周晓梅"
PROJECT = "花样跳绳"
COACH = "教练员/社会体育指导员证书"
REQUIRED_DOCUMENTS = ("营业执照", "公众责任保险", "安全管理制度及应急预案")
CHECKS = ("违法犯罪记录查询", "性侵违法犯罪信息查询", "健康证明", "品德考察")

# The machine running the suite may be slow: wait longer than Playwright's 5 s default before failing.
SLOW_MACHINE_TIMEOUT_MS = 30_000


def valid_uscc():
    """A 统一社会信用代码 for 红谷滩区 (3601 13) that no demo provider uses; python-stdnum computes the check
    character."""
    body = "91360113MA3987654"
    return body + uscc.calc_check_digit(body)


def valid_id_number():
    """A resident ID number: 东湖区 (360102) birthplace, born 1993-05-14; python-stdnum computes the check digit."""
    body = "36010219930514" + "236"
    return body + ric.calc_check_digit(body + "0")


def nanchang_price_cap(live_server):
    """南昌's cap as the server's policy has it, formatted as the project form shows it."""
    from registry.extensions import db
    from registry.policy import services as policy
    from registry.regions import services as regions
    with live_server.app.app_context():
        try:
            return f"{policy.for_city(regions.get_by_code('360100')).price_cap:.2f} 元/人·课时"
        finally:
            db.session.remove()


def write_pdf(path, title):
    """A small one-page PDF without active content."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A user in 江西： zh-CN Accept-Language and China time. (Debian's chromium ships only en-US UI strings, so
    native widgets such as date pickers and file inputs still read in English in the screenshots.)"""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def patient_page(page: Page):
    """The page, with longer waits for actions, navigation and assertions; the defaults come back afterwards."""
    page.set_default_timeout(SLOW_MACHINE_TIMEOUT_MS)
    page.set_default_navigation_timeout(SLOW_MACHINE_TIMEOUT_MS)
    expect.set_options(timeout=SLOW_MACHINE_TIMEOUT_MS)
    try:
        yield page
    finally:
        expect.set_options(timeout=5_000)


def form_with_button(page: Page, button):
    """The form that holds the submit button named `button` (a page may carry several forms with the same labels)."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def submit(page: Page, button):
    """Click a form's submit button and wait for the page the server answers with (a flash may already be showing)."""
    with page.expect_navigation():
        button.click()


def expect_saved(page: Page, message):
    """The flash `message` after a form post; a refused form (its errors are alerts) fails with what it said."""
    saved = page.get_by_role("status").filter(has_text=message)
    expect(saved.or_(page.get_by_role("alert")).first).to_be_visible()
    refused = page.get_by_role("alert").all_inner_texts()
    assert not refused, f"the form was refused: {refused}"
    expect(saved).to_be_visible()


# ---------------------------------------------------------------- the steps

def register(page: Page, code):
    page.goto("/register")
    expect(page.get_by_role("heading", name="第三方机构注册")).to_be_visible()
    page.get_by_label("机构名称").fill(ORG_NAME)
    page.get_by_label("统一社会信用代码").fill(code)
    page.get_by_label("机构类型").select_option(label="企业")
    page.get_by_label("法定代表人").fill("邓志刚")
    page.get_by_label("联系人").fill("邹丽萍")
    page.get_by_label("联系电话").fill("13907915566")
    page.get_by_label("办公地址").fill("南昌市红谷滩区丰和中大道 1188 号")
    page.get_by_label("注册地").select_option(label="红谷滩区")
    served = page.get_by_role("group", name=re.compile("服务的县"))
    served.locator("summary").filter(has_text="南昌市").click()  # the city's counties are folded away
    served.get_by_label("红谷滩区").check()
    served.get_by_label("东湖区").check()
    page.get_by_label("机构简介").fill("专注少儿花样跳绳、体能训练，教练均持有社会体育指导员证书。")
    page.get_by_label("用户名").fill(ADMIN)
    page.get_by_label("姓名").fill("邹丽萍")
    page.get_by_label(re.compile(r"^密码")).fill(ADMIN_PASSWORD)
    page.get_by_label("确认密码").fill(ADMIN_PASSWORD)
    submit(page, page.get_by_role("button", name="注册", exact=True))
    expect_saved(page, "注册成功")
    expect(page).to_have_url(re.compile(r"/provider$"))
    expect(page.get_by_role("heading", name=ORG_NAME, level=1)).to_be_visible()
    expect(page.locator("dl.kv")).to_contain_text(code)
    expect(page.locator("dl.kv")).to_contain_text("红谷滩区")


def upload_documents(page: Page, tmp_path, today):
    page.goto("/provider/documents")
    expect(page.get_by_role("heading", name="资质材料", level=1)).to_be_visible()
    for doc_type in REQUIRED_DOCUMENTS:
        expect(page.locator("table.checklist")).to_contain_text(f"缺少{doc_type}")
    uploads = [
        ("营业执照", "91-HGT-2024-0815", "南昌市红谷滩区市场监督管理局", today - timedelta(days=400), None),
        ("公众责任保险", "PICC-2026-YD-0031", "中国人民财产保险南昌分公司", today - timedelta(days=60),
         today + timedelta(days=300)),
        ("安全管理制度及应急预案", "YD-AQ-2026-01", "南昌跃动少儿体育发展有限公司", today - timedelta(days=90), None),
    ]
    for doc_type, number, issuer, issued, expires in uploads:
        form = form_with_button(page, "上传")
        form.get_by_label("材料类型").select_option(label=doc_type)
        form.get_by_label("证照编号").fill(number)
        form.get_by_label("发证机关").fill(issuer)
        form.get_by_label("发证（生效）日期").fill(issued.isoformat())
        if expires is not None:
            form.get_by_label("有效期至").fill(expires.isoformat())
        form.get_by_label("文件").set_input_files(write_pdf(tmp_path / f"{doc_type}.pdf", doc_type))
        submit(page, form.get_by_role("button", name="上传", exact=True))
        expect_saved(page, f"已上传{doc_type}")
        expect(page).to_have_url(re.compile(r"/provider/documents$"))

    current = page.locator("section").filter(has=page.get_by_role("heading", name="现行材料"))
    for doc_type, number, _issuer, _issued, expires in uploads:
        row = current.locator("tbody tr").filter(has_text=number)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(doc_type)
        expect(row.get_by_role("link", name=f"{doc_type}.pdf")).to_be_visible()  # the original Chinese file name
        expect(row).to_contain_text(expires.isoformat() if expires else "长期")
    expect(page.get_by_text("必备材料已齐备。")).to_be_visible()


def add_person(page: Page, tmp_path, today, id_number):
    page.goto("/provider/people/new")
    expect(page.get_by_role("heading", name="登记人员")).to_be_visible()
    page.get_by_label("姓名").fill(PERSON)
    page.get_by_label("身份证号码").fill(id_number)
    page.get_by_label("性别").select_option(label="女")
    page.get_by_label("手机号").fill("13607918899")
    page.get_by_label("岗位").select_option(label="授课教师")
    page.get_by_label("专长").fill("花样跳绳、体能训练")
    submit(page, page.get_by_role("button", name="登记", exact=True))

    expect_saved(page, f"已登记人员 {PERSON}")
    expect(page).to_have_url(re.compile(r"/provider/people/\d+$"))
    expect(page.get_by_role("heading", name=PERSON, level=1)).to_be_visible()
    masked = id_number[:6] + "*" * 8 + id_number[-4:]
    expect(page.locator("dl.kv")).to_contain_text(masked)
    expect(page.locator("body")).not_to_contain_text(id_number)

    for number, check_type in enumerate(CHECKS, start=1):
        form = form_with_button(page, "添加记录")
        form.get_by_label("类型").select_option(label=check_type)
        form.get_by_label("结果").select_option(label="无异常")
        form.get_by_label("查询/体检日期").fill((today - timedelta(days=20 + number)).isoformat())
        form.get_by_label("出具机关").fill("南昌市公安局红谷滩分局" if number <= 2 else "南昌市第一医院")
        form.get_by_label("文书编号").fill(f"NC-2026-{number:04d}")
        submit(page, form.get_by_role("button", name="添加记录", exact=True))
        expect_saved(page, "查询记录已添加")
        expect(page.locator("#check table tbody tr")).to_have_count(number)
    checks = page.locator("#check table tbody tr")
    expect(checks).to_have_count(len(CHECKS))
    for check_type in CHECKS:
        expect(checks.filter(has_text=check_type)).to_contain_text("无异常")

    form = form_with_button(page, "添加证书")
    form.get_by_label("证书类型").select_option(label=COACH)
    form.get_by_label("证书名称").fill("社会体育指导员（跳绳）")
    form.get_by_label("证书编号").fill("TY-2022-360113-0456")
    form.get_by_label("发证机关").fill("江西省体育局")
    form.get_by_label("发证日期").fill((today - timedelta(days=800)).isoformat())
    form.get_by_label("证书扫描件").set_input_files(write_pdf(tmp_path / "教练员证书.pdf", "coach"))
    submit(page, form.get_by_role("button", name="添加证书", exact=True))
    expect_saved(page, "资格证书已添加")
    expect(page.locator("#qual table tbody tr").filter(has_text="TY-2022-360113-0456")).to_contain_text(COACH)

    form = form_with_button(page, "登记同意书")
    form.get_by_label("签署日期").fill((today - timedelta(days=25)).isoformat())
    form.get_by_label("本人签署的同意书").set_input_files(write_pdf(tmp_path / "授权同意书.pdf", "consent"))
    submit(page, form.get_by_role("button", name="登记同意书", exact=True))
    expect_saved(page, "授权同意书已登记")
    expect(page.locator("#consent").get_by_role("link", name="授权同意书.pdf")).to_be_visible()
    expect(page.locator("dl.kv")).to_contain_text("已签署")
    expect(page.locator("#clearance")).to_contain_text("已准入")
    expect(page.locator("#clearance")).not_to_contain_text("未准入")
    expect(page.locator("body")).not_to_contain_text(id_number)
    return masked


def add_project(page: Page, price_cap_text):
    page.goto("/provider/projects/new")
    expect(page.get_by_role("heading", name="添加服务项目")).to_be_visible()
    page.get_by_label("项目名称").fill(PROJECT)
    page.get_by_label("活动类别").select_option(label="体育")
    stages = page.get_by_role("group", name=re.compile("适用学段"))
    stages.get_by_label("小学低年级").check()
    stages.get_by_label("小学高年级").check()
    page.get_by_label("层次").select_option(label="零起点入门")
    page.get_by_label("项目简介").fill("单摇、双摇、交叉跳和集体长绳，发展协调性和耐力，培养团队合作。")
    page.get_by_label("教学大纲").fill("第1–4课：单摇基本功；第5–8课：花样单人跳；第9–12课：长绳集体跳；第13–16课：展示与评价。")
    page.get_by_label("每学期课次").fill("16")
    page.get_by_label("每课时长").fill("60")
    page.get_by_label("班额下限").fill("10")
    page.get_by_label("班额上限").fill("30")
    price = page.get_by_label("收费标准")
    price.fill("3.00")
    expect(page.locator(".field").filter(has=price)).to_contain_text(price_cap_text)
    page.get_by_label("场地要求").fill("室内体育馆或平整操场，每人 4 平方米")
    page.get_by_label("安全保障措施").fill("课前热身和器材检查；教练全程在场；配备急救包；遇雨改在室内。")
    page.get_by_label("授课人员须持有的资质").select_option(label=COACH)
    staff = page.get_by_role("group", name="指派人员")
    staff.get_by_label(PERSON).check()
    expect(staff.locator("tr").filter(has_text=PERSON)).to_contain_text("已准入")
    submit(page, page.get_by_role("button", name="保存", exact=True))
    expect_saved(page, f"已添加服务项目“{PROJECT}”")
    expect(page).to_have_url(re.compile(r"/provider/projects/\d+$"))
    expect(page.get_by_role("heading", name=f"编辑服务项目：{PROJECT}")).to_be_visible()
    expect(page.get_by_label("授课人员须持有的资质")).to_have_value("coach")
    expect(page.get_by_role("group", name="指派人员").get_by_label(PERSON)).to_be_checked()


def submit_application(page: Page):
    page.goto("/provider/application")
    expect(page.get_by_role("heading", name="发起申报")).to_be_visible()
    chooser = form_with_button(page, "创建申报草稿")
    row = chooser.locator("tbody tr").filter(has_text=PROJECT)
    expect(row).to_contain_text("3.00 元/人·课时")
    expect(row).to_contain_text("1 人（今日准入 1 人）")
    chooser.get_by_label(PROJECT).check()
    expect(chooser.get_by_label(re.compile("准入"))).to_be_checked()
    submit(page, chooser.get_by_role("button", name="创建申报草稿"))
    expect_saved(page, "已创建申报草稿")
    expect(page).to_have_url(re.compile(r"/provider/application$"))
    heading = page.get_by_role("heading", level=1).filter(has_text="准入申报")
    expect(heading).to_contain_text("草稿")
    checklist = page.locator("section").filter(has=page.get_by_role("heading", name="完整性清单"))
    expect(checklist).to_contain_text("材料已齐全，可以提交申报。")
    expect(checklist.locator("ul.checklist li")).to_have_count(0)
    button = checklist.get_by_role("button", name="提交申报")
    expect(button).to_be_enabled()
    submit(page, button)
    expect_saved(page, "申报已提交")
    expect(page).to_have_url(re.compile(r"/provider/applications/\d+$"))
    # 南昌 requires a county first review by default: the submitted application goes to 县级初审.
    expect(page.get_by_role("heading", level=1)).to_contain_text("县级初审中")


def check_snapshot(page: Page, code, masked, id_number):
    expect(page.get_by_text("第 1 次提交")).to_be_visible()
    org = page.locator("section").filter(has=page.get_by_role("heading", name="机构信息"))
    expect(org).to_contain_text(ORG_NAME)
    expect(org).to_contain_text(code)
    docs = page.locator("section").filter(has=page.get_by_role("heading", name="资质材料"))
    for doc_type in REQUIRED_DOCUMENTS:
        expect(docs.locator("tbody tr").filter(has_text=doc_type)).to_have_count(1)
    people = page.locator("section").filter(has=page.get_by_role("heading", name=re.compile("从业人员")))
    expect(people.get_by_role("heading", name=PERSON)).to_contain_text("提交时已准入")
    expect(people).to_contain_text(masked)
    for check_type in CHECKS:
        expect(people.locator("tbody tr").filter(has_text=check_type)).to_contain_text("无异常")
    expect(page.locator("body")).to_contain_text(PROJECT)
    # The full ID number is nowhere on the page, not even in the markup.
    assert id_number not in page.content()


def test_new_provider_registers_builds_dossier_and_submits_application(
        patient_page: Page, live_server, screenshot_dir, tmp_path):
    page = patient_page
    today = date.today()
    code = valid_uscc()
    id_number = valid_id_number()

    register(page, code)
    page.screenshot(path=str(screenshot_dir / "register.png"), full_page=True)

    upload_documents(page, tmp_path, today)
    page.screenshot(path=str(screenshot_dir / "documents.png"), full_page=True)

    masked = add_person(page, tmp_path, today, id_number)
    page.screenshot(path=str(screenshot_dir / "person.png"), full_page=True)

    add_project(page, nanchang_price_cap(live_server))
    page.screenshot(path=str(screenshot_dir / "project.png"), full_page=True)

    submit_application(page)
    check_snapshot(page, code, masked, id_number)
    page.screenshot(path=str(screenshot_dir / "application-submitted.png"), full_page=True)

    # Back on the application page the open application is under county review and can still be withdrawn.
    page.goto("/provider/application")
    expect(page.get_by_role("heading", level=1)).to_contain_text("县级初审中")
    expect(page.get_by_role("button", name="撤回申报")).to_be_visible()

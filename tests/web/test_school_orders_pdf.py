"""The service confirmation (服务确认单): both parties, project and price, schedule, staff with masked IDs
only, entry and batch; CJK fonts embedded; only the order's school and provider may get it."""
import re
import subprocess

import pytest

from registry.core.pdf import embedded_fonts
from registry.orders import services as orders
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import client_as
from tests.fixtures.schools import make_school_row

FULL_ID = re.compile(r"\d{17}[\dXx]")


def _text(data, tmp_path):
    path = tmp_path / "confirmation.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def accepted(db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    db.session.flush()
    return {**whitelisted, **ordering_school, "order": order, "provider_admin": whitelisted["admin"]}


def test_confirmation_pdf(app, db, accepted, tmp_path):
    order, school, provider, person = accepted["order"], accepted["school"], accepted["provider"], accepted["person"]
    response = client_as(app, accepted["admin"]).get(f"/orders/{order.id}/confirmation.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    fonts = embedded_fonts(response.data)
    assert fonts and any("CJK" in name for name in fonts), fonts
    text = _text(response.data, tmp_path)
    compact = re.sub(r"\s+", "", text)
    for part in ("课后服务项目服务确认单", school.name, school.code, provider.name, provider.uscc, "花样跳绳",
                 "3.00元/人·课时", "1800.00元", "3.00元×25人×24课时（16次）", "2025—2026学年第二学期", "每周周二、周四",
                 "16:30-17:30", "三（1）班、四（2）班", "三年级、四年级", "学校操场", person.name, person.id_masked,
                 f"第{order.entry_id}号", "南昌市教育局2026年第1批", f"FW-{school.code}-{order.id:06d}"):
        assert re.sub(r"\s+", "", part) in compact, part
    assert not FULL_ID.search(text) and not FULL_ID.search(compact)
    # issue 19: 乙方 (the provider) can be reached, and the fee clause binds it, not the school.
    assert provider.contact_phone in compact
    assert "乙方不得以任何名义向学生或家长收取" in compact and "甲方不得" not in compact
    assert "第1页/共1页" in compact


def test_the_provider_of_the_order_gets_it_too(app, db, accepted):
    response = client_as(app, accepted["provider_admin"]).get(f"/orders/{accepted['order'].id}/confirmation.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_nobody_else_gets_it(app, db, accepted, create_user, login_as):
    order_id = accepted["order"].id
    other_school = create_user("school_admin", school_id=make_school_row(db).id)
    other_provider = create_user("provider_admin")
    for user in (other_school, other_provider):
        assert client_as(app, user).get(f"/orders/{order_id}/confirmation.pdf").status_code == 404
    for role in ("city_reviewer", "county_reviewer", "sys_admin"):
        client, _user = login_as(role)
        assert client.get(f"/orders/{order_id}/confirmation.pdf").status_code == 403


def test_no_confirmation_before_the_provider_accepts(app, db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    browser = client_as(app, ordering_school["admin"])
    response = browser.get(f"/orders/{order.id}/confirmation.pdf")
    assert response.status_code == 409 and "机构接单后才有服务确认单" in response.get_data(as_text=True)
    assert "服务确认单（PDF）" not in browser.get(f"/school/orders/{order.id}").get_data(as_text=True)

"""Demo data for `make run`. Idempotent: existing rows are left as they are."""
from sqlalchemy import select

from registry.auth import services as auth
from registry.auth.models import User
from registry.regions import services as regions

DEMO_PASSWORD = "Kehou#Demo2026"

DEMO_USERS = [
    # username, display name, role, region code
    ("admin", "系统管理员", "sys_admin", None),
    ("auditor", "审计管理员", "auditor", None),
    ("nc_city", "南昌市教育局审核员", "city_reviewer", "360100"),
    ("nc_honggutan", "红谷滩区教育局审核员", "county_reviewer", "360113"),
    ("gz_city", "赣州市教育局审核员", "city_reviewer", "360700"),
    ("nc_inspector", "红谷滩区责任督学", "inspector", "360113"),
]


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
    return logins


def _db_user(username):
    from registry.extensions import db
    return db.session.scalar(select(User).where(User.username == username))

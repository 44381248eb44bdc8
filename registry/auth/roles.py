"""Roles of docs/domain.md "Roles and jurisdiction" and the scope each one is bound to."""
import enum


class Role(str, enum.Enum):
    city_reviewer = "city_reviewer"
    county_reviewer = "county_reviewer"
    inspector = "inspector"
    school_admin = "school_admin"
    provider_admin = "provider_admin"
    sys_admin = "sys_admin"
    auditor = "auditor"


ROLE_LABELS = {
    Role.city_reviewer: "市教育局审核员",
    Role.county_reviewer: "县（市、区）教育局审核员",
    Role.inspector: "责任督学",
    Role.school_admin: "学校管理员",
    Role.provider_admin: "机构账号",
    Role.sys_admin: "系统管理员",
    Role.auditor: "审计管理员",
}

REVIEWER_ROLES = frozenset({Role.city_reviewer, Role.county_reviewer})
# Roles that must use a second factor when it is enforced (docs/architecture.md "Security": second factor; issue 2).
MFA_ROLES = frozenset({Role.city_reviewer, Role.county_reviewer, Role.sys_admin, Role.auditor, Role.inspector})
# The region level each region-bound role needs.
REGION_LEVEL = {Role.city_reviewer: "city", Role.county_reviewer: "county", Role.inspector: "county"}
STAFF_ROLES = frozenset(Role) - {Role.provider_admin, Role.school_admin}

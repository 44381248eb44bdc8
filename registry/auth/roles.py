"""Roles of docs/domain.md "Roles and jurisdiction" and the scope each one is bound to."""

from registry.core.enums import LabelledEnum


class Role(LabelledEnum):
    city_reviewer = "city_reviewer", "市教育局审核员"
    county_reviewer = "county_reviewer", "县（市、区）教育局审核员"
    inspector = "inspector", "责任督学"
    school_admin = "school_admin", "学校管理员"
    provider_admin = "provider_admin", "机构账号"
    sys_admin = "sys_admin", "系统管理员"
    auditor = "auditor", "审计管理员"
    # issue 18: supervision (read-only, bound to a province or a city)
    province_supervisor = "province_supervisor", "省级督导（只读）"
    city_supervisor = "city_supervisor", "市级督导（只读）"
    gate_keeper = "gate_keeper", "门卫"  # issue 14: bound to one school, scans entry passes at its gate


ROLE_LABELS = Role.labels()

REVIEWER_ROLES = frozenset({Role.city_reviewer, Role.county_reviewer})
# Roles that must use a second factor when it is enforced (docs/architecture.md "Security": second factor; issue 2).
MFA_ROLES = frozenset({Role.city_reviewer, Role.county_reviewer, Role.sys_admin, Role.auditor, Role.inspector})
# The region level each region-bound role needs.
REGION_LEVEL = {Role.city_reviewer: "city", Role.county_reviewer: "county", Role.inspector: "county"}
# issue 18: supervision
REGION_LEVEL.update({Role.province_supervisor: "province", Role.city_supervisor: "city"})
SUPERVISOR_ROLES = frozenset({Role.province_supervisor, Role.city_supervisor})
MFA_ROLES = MFA_ROLES | SUPERVISOR_ROLES
# Roles bound to one school (user.school_id); issue 14 adds the gate keeper.
SCHOOL_ROLES = frozenset({Role.school_admin, Role.gate_keeper})
STAFF_ROLES = frozenset(Role) - {Role.provider_admin} - SCHOOL_ROLES

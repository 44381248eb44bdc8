"""Reads of the audit log for the auditor (issue 19): the filtered statement shared by the page and its
exports, and each row in words: the action and object in Chinese, the object's own trail as a link target,
and the details as readable text (no JSON)."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from registry.audit.models import AuditLog
from registry.core.lifecycle import LIFECYCLES
from registry.extensions import db

RESULTS = {"success": "成功", "failure": "失败", "denied": "拒绝"}
ROLE_WORDS = {"city_reviewer": "市教育局审核员", "county_reviewer": "县（市、区）教育局审核员", "inspector": "责任督学",
              "school_admin": "学校管理员", "provider_admin": "机构账号", "sys_admin": "系统管理员",
              "auditor": "审计管理员"}  # registry.auth.roles.Role's labels (auth sits above audit)

OBJECTS = {
    "application": "申报", "order": "订单", "whitelist_entry": "白名单条目", "release_batch": "公示批次",
    "objection": "异议", "provider": "机构", "provider_document": "资质材料", "person": "从业人员",
    "person_check": "人员查询记录", "project": "服务项目", "school": "学校", "school_project": "学校自有项目",
    "term": "学期", "user": "用户", "api_token": "API 令牌", "calendar_day": "工作日历日期",
    "calendar_year": "工作日历年度", "stored_file": "文件", "endpoint": "页面或接口", "region": "行政区划",
    "check": "人员查询记录", "document": "资质材料", "file": "文件", "token": "API 令牌", "calendar": "工作日历",
    "audit": "审计日志", "crypto": "加密密钥", "authz": "访问", "login": "登录", "logout": "退出登录",
}
VERBS = {
    "create": "创建", "update": "修改", "delete": "删除", "submit": "提交", "withdraw": "撤回", "return": "退回修改",
    "reject": "不予通过", "approve": "审核通过", "pass": "初审通过", "route_county": "转县级初审",
    "route_city": "转市级复审", "start_publicity": "开始公示", "publish": "发布", "accept": "接单",
    "decline": "拒绝接单", "activate": "开始服务", "complete": "完成", "cancel": "取消", "suspend": "暂停",
    "lift": "解除暂停", "resume": "恢复", "delist": "移出白名单", "reinstate": "恢复", "expire": "到期失效",
    "renew": "年审续期", "uphold": "异议成立", "dismiss": "异议不成立", "file": "提出", "add": "加入",
    "remove": "移出", "set_projects": "修改申报项目", "upload": "上传", "verify": "核验", "denied": "被拒绝访问",
    "download": "下载", "register": "注册", "publish_reviewed": "发布审核后的变更", "ban": "禁入",
    "ban_lift": "解除禁入", "warning": "警告", "suspension": "暂停", "delisting": "移出",
    "reinstatement": "恢复", "expiry": "到期失效", "referral": "移交核查", "check_add": "登记查询记录",
    "consent": "上传授权同意书", "import": "批量导入", "qualification_add": "登记资格证书",
    "reveal_id": "查看完整身份证号", "mfa": "动态验证码验证", "rotate": "轮换密钥", "revoke": "吊销",
    "revoke_all": "全部吊销", "assign_role": "分配角色", "change_password": "修改密码", "disable": "停用",
    "enable": "启用", "reset_password": "重置密码", "totp_enrol": "绑定动态验证码", "totp_reset": "重置动态验证码",
    "set_day": "设置日期", "delete_day": "删除日期设置", "mark_year": "标记年度已完整",
}
# Whole actions whose words are not object + verb.
ACTIONS = {"login": "登录", "logout": "退出登录", "login.mfa": "登录（动态验证码）", "authz.denied": "访问被拒绝",
           "audit.verify": "校验审计哈希链", "crypto.rotate": "轮换加密密钥", "file.download": "下载文件",
           "provider_document.denied": "访问他人资质材料被拒绝"}
DETAIL_WORDS = {
    "reason": "原因", "rule": "依据规则", "note": "备注", "because": "原因", "kind": "类型", "projects": "项目",
    "items": "审核项", "fields": "修改的字段", "snapshot": "提交次数", "name": "名称", "username": "用户名",
    "role": "角色", "path": "地址", "method": "请求方式", "price": "价格", "total": "总价", "valid_until": "有效期至",
    "ends_on": "截止日期", "starts_on": "开始日期", "permanent": "永久", "doc_type": "材料类型",
    "check_type": "查询类型",
    "result": "结果", "rows": "行数", "checked": "已校验行数", "first_bad_seq": "首个异常序号", "error": "错误",
    "mfa": "已绑定动态验证码", "is_workday": "工作日", "working_days": "工作日数", "source": "来源", "county": "区县",
    "uscc": "统一社会信用代码", "code": "代码", "changes": "变更", "before": "修改前", "after": "修改后",
    "pending": "待审", "staff": "授课人员", "warnings": "提示", "key_id": "密钥编号", "end": "结束",
    "batch_id": "批次编号", "application_id": "申报编号", "entry_id": "白名单条目编号", "provider_id": "机构编号",
    "reason_category": "原因类别", "effective_on": "生效日期", "replaces": "替换的材料编号", "sha256": "文件摘要",
    "check_id": "查询记录编号", "qualification_id": "证书编号", "consent_id": "同意书编号", "ban_ids": "禁入记录编号",
    "token_ids": "令牌编号", "reinstatement_id": "恢复记录编号", "region_id": "行政区划编号", "qual_type": "证书类型",
}
REASON_WORDS = {"unknown_user": "用户名不存在", "locked": "账户已锁定", "disabled": "账户已停用",
                "bad_code": "验证码错误", "bad_code_locked": "验证码错误，账户已锁定", "bad_password": "密码错误",
                "bad_password_locked": "密码错误，账户已锁定", "missing": "不存在",
                "not_permitted": "无权访问", "city_policy": "本市审核规则",
                # rules of the nightly sweep and of publication (registry.adjustments, registry.batches)
                "approval": "审核通过发布", "lift": "暂停原因消除", "term_started": "学期开始",
                "term_ended": "学期结束", "validity_ended": "有效期届满", "document_expired": "资质材料过期",
                "staff_not_cleared": "无合格从业人员",
                "adverse_check": "人员违法犯罪信息查询异常", "low_satisfaction": "满意度不达标",
                # results and reason categories
                "verified": "已核验", "rejected": "已驳回", "clear": "无异常", "adverse": "有不良记录",
                "safety_incident": "发生安全事故", "illegal_fees": "违规收费", "new_lessons": "讲授新课或学科培训",
                "selling": "推销或变相营销", "forced_participation": "强制学生参加", "other": "其他"}
WORDED_KEYS = ("reason", "rule", "result", "reason_category")


def action_words(action):
    """An action code in Chinese: "order.suspend" -> "订单 · 暂停"; an unknown code stays as it is."""
    if action in ACTIONS:
        return ACTIONS[action]
    kind, _dot, verb = action.partition(".")
    if kind in OBJECTS and verb in VERBS:
        return f"{OBJECTS[kind]} · {VERBS[verb]}"
    return action


def object_words(object_type, object_id):
    if not object_type:
        return ""
    name = OBJECTS.get(object_type, object_type)
    if object_type == "endpoint":
        return f"{name}（{object_id}）" if object_id else name
    return f"{name} #{object_id}" if object_id else name


def _value_words(key, value, object_type):
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "、".join(_value_words(key, v, object_type) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(f"{DETAIL_WORDS.get(k, k)}：{_value_words(k, v, object_type)}" for k, v in value.items())
    if key in WORDED_KEYS and value in REASON_WORDS:
        return REASON_WORDS[value]
    if key == "role":
        return ROLE_WORDS.get(value, value)
    return str(value)


def details_words(row):
    """The details as readable Chinese text, e.g. "状态：待机构确认 → 已暂停；原因：……"."""
    details = dict(row.details or {})
    parts = []
    if "from" in details or "to" in details:
        lifecycle = LIFECYCLES.get(row.object_type)
        label = lifecycle.label if lifecycle else (lambda v: v)
        parts.append(f"状态：{label(details.pop('from', None)) or '—'} → {label(details.pop('to', None)) or '—'}")
    for key, value in details.items():
        if key == "rule" and value is None:
            continue
        parts.append(f"{DETAIL_WORDS.get(key, key)}：{_value_words(key, value, row.object_type)}")
    return "；".join(parts)


@dataclass
class Filters:
    actor: str = ""
    action: str = ""         # an action code; a kind of object ("order") also selects all its actions
    object_type: str = ""
    object: str = ""         # "<object type>:<object id>": one object's trail
    result: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None


def _day(value):
    try:
        return datetime.strptime(value or "", "%Y-%m-%d")
    except ValueError:
        return None


def filters_from(args):
    return Filters(actor=(args.get("actor") or "").strip(), action=(args.get("action") or "").strip(),
                   object=(args.get("object") or "").strip(), object_type=(args.get("object_type") or "").strip(),
                   result=args.get("result") if args.get("result") in RESULTS else "",
                   date_from=_day(args.get("from")), date_to=_day(args.get("to")))


def log_stmt(f):
    """The audit rows matching the filters, newest first. Filter dates are China dates; rows are UTC."""
    stmt = select(AuditLog).order_by(AuditLog.seq.desc())
    if f.action:
        stmt = stmt.where(or_(AuditLog.action == f.action,
                              AuditLog.action.startswith(f.action.rstrip(".") + ".", autoescape=True)))
    if f.object_type:
        stmt = stmt.where(AuditLog.object_type == f.object_type)
    if f.actor:
        stmt = stmt.where(AuditLog.actor_name == f.actor)
    if f.result:
        stmt = stmt.where(AuditLog.result == f.result)
    if f.object:
        object_type, _sep, object_id = f.object.partition(":")
        stmt = stmt.where(AuditLog.object_type == object_type)
        if object_id:
            stmt = stmt.where(AuditLog.object_id == object_id)
    offset = timedelta(hours=8)
    if f.date_from is not None:
        stmt = stmt.where(AuditLog.created_at >= f.date_from - offset)
    if f.date_to is not None:
        stmt = stmt.where(AuditLog.created_at < f.date_to + timedelta(days=1) - offset)
    return stmt


def actor_names():
    """Everyone who appears in the log, for the person filter."""
    return list(db.session.scalars(select(AuditLog.actor_name).distinct().where(
        AuditLog.actor_name.is_not(None)).order_by(AuditLog.actor_name)))


def action_choices():
    """[(group label, [(value, label)])] for the action filter: per kind of object, "all" then each action,
    from the actions the log holds."""
    codes = db.session.scalars(select(AuditLog.action).distinct()).all()
    groups = {}
    for code in sorted(codes):
        kind = code.partition(".")[0]
        groups.setdefault(kind, []).append((code, action_words(code)))
    out = []
    for kind in sorted(groups, key=lambda k: OBJECTS.get(k, k)):
        options = groups[kind]
        if len(options) > 1:
            options = [(kind, f"{OBJECTS.get(kind, kind)}：全部操作")] + [o for o in options if o[0] != kind]
        out.append((OBJECTS.get(kind, kind), options))
    return out

"""Schools, terms and a school's own after-school projects: one input schema for the HTML form, the
import and /api/v1; output schemas with explicit field lists."""
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from registry.core.schema import BaseSchema
from registry.projects.models import CATEGORY_LABELS, Category
from registry.schools.models import SCHOOL_TYPE_LABELS, SchoolType

SCHOOL_TYPE_CHOICES = [(t.value, label) for t, label in SCHOOL_TYPE_LABELS.items()]
CATEGORY_CHOICES = [(c.value, label) for c, label in CATEGORY_LABELS.items()]
CODE_RULE = validate.Regexp(r"^\d{10}$", error="学校标识码应为 10 位数字")
COUNTY_RULE = validate.Regexp(r"^[0-9A-Z]{6}$", error="区县应为 6 位行政区划代码")


def text(max_len, what, required=False):
    """Text with a Chinese length rule; a required text may not be blank."""
    if required:
        return fields.String(required=True, validate=[
            validate.Length(min=1, max=max_len, error=f"{what}长度应为 1–{max_len} 个字符"),
            validate.Regexp(r"[\s\S]*\S", error=f"{what}不能为空")])
    return fields.String(load_default="",
                         validate=validate.Length(max=max_len, error=f"{what}不能超过 {max_len} 个字符"))


def one_of(choices, what, **kwargs):
    return fields.String(validate=validate.OneOf([v for v, _ in choices],
                                                 error=f"{what}应为：" + "、".join(label for _, label in choices)),
                         **kwargs)


# ---------------------------------------------------------------- input

class SchoolIn(BaseSchema):
    name = text(128, "学校名称", required=True)
    code = fields.String(required=True, validate=CODE_RULE, metadata={"description": "学校标识码，10 位数字"})
    county_code = fields.String(required=True, validate=COUNTY_RULE,
                                metadata={"description": "所在县（市、区）的行政区划代码，如 360113"})
    school_type = one_of(SCHOOL_TYPE_CHOICES, "学段", required=True,
                         metadata={"description": "primary 小学 / junior 初中 / nine_year 九年一贯制"})
    address = text(255, "地址")
    student_count = fields.Integer(load_default=0, validate=validate.Range(
        min=0, max=100000, error="在校学生数应为 0–100000 之间的整数"))


class SchoolUpdateIn(SchoolIn):
    """PATCH: every field optional."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class PagedQueryIn(BaseSchema):
    """Query arguments of a paged list; an empty value (an unselected <select>) means "no filter"."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000, error="页码无效"))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100, error="每页条数应在 1–100 之间"))

    @pre_load
    def _drop_empty(self, data, **_kwargs):
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class SchoolQueryIn(PagedQueryIn):
    q = fields.String(load_default="", validate=validate.Length(max=50, error="关键词不能超过 50 个字"))
    county_code = fields.String(validate=COUNTY_RULE)


class SchoolAdminIn(BaseSchema):
    username = fields.String(required=True, metadata={"description": "3–64 位字母、数字、下划线、点或连字符"})
    display_name = text(64, "姓名", required=True)
    email = fields.Email(load_default=None)
    password = fields.String(required=True, metadata={"description": "初始密码；首次登录须修改"})


class TermIn(BaseSchema):
    name = text(64, "学期名称", required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)

    @validates_schema
    def _range(self, data, **_kwargs):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] <= data["starts_on"]:
            raise ValidationError("学期结束日期须晚于开始日期", field_name="ends_on")


class OwnProjectIn(BaseSchema):
    term_id = fields.Integer(required=True)
    name = text(128, "项目名称", required=True)
    category = one_of(CATEGORY_CHOICES, "活动类别", required=True)
    teacher = text(64, "授课教师", required=True)


class TermQueryIn(BaseSchema):
    term_id = fields.Integer(load_default=None)


# ---------------------------------------------------------------- output

class SchoolRegionOut(BaseSchema):
    code = fields.String()
    name = fields.String()


class SchoolOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    code = fields.String()
    county = fields.Nested(SchoolRegionOut)
    city = fields.Nested(SchoolRegionOut)
    school_type = fields.Function(lambda s: s.school_type.value)
    type_label = fields.String()
    address = fields.String()
    student_count = fields.Integer()


class PageOut(BaseSchema):
    """What a paged list answers besides its items."""

    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class SchoolPageOut(PageOut):
    items = fields.List(fields.Nested(SchoolOut))


class SchoolAdminOut(BaseSchema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    must_change_password = fields.Boolean()


class ImportOut(BaseSchema):
    created = fields.Integer()
    schools = fields.List(fields.Nested(SchoolOut))


class TermOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class OwnProjectOut(BaseSchema):
    id = fields.Integer()
    term_id = fields.Integer()
    name = fields.String()
    category = fields.Function(lambda p: Category(p.category).value)
    category_label = fields.Function(lambda p: CATEGORY_LABELS[Category(p.category)])
    teacher = fields.String()


class ShareOut(BaseSchema):
    term = fields.Nested(TermOut)
    own = fields.Integer(metadata={"description": "本校自有课后服务项目数"})
    third_party = fields.Integer(metadata={"description": "本学期有效点单的第三方项目数"})
    ratio = fields.Function(lambda s: f"{s['share'].ratio:.4f}")
    limit = fields.Function(lambda s: f"{s['share'].limit:.4f}", metadata={"description": "本市上限（比例）"})
    allows_one_more = fields.Boolean()
    message = fields.String()


SCHOOL_TYPE_VALUES = {label: t.value for t, label in SCHOOL_TYPE_LABELS.items()}
SCHOOL_TYPE_VALUES.update({t.value: t.value for t in SchoolType})

"""JSON API for staff (从业人员): the same schemas and services as the HTML pages.

A provider_admin, for people of their own provider (another provider's id answers 404); a school_admin, for the
people the school engages itself (issue 14: /people/school to list and register, the same per-person endpoints).
Checks and qualifications are posted as JSON; to attach an evidence file, post the same fields
as multipart/form-data (plus `file`) to the `/multipart` variant of the endpoint. The consent
always needs the signed form, so it is multipart only. Responses carry the masked ID number;
only POST /people/<id>/reveal returns the full number, and that reveal is audited.
"""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest.fields import Upload

from registry.core import clock
from registry.core.api import MULTIPART, MultipartBlueprint
from registry.files import services as files
from registry.people import queries, schemas, services

blp = MultipartBlueprint("api_people", __name__, url_prefix="/people", description="从业人员、查询记录与资格证书")


class CheckUploadIn(schemas.CheckIn):
    file = Upload(metadata={"description": "证明文件：PDF、JPG 或 PNG（可选）"})


class QualificationUploadIn(schemas.QualificationIn):
    file = Upload(metadata={"description": "证书扫描件：PDF、JPG 或 PNG（可选）"})


class ConsentUploadIn(schemas.ConsentIn):
    file = Upload(required=True, metadata={"description": "本人签署的授权同意书（PDF、JPG 或 PNG）"})


def _actor():
    return current_user._get_current_object()


def own_person(person_id):
    """The caller's person: a provider admin's staff, or a school admin's own engaged people (issue 14)."""
    if current_user.school_id is not None:
        return queries.own_school_person(current_user.school_id, person_id)
    return queries.own_person(current_user.provider_id, person_id)


def _with_clearance(people):
    """Attach today's clearance to each person for the *Out schemas (bans and rules loaded once)."""
    day = clock.today()
    owner = current_user.school if current_user.school_id is not None else current_user.provider
    status = queries.clearances(people, owner, day)
    for person in people:
        person.clearance = schemas.clearance_out(status[person.id], day)
    return people


def _upload(data):
    storage = data.pop("file", None)
    return files.read_upload(storage) if storage is not None and storage.filename else None


@blp.route("")
class People(MethodView):
    @blp.response(200, schemas.PersonListOut(many=True))
    def get(self):
        """本机构的从业人员（身份证号码脱敏），含今日准入情况"""
        return _with_clearance(services.list_people(current_user.provider_id))

    @blp.arguments(schemas.PersonIn)
    @blp.response(201, schemas.PersonListOut)
    @blp.alt_response(409, description="本机构已登记过该身份证号码（duplicate_person），"
                                       "或该身份证号码对应人员存在禁入记录"
                                       "（banned_person，包括任何机构记录的不良查询结果）")
    def post(self, data):
        """登记人员（身份证号码须通过校验；同一机构不能重复登记；存在禁入记录的不能登记）"""
        person = services.create_person(current_user.provider, actor=_actor(), **data)
        return _with_clearance([person])[0]


@blp.route("/school")
class SchoolPeople(MethodView):
    @blp.response(200, schemas.PersonListOut(many=True))
    def get(self):
        """本校自聘人员（退休教师、家长、志愿者、非遗传承人、教练等；身份证号码脱敏），含今日准入情况"""
        return _with_clearance(queries.school_people(current_user.school_id))

    @blp.arguments(schemas.SchoolPersonIn)
    @blp.response(201, schemas.PersonListOut)
    @blp.alt_response(409, description="本校已登记过该身份证号码（duplicate_person），"
                                       "或该身份证号码对应人员存在禁入记录（banned_person）")
    def post(self, data):
        """登记学校自聘人员：与机构人员同样的身份证校验、禁入名单、加密和脱敏"""
        person = services.create_school_person(current_user.school, actor=_actor(), **data)
        return _with_clearance([person])[0]


@blp.route("/<int:person_id>")
class PersonById(MethodView):
    @blp.response(200, schemas.PersonDetailOut)
    def get(self, person_id):
        """人员详情：查询记录、资格证书、授权同意书和今日准入情况"""
        return _with_clearance([own_person(person_id)])[0]

    @blp.arguments(schemas.PersonUpdateIn)
    @blp.response(200, schemas.PersonDetailOut)
    def patch(self, data, person_id):
        """修改姓名、性别、手机号、岗位或专长（身份证号码不能修改）"""
        person = own_person(person_id)
        services.update_person(person, actor=_actor(), **data)
        return _with_clearance([person])[0]


@blp.route("/<int:person_id>/checks")
class PersonChecks(MethodView):
    @blp.arguments(schemas.CheckIn)
    @blp.response(201, schemas.CheckOut)
    def post(self, data, person_id):
        """添加查询或体检记录（JSON，不带证明文件）"""
        return services.add_check(own_person(person_id), actor=_actor(), **data)


@blp.route("/<int:person_id>/checks/multipart")
class PersonChecksMultipart(MethodView):
    @blp.arguments(CheckUploadIn, **MULTIPART)
    @blp.response(201, schemas.CheckOut)
    def post(self, data, person_id):
        """添加查询或体检记录，并上传证明文件（multipart/form-data，文件字段 file 可选）"""
        upload = _upload(data)
        return services.add_check(own_person(person_id), actor=_actor(), upload=upload, **data)


@blp.route("/<int:person_id>/qualifications")
class PersonQualifications(MethodView):
    @blp.arguments(schemas.QualificationIn)
    @blp.response(201, schemas.QualificationOut)
    def post(self, data, person_id):
        """添加资格证书（JSON，不带扫描件）"""
        return services.add_qualification(own_person(person_id), actor=_actor(), **data)


@blp.route("/<int:person_id>/qualifications/multipart")
class PersonQualificationsMultipart(MethodView):
    @blp.arguments(QualificationUploadIn, **MULTIPART)
    @blp.response(201, schemas.QualificationOut)
    def post(self, data, person_id):
        """添加资格证书，并上传扫描件（multipart/form-data，文件字段 file 可选）"""
        upload = _upload(data)
        return services.add_qualification(own_person(person_id), actor=_actor(), upload=upload, **data)


@blp.route("/<int:person_id>/consent")
class PersonConsent(MethodView):
    @blp.arguments(ConsentUploadIn, **MULTIPART)
    @blp.response(201, schemas.ConsentOut)
    def post(self, data, person_id):
        """登记授权同意书（multipart/form-data:consent_date、note 和必需的文件 file）"""
        person = own_person(person_id)
        return services.record_consent(person, actor=_actor(), upload=files.read_upload(data.pop("file")), **data)


@blp.route("/<int:person_id>/reveal")
class PersonReveal(MethodView):
    @blp.arguments(schemas.RevealIn)
    @blp.response(200, schemas.RevealOut)
    def post(self, data, person_id):
        """查看完整身份证号码（须填写理由；每次查看都记入审计日志）"""
        number = services.reveal_number(own_person(person_id), actor=_actor(), reason=data["reason"])
        return {"id_number": number}


@blp.route("/<int:person_id>/clearance")
class PersonClearance(MethodView):
    @blp.arguments(schemas.ClearanceQuery, location="query")
    @blp.response(200, schemas.ClearanceOut)
    def get(self, query, person_id):
        """某一天的准入情况：是否准入、未准入的原因（中文）和 30 天内到期的项目"""
        person = own_person(person_id)
        day = query["date"] or clock.today()
        result = services.clearance(person, day, required_qualification=query["required_qualification"])
        return schemas.clearance_out(result, day)

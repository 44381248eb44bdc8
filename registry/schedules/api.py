"""JSON API of schedules (issue 15): the school's revision, its rows, the policy check, filing, revisions,
non-teaching days and fee notice; the county's filing list, review and decisions; coverage figures for a county
or city; the public schedule. The same schemas and services as the pages."""
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from registry.core import clock
from registry.core.errors import NotFound, ValidationFailed
from registry.extensions import db
from registry.regions.models import Region
from registry.schedules import queries, schemas, services
from registry.schools import queries as school_queries
from registry.schools.schemas import TermQueryIn

blp = Blueprint("api_schedules", __name__, url_prefix="/schedules",
                description="课后服务安排表（1+N）、备案、晒课表与收费公示")


def _actor():
    return current_user._get_current_object()


def _term(term_id):
    term = school_queries.default_term(clock.today()) if term_id is None else school_queries.get_term(term_id)
    if term is None:
        raise ValidationFailed({"term_id": ["尚未设置学期，请联系系统管理员"]})
    return term


def _latest(term):
    schedule = services.latest(current_user.school, term)
    if schedule is None:
        raise NotFound("本学期尚未填写安排表")
    return schedule


@blp.route("/school/<int:term_id>")
class SchoolSchedule(MethodView):
    @blp.response(200, schemas.ScheduleOut)
    def get(self, term_id):
        """本校本学期安排表的最新版本（含全部行）"""
        return _latest(school_queries.get_term(term_id))

    @blp.arguments(schemas.ScheduleRowsIn)
    @blp.response(200, schemas.ScheduleOut)
    def put(self, data, term_id):
        """替换草稿中的全部行（已备案的版本不能修改：自动新建修订版本）；政策问题不阻止保存，阻止报备"""
        term = school_queries.get_term(term_id)
        schedule = services.working_copy(current_user.school, term, actor=_actor())
        return services.replace_rows(schedule, data["rows"], actor=_actor())


@blp.route("/school/<int:term_id>/validate")
class SchoolScheduleValidate(MethodView):
    @blp.arguments(schemas.ScheduleRowsIn)
    @blp.response(200, schemas.ScheduleReportOut)
    def post(self, data, term_id):
        """按本市政策检查这些行（不保存）：每个问题写明星期、年级组和规则；grid 为每天 1 : N 的分钟数"""
        term = school_queries.get_term(term_id)
        return services.check(current_user.school, term, services.data_rows(data["rows"])).as_dict()


@blp.route("/school/<int:term_id>/submit")
class SchoolScheduleSubmit(MethodView):
    @blp.response(200, schemas.ScheduleOut)
    def post(self, term_id):
        """报备（备案）：有不符合政策之处时 422 并列出每一处"""
        return services.submit(_latest(school_queries.get_term(term_id)), actor=_actor())


@blp.route("/school/<int:term_id>/revise")
class SchoolScheduleRevise(MethodView):
    @blp.response(201, schemas.ScheduleOut)
    def post(self, term_id):
        """新建修订版本（复制已备案的版本）；修改后须重新报备"""
        return services.working_copy(current_user.school, school_queries.get_term(term_id), actor=_actor())


@blp.route("/school/<int:term_id>/revisions")
class SchoolScheduleRevisions(MethodView):
    @blp.response(200, schemas.ScheduleBriefOut(many=True))
    def get(self, term_id):
        """本学期安排表的全部版本，最新在前"""
        return queries.revisions(current_user.school, school_queries.get_term(term_id))


@blp.route("/school/<int:term_id>/non-teaching-days")
class NonTeachingDays(MethodView):
    @blp.response(200, schemas.NonTeachingDayOut(many=True))
    def get(self, term_id):
        """本校本学期的非教学日（法定节假日以外）"""
        return services.non_teaching_days(current_user.school, school_queries.get_term(term_id))

    @blp.arguments(schemas.NonTeachingDayIn)
    @blp.response(201, schemas.NonTeachingDayOut)
    def post(self, data, term_id):
        """登记非教学日"""
        return services.add_non_teaching_day(current_user.school, school_queries.get_term(term_id), actor=_actor(),
                                             **data)


@blp.route("/school/<int:term_id>/non-teaching-days/<int:day_id>")
class NonTeachingDayById(MethodView):
    @blp.response(204)
    def delete(self, term_id, day_id):
        """删除非教学日"""
        school_queries.get_term(term_id)
        services.remove_non_teaching_day(current_user.school, actor=_actor(), day_id=day_id)


@blp.route("/school/<int:term_id>/fee-notice")
class FeeNotice(MethodView):
    @blp.response(200, schemas.FeeNoticeOut)
    def get(self, term_id):
        """本校本学期的收费公示"""
        notice = services.fee_notice(current_user.school, school_queries.get_term(term_id))
        if notice is None:
            raise NotFound("本学期尚未填写收费公示")
        return notice

    @blp.arguments(schemas.FeeNoticeIn)
    @blp.response(200, schemas.FeeNoticeOut)
    def put(self, data, term_id):
        """填写或修改收费公示（收费标准、服务时间、内容、课时长度、财政补助）"""
        return services.save_fee_notice(current_user.school, school_queries.get_term(term_id), actor=_actor(),
                                        **data)


@blp.route("/school/<int:term_id>/fee-notice/publish")
class FeeNoticePublish(MethodView):
    @blp.response(200, schemas.FeeNoticeOut)
    def post(self, term_id):
        """发布收费公示：发布前本校的第三方点单不能开始服务（未经公示，不得收取）"""
        notice = services.fee_notice(current_user.school, school_queries.get_term(term_id))
        if notice is None:
            raise NotFound("本学期尚未填写收费公示")
        return services.publish_fee_notice(notice, actor=_actor())


# ---------------------------------------------------------------- county and city

def _region():
    return db.session.get(Region, current_user.region_id)


@blp.route("/review/filings")
class Filings(MethodView):
    @blp.arguments(TermQueryIn, location="query")
    @blp.response(200, schemas.ScheduleFilingOut(many=True))
    def get(self, args):
        """辖区内每所学校的备案情况：未报备、逾期（学期开始后超过本市规定天数）、待审核、已备案"""
        return queries.filings(_region(), _term(args.get("term_id")), clock.today())


@blp.route("/review/coverage")
class Coverage(MethodView):
    @blp.arguments(TermQueryIn, location="query")
    @blp.response(200, schemas.ScheduleCoverageOut)
    def get(self, args):
        """辖区学校中安排表已备案的比例、按期报备的比例"""
        return queries.coverage(_region(), _term(args.get("term_id")), clock.today())


@blp.route("/review/<int:schedule_id>")
class ReviewSchedule(MethodView):
    @blp.response(200, schemas.ScheduleOut)
    def get(self, schedule_id):
        """本县学校报备的一个版本"""
        return queries.schedule_in_county(current_user, schedule_id)


@blp.route("/review/<int:schedule_id>/accept")
class ReviewAccept(MethodView):
    @blp.arguments(schemas.ScheduleDecisionIn)
    @blp.response(200, schemas.ScheduleOut)
    def post(self, data, schedule_id):
        """备案通过：该版本公布，替代此前已备案的版本"""
        return services.accept(queries.schedule_in_county(current_user, schedule_id), actor=_actor(), **data)


@blp.route("/review/<int:schedule_id>/return")
class ReviewReturn(MethodView):
    @blp.arguments(schemas.ScheduleReturnIn)
    @blp.response(200, schemas.ScheduleOut)
    def post(self, data, schedule_id):
        """退回修改（须填写意见）"""
        return services.return_schedule(queries.schedule_in_county(current_user, schedule_id), actor=_actor(),
                                        **data)


# ---------------------------------------------------------------- public

@blp.route("/public/<int:school_id>/<int:term_id>")
class PublicSchedule(MethodView):
    @blp.response(200, schemas.PublicScheduleOut)
    def get(self, school_id, term_id):
        """已备案的安排表与收费公示（校外人员只显示遮蔽后的姓名和所属机构）"""
        school, term, schedule, rows, notice = queries.public_schedule(school_id, term_id)
        return {"school": school.name, "county": school.county.name, "term": term.name,
                "revision": schedule.revision if schedule else None,
                "accepted_on": schedule.decided_at.date() if schedule and schedule.decided_at else None,
                "rows": rows, "fee_notice": notice}

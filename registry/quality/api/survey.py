"""JSON API of the parents' survey (no token): what a code is about, and its one answer. An unknown or guessed
code answers 404 like a malformed one; an answered or expired code 409. Rate-limited per address."""
from flask.views import MethodView
from flask_smorest import Blueprint

from registry.quality import ratelimit, schemas, services

blp = Blueprint("api_survey", __name__, url_prefix="/survey", description="家长满意度问卷（无需登录）")


@blp.route("/<code>")
class Survey(MethodView):
    decorators = [ratelimit.survey_limited(ratelimit.survey_limited_json)]

    @blp.response(200, schemas.SurveyInfoOut)
    @blp.alt_response(404, description="问卷码无效")
    @blp.alt_response(409, description="问卷码已使用或已过期")
    def get(self, code):
        """问卷码对应的服务项目、机构和学期（不含学校和学生信息）"""
        found = services.find_code(code)
        order = found.order
        return {"project": order.project.title, "provider": order.provider.name, "term": order.term.name,
                "expires_on": found.expires_on}

    @blp.arguments(schemas.SurveyAnswerIn)
    @blp.response(201, schemas.SurveyDoneOut)
    @blp.alt_response(404, description="问卷码无效")
    @blp.alt_response(409, description="问卷码已使用或已过期")
    @blp.alt_response(429, description="提交过于频繁")
    def post(self, data, code):
        """提交问卷（每个问卷码一次）：满意度、孩子兴趣、安全感受、是否被额外收费、是否自愿参加、意见"""
        services.answer(code, **data)
        return {"message": "提交成功，感谢您的参与"}

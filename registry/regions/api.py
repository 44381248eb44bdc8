from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from registry.core.schema import BaseSchema
from registry.extensions import db
from registry.regions.models import Region, RegionLevel

blp = Blueprint("api_regions", __name__, url_prefix="/regions", description="行政区划")


class RegionQueryIn(BaseSchema):
    level = fields.String(validate=validate.OneOf([lvl.value for lvl in RegionLevel], error="级别无效"))
    parent_code = fields.String()


class RegionOut(BaseSchema):
    code = fields.String()
    name = fields.String()
    level = fields.Function(lambda r: r.level.value)
    parent_code = fields.Function(lambda r: r.parent.code if r.parent else None)


@blp.route("")
class Regions(MethodView):
    @blp.arguments(RegionQueryIn, location="query")
    @blp.response(200, RegionOut(many=True))
    def get(self, args):
        """列出行政区划，可按级别和上级代码筛选"""
        from sqlalchemy.orm import aliased, contains_eager

        parent = aliased(Region)
        stmt = select(Region).outerjoin(parent, Region.parent).options(contains_eager(Region.parent, alias=parent))
        if "level" in args:
            stmt = stmt.where(Region.level == RegionLevel(args["level"]))
        if "parent_code" in args:
            stmt = stmt.where(parent.code == args["parent_code"])
        return db.session.scalars(stmt.order_by(Region.code)).all()

from flask_smorest import Blueprint

blp = Blueprint("api_providers", __name__, url_prefix="/providers", description="机构注册、资料与资质材料")

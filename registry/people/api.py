from flask_smorest import Blueprint

blp = Blueprint("api_people", __name__, url_prefix="/people", description="从业人员、查询记录与资格证书")

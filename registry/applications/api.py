from flask_smorest import Blueprint

blp = Blueprint("api_applications", __name__, url_prefix="/applications", description="申报")

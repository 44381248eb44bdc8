from flask_smorest import Blueprint

blp = Blueprint("api_projects", __name__, url_prefix="/projects", description="服务项目")

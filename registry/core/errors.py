"""Domain errors raised by services; one handler maps them to HTTP for HTML and JSON alike."""
import re


class DomainError(Exception):
    status = 400
    code = "error"

    def __init__(self, message, field=None, code=None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Input breaks a rule. `errors` maps field -> list of Chinese messages."""

    status = 422
    code = "invalid"

    def __init__(self, errors, message=None, code=None):
        self.errors = errors
        field, messages = next(iter(errors.items())) if errors else (None, [message or "输入有误"])
        first = messages[0] if isinstance(messages, list) else str(messages)
        super().__init__(message or first, field=field, code=code)


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


# What a duplicate in a unique column means to the user; other columns get the generic message.
DUPLICATES = {
    ("provider", "uscc"): ("该统一社会信用代码已注册。如需加入该机构，请联系机构管理员为您添加账户。",
                           "duplicate_uscc"),
    ("user", "username"): ("该用户名已被使用", "duplicate_username"),
    # the partial unique index uq_application_one_open (registry/applications/models.py)
    ("application", "provider_id"): ("本机构已有一份未办结的申报，请先完成或撤回该申报", "open_application_exists"),
}


def unique_violation(exc):
    """(table, column) of the unique constraint or index a SQLAlchemy IntegrityError broke (its last column), or
    None for other integrity errors. PostgreSQL says "Key (column)=(value) already exists."; SQLite says
    "UNIQUE constraint failed: table.column"."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) == "23505":
        diag = getattr(orig, "diag", None)
        found = re.match(r"Key \((?:.*, )?([^,()]+)\)=", getattr(diag, "message_detail", None) or "")
        return getattr(diag, "table_name", None) or "", (found.group(1) if found else None)
    text = str(orig)
    if text.startswith("UNIQUE constraint failed: "):
        table, _, column = text.removeprefix("UNIQUE constraint failed: ").split(",")[-1].strip().partition(".")
        return table, column
    return None


def unique_conflict(exc, rename=None):
    """The Conflict (409 naming the field) for an IntegrityError on a unique constraint, else None.
    Two requests that both passed a service's "is it taken?" check race to insert; the database refuses
    the second. `rename` maps a column to the name of the form field that carried it."""
    where = unique_violation(exc)
    if where is None:
        return None
    message, code = DUPLICATES.get(where, ("该记录已存在，请勿重复提交", "duplicate"))
    field = (rename or {}).get(where[1], where[1])
    return Conflict(message, field=field, code=code)

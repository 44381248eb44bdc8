"""Domain errors raised by services; one handler maps them to HTTP for HTML and JSON alike."""


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

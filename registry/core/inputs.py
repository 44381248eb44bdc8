"""Request-level input rules, checked once for every route before any view or schema sees the input:
no control characters (NUL included) in query strings, form fields or JSON strings, and JSON bodies nested
no deeper than MAX_JSON_DEPTH. Bad input is a 422 (400 for the nesting) naming the field, never a 500."""
import json
import re

from flask import request

from registry.core.errors import DomainError, ValidationFailed

MAX_JSON_DEPTH = 20
# C0 controls except \t \n \r, DEL, and lone UTF-16 surrogates (JSON "\ud800": no database stores them).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CONTROL_MESSAGE = "不能包含控制字符（如 NUL）"


class TooDeep(DomainError):
    status = 400
    code = "too_deep"


def _refuse(field):
    raise ValidationFailed({field or "_schema": [f"{field or '内容'}{CONTROL_MESSAGE}"]})


def _check_pairs(multidict):
    for key, value in multidict.items(multi=True):
        if CONTROL.search(key):
            _refuse(CONTROL.sub("?", key))
        if isinstance(value, str) and CONTROL.search(value):
            _refuse(key)


def _check_json(document):
    """Walk the parsed body without recursion; the first string with a control character names its field."""
    stack = [(document, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise TooDeep(f"JSON 嵌套层数不能超过 {MAX_JSON_DEPTH} 层")
        if isinstance(node, dict):
            for key, value in node.items():
                name = f"{path}.{key}" if path else str(key)
                if CONTROL.search(key):
                    _refuse(CONTROL.sub("?", name))
                stack.append((value, name, depth + 1))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                stack.append((value, f"{path}.{index}" if path else str(index), depth + 1))
        elif isinstance(node, str) and CONTROL.search(node):
            _refuse(path)


def check_request_input():
    _check_pairs(request.args)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs(request.form)
        for key, upload in request.files.items(multi=True):
            if CONTROL.search(key) or CONTROL.search(upload.filename or ""):
                _refuse(CONTROL.sub("?", key))
    elif request.is_json and request.content_length != 0:
        try:
            document = json.loads(request.get_data(cache=True))
        except RecursionError:
            raise TooDeep(f"JSON 嵌套层数不能超过 {MAX_JSON_DEPTH} 层") from None
        except ValueError:
            return  # not JSON: the view's parser answers 400 as before
        _check_json(document)


def init_app(app):
    app.before_request(check_request_input)

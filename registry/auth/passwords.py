"""Password policy and hashing (docs/architecture.md "Security": passwords)."""
import re

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 64

# Common passwords and fragments seen at the top of leaked-password lists (Chinese and international).
COMMON = {
    "password", "passw0rd", "qwerty", "qwertyuiop", "asdfgh", "zxcvbn", "123456", "1234567", "12345678",
    "123456789", "1234567890", "123123", "111111", "000000", "666666", "888888", "654321", "abc123",
    "a123456", "aa123456", "woaini", "iloveyou", "admin", "administrator", "welcome", "letmein",
    "monkey", "dragon", "football", "baseball", "sunshine", "princess", "superman", "trustno1",
    "changeme", "default", "root", "test", "guest", "master", "login", "hello", "secret",
    "1qaz2wsx", "qazwsx", "zaq12wsx", "1q2w3e4r", "q1w2e3r4", "abcd1234", "p@ssw0rd", "woaini1314",
    "5201314", "147258", "159357", "112233", "7758521", "aini1314",
}
# Words from this system's context: the bureau, the province and its cities, the product.
CONTEXT = {
    "教育局", "教育厅", "教育", "江西", "白名单", "课后服务", "机构",
    "南昌", "景德镇", "萍乡", "九江", "新余", "鹰潭", "赣州", "吉安", "宜春", "抚州", "上饶", "赣江新区",
    "jiaoyu", "jiaoyuju", "jyj", "jiangxi", "nanchang", "jingdezhen", "pingxiang", "jiujiang", "xinyu",
    "yingtan", "ganzhou", "jian", "yichun", "fuzhou", "shangrao", "ganjiang", "registry", "baimingdan",
    "kehoufuwu",
}
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


def _classes(password):
    return sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))


def policy_errors(password, context_words=()):
    """Chinese messages for every rule the password breaks (empty when acceptable)."""
    errors = []
    if len(password) < MIN_LENGTH:
        errors.append(f"密码长度不能少于 {MIN_LENGTH} 个字符")
    if len(password) > MAX_LENGTH:
        errors.append(f"密码长度不能超过 {MAX_LENGTH} 个字符")
    if _classes(password) < 3:
        errors.append("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    lowered = password.lower()
    plain = lowered.translate(_LEET)
    letters_only = re.sub(r"[^a-z\u4e00-\u9fff]", "", plain)
    for word in COMMON:
        if word in lowered or (len(word) >= 5 and word in plain):
            errors.append("密码包含常见弱口令，请换一个")
            break
    words = CONTEXT | {w.lower() for w in context_words if w and len(w) >= 3}
    for word in words:
        if word in lowered or word in plain or (word.isalpha() and len(word) >= 4 and word in letters_only):
            errors.append("密码不能包含用户名、单位、地名等容易猜到的词")
            break
    return errors


def hash_password(password):
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash, password):
    return check_password_hash(password_hash, password)


_DUMMY = {}


def burn_time(password):
    """Spend the same effort as a real check so an unknown user is not revealed by timing."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY:
        _DUMMY[method] = generate_password_hash("dummy-Passw0rd!", method=method)
    check_password_hash(_DUMMY[method], password)

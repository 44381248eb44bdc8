"""Writes of the quality domain (issue 16): the school's evaluation of an order, the parents' survey codes and
answers, and the alerts an answer raises ("extra fee asked", "not voluntary") for the county.

Survey codes carry 80 random bits (16 characters of Crockford's base32); only their SHA-256 is stored, so the
printed sheet is the one place a code exists. A code answers once: a conditional UPDATE claims it (used_at IS
NULL) and the response's unique code_id backs that up, so two parents typing the same code at once get one
answer in and one refusal. An unknown code and a guessed one get the same answer."""
import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from registry.audit import services as audit
from registry.complaints import services as complaints
from registry.core import clock
from registry.core.errors import Conflict, NotFound, ValidationFailed
from registry.extensions import db
from registry.orders.models import Order, OrderStatus
from registry.passes import queries as pass_queries
from registry.quality.models import SchoolEvaluation, SurveyAlert, SurveyCode, SurveyResponse

EVALUATION_DAYS = 28          # the evaluation opens in the last four weeks of the term
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CODE_LENGTH = 16              # 16 x 5 = 80 random bits
COMMENT_MAX = 300
# Orders that ran (or run) in their term: the ones a school evaluates and surveys.
SERVED = (OrderStatus.accepted, OrderStatus.active, OrderStatus.completed, OrderStatus.suspended)
ALERT_KINDS = {"extra_fee": "家长反映被收取公布价格以外的费用", "not_voluntary": "家长反映孩子并非自愿参加"}
UNKNOWN_CODE = "问卷码无效，请核对纸条上的问卷码后重新输入"
USED_CODE = "这个问卷码已经提交过答卷，每个问卷码只能使用一次。感谢您的参与！"


# ---------------------------------------------------------------- the school's evaluation

def evaluation_window(term):
    """(first day, last day) on which a school may evaluate an order of `term`: its last four weeks."""
    return term.ends_on - timedelta(days=EVALUATION_DAYS - 1), term.ends_on


def evaluation_open(term, day=None):
    opens, closes = evaluation_window(term)
    return opens <= (day or clock.today()) <= closes


def gate_no_shows(order_ids, day=None):
    """未到岗 counts from gate scans ({order_id: count}) for these orders over their terms up to `day`; an order
    whose staff have no entry pass (no gate data) is absent (docs/domain.md "Quality")."""
    day = day or clock.today()
    orders_ = db.session.scalars(select(Order).where(Order.id.in_(list(order_ids) or [-1]))
                                 .options(joinedload(Order.term))).all()
    if not orders_:
        return {}
    start = min(o.term.starts_on for o in orders_)
    end = min(day, max(o.term.ends_on for o in orders_))
    counts = pass_queries.attendance([o.id for o in orders_], start, end)
    return {oid: missed for oid, (_due, missed) in counts.items()}


def save_evaluation(order, *, actor, content, punctuality, safety, engagement, overall, comment="", day=None):
    """Record (or, while the window is open, correct) the school's evaluation of its order."""
    day = day or clock.today()
    if order.status not in SERVED:
        raise Conflict(f"订单状态为“{order.status.label}”，没有提供服务，不能评价", code="not_served")
    if not evaluation_open(order.term, day):
        opens, closes = evaluation_window(order.term)
        raise Conflict(f"学期评价在学期最后四周开放（{opens.isoformat()} 至 {closes.isoformat()}）",
                       code="evaluation_closed", field="order_id")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed({"comment": [f"意见建议最多 {COMMENT_MAX} 字"]})
    no_shows = gate_no_shows([order.id])
    evaluation = db.session.scalar(select(SchoolEvaluation).where(SchoolEvaluation.order_id == order.id))
    created = evaluation is None
    if created:
        evaluation = SchoolEvaluation(order_id=order.id, term_id=order.term_id, school_id=order.school_id,
                                      provider_id=order.provider_id, project_id=order.project_id,
                                      created_by_id=getattr(actor, "id", None))
        db.session.add(evaluation)
    evaluation.content, evaluation.punctuality, evaluation.safety = content, punctuality, safety
    evaluation.engagement, evaluation.overall, evaluation.comment = engagement, overall, comment
    evaluation.no_show_count = (no_shows or {}).get(order.id)
    db.session.flush()
    audit.record("school_evaluation.create" if created else "school_evaluation.update", object_type="order",
                 object_id=order.id, actor=actor, details={"overall": overall.value if overall else None})
    return evaluation


# ---------------------------------------------------------------- survey codes

def _new_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw):
    """The code as stored: upper case, without spaces or dashes, with the letters people confuse for digits
    read as those digits (O → 0, I and L → 1)."""
    text = re.sub(r"[\s\-]", "", str(raw or "")).upper().translate(str.maketrans("OIL", "011"))
    return text if len(text) == CODE_LENGTH and all(c in CODE_ALPHABET for c in text) else None


def hash_code(code):
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def format_code(code):
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def issue_codes(order, *, actor, day=None):
    """A fresh sheet of single-use codes for the order: one per pupil (its expected students) not yet
    answered. The unused codes of an earlier sheet are voided. Returns the codes, which are stored nowhere."""
    day = day or clock.today()
    if order.status not in SERVED:
        raise Conflict(f"订单状态为“{order.status.label}”，没有提供服务，不能发放家长问卷", code="not_served")
    if order.term.ends_on < day:
        raise Conflict("学期已结束，问卷码已过期，不能再发放", code="term_ended")
    now = clock.utcnow()
    voided = db.session.execute(update(SurveyCode).where(
        SurveyCode.order_id == order.id, SurveyCode.used_at.is_(None), SurveyCode.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    answered = db.session.scalar(select(func.count()).select_from(SurveyCode).where(
        SurveyCode.order_id == order.id, SurveyCode.used_at.is_not(None)))
    count = order.expected_students - answered
    if count <= 0:
        raise Conflict(f"本订单 {order.expected_students} 名学生的家长均已作答，无需再发放问卷码", code="all_answered")
    codes = [_new_code() for _ in range(count)]
    db.session.add_all([SurveyCode(order_id=order.id, code_hash=hash_code(c), expires_on=order.term.ends_on,
                                   issued_at=now) for c in codes])
    db.session.flush()
    audit.record("survey.codes_issued", object_type="order", object_id=order.id, actor=actor,
                 details={"issued": count, "voided": voided, "answered": answered})
    return codes


def find_code(raw, day=None):
    """The live code for `raw`: NotFound for a malformed, unknown, guessed or voided code (all alike), Conflict
    for one already answered or expired."""
    day = day or clock.today()
    code = normalize_code(raw)
    found = db.session.scalar(select(SurveyCode).where(SurveyCode.code_hash == hash_code(code))) if code else None
    if found is None or found.revoked_at is not None:
        raise NotFound(UNKNOWN_CODE, field="code", code="unknown_code")
    if found.used_at is not None:
        raise Conflict(USED_CODE, field="code", code="code_used")
    if found.expires_on < day:
        raise Conflict(f"问卷码已于 {found.expires_on.isoformat()} 学期结束时过期，不能再作答", field="code",
                       code="code_expired")
    return found


def answer(raw, *, satisfaction, interest, safety, extra_fee, voluntary, comment="", day=None):
    """A parent's answer through a code. Claims the code (once), stores the answers without anything that
    identifies the parent, and raises an alert for the county on "extra fee asked" or "not voluntary".

    A term-end evening brings a rush of parents, so the usual path is two statements: one conditional UPDATE
    claims a live code and returns its order, one INSERT … SELECT copies the order's term, project and provider
    into the answer. Only a refused code is looked at again (find_code), to say why. On PostgreSQL the
    transaction commits without waiting for the disk (synchronous_commit off, this transaction only): a crash
    in the next fraction of a second loses the claim and the answer together, and the code answers again."""
    day = day or clock.today()
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed({"comment": [f"意见建议最多 {COMMENT_MAX} 字"]})
    code = normalize_code(raw)
    claimed = None
    if code is not None:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL synchronous_commit = off"))
        claimed = db.session.execute(
            update(SurveyCode).where(SurveyCode.code_hash == hash_code(code), SurveyCode.used_at.is_(None),
                                     SurveyCode.revoked_at.is_(None), SurveyCode.expires_on >= day)
            .values(used_at=clock.utcnow()).returning(SurveyCode.id, SurveyCode.order_id)
            .execution_options(synchronize_session=False)).first()
    if claimed is None:
        find_code(raw, day)   # unknown, answered or expired: its own refusal
        raise Conflict(USED_CODE, field="code", code="code_used")   # answered a moment ago by someone else
    code_id, order_id = claimed
    answers = {"satisfaction": satisfaction, "interest": interest, "safety": safety, "extra_fee": extra_fee,
               "voluntary": voluntary, "comment": comment, "created_at": clock.utcnow()}
    db.session.execute(insert(SurveyResponse).from_select(
        ["code_id", "order_id", "term_id", "project_id", "provider_id", *answers],
        select(literal(code_id), Order.id, Order.term_id, Order.project_id, Order.provider_id,
               *(literal(value, SurveyResponse.__table__.c[name].type) for name, value in answers.items()))
        .where(Order.id == order_id)))
    if extra_fee or not voluntary:
        order = db.session.get(Order, order_id)
        if extra_fee:
            raise_alert(order, "extra_fee")
        if not voluntary:
            raise_alert(order, "not_voluntary")
    return code_id


# ---------------------------------------------------------------- alerts for the county

CASE_CATEGORIES = {"extra_fee": "illegal_fees", "not_voluntary": "forced_participation"}


def open_county_case(order, kind):
    """Open a case for the county of the order's school (complaints routes it there): source "survey", the
    category 违规收费 or 强制参加, the order as its subject. Returns the case's id."""
    case = complaints.open_case(
        source="survey", category=CASE_CATEGORIES[kind], order_id=order.id,
        summary=(f"家长满意度问卷：{ALERT_KINDS[kind]}。项目“{order.project.title}”，{order.term.name}，"
                 f"订单 {order.id}。同一订单后续同类答卷只计数，见学期质量评估。"))
    return case.id


def raise_alert(order, kind):
    """The first answer of `kind` on an order opens a case for the county; later ones are counted in the
    standing (one alert row per order and kind, race-safe through its unique constraint)."""
    if db.session.scalar(select(SurveyAlert.id).where(SurveyAlert.order_id == order.id, SurveyAlert.kind == kind)):
        return None
    try:
        with db.session.begin_nested():
            alert = SurveyAlert(order_id=order.id, kind=kind)
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:
        return None  # another answer of the same kind raised it a moment ago
    alert.case_id = open_county_case(order, kind)
    audit.record(f"survey.alert_{kind}", object_type="order", object_id=order.id, actor=None,
                 actor_name="家长问卷", details={"case_id": alert.case_id})
    db.session.flush()
    return alert

"""Each enum carries its own Chinese label (registry/core/enums.py); the module-level *_LABELS mappings are
derived from the enums, keyed as before (by member or by value string)."""
import importlib
import json
import pkgutil
import re

import registry
from registry.adjustments.models import ACTION_LABELS, ActionKind
from registry.applications.models import (
    KIND_LABELS,
    STATUS_LABELS,
    ApplicationKind,
    ApplicationStatus,
)
from registry.auth.roles import ROLE_LABELS, Role
from registry.batches.models import BATCH_STATUS_LABELS, BatchStatus
from registry.core.enums import LabelledEnum
from registry.orders.models import ORDER_STATUS_LABELS, OrderStatus
from registry.projects.models import STAGE_LABELS, Stage

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _labelled_enums():
    for module in pkgutil.walk_packages(registry.__path__, "registry."):
        importlib.import_module(module.name)
    found, stack = [], list(LabelledEnum.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def test_every_member_of_every_labelled_enum_has_a_chinese_label():
    enums = _labelled_enums()
    assert len(enums) >= 23
    for cls in enums:
        for member in cls:
            assert isinstance(member.label, str) and CHINESE.search(member.label), (cls, member)


def test_values_stay_plain_strings():
    member = ApplicationStatus.draft
    assert member.value == "draft" and member == "draft" and isinstance(member, str)
    assert ApplicationStatus("draft") is member and ApplicationStatus["draft"] is member
    assert json.dumps({"status": member}) == '{"status": "draft"}'
    assert f"{member.value}" == "draft"


def test_known_labels():
    assert ApplicationStatus.draft.label == "草稿"
    assert ApplicationStatus.city_review.label == "市级复审中"
    assert ApplicationKind.annual.label == "年审"
    assert Role.sys_admin.label == "系统管理员"
    assert BatchStatus.draft.label == "待公示"
    assert OrderStatus.requested.label == "待机构确认"
    assert ActionKind.ban.label == "禁入"
    assert Stage.junior.label == "初中（7–9年级）"


def test_derived_mappings_keep_their_keys():
    # Keyed by value string, as the hand-written dicts were.
    for mapping, cls in [(STATUS_LABELS, ApplicationStatus), (BATCH_STATUS_LABELS, BatchStatus),
                         (ORDER_STATUS_LABELS, OrderStatus), (ACTION_LABELS, ActionKind)]:
        assert list(mapping) == [m.value for m in cls] and {type(k) for k in mapping} == {str}
        assert list(mapping.values()) == [m.label for m in cls]
    # Keyed by member.
    for mapping, cls in [(KIND_LABELS, ApplicationKind), (ROLE_LABELS, Role), (STAGE_LABELS, Stage)]:
        assert list(mapping) == list(cls) and all(type(k) is cls for k in mapping)
        assert list(mapping.values()) == [m.label for m in cls]
    assert STATUS_LABELS["publicity"] == "公示中" and KIND_LABELS[ApplicationKind.change] == "变更"

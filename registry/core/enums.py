"""Enums that carry their own Chinese label.

A member is declared with its value and its label::

    class BatchStatus(LabelledEnum):
        draft = "draft", "待公示"

`.value` stays the plain string (and the member is a `str` equal to it), so database columns, JSON and
comparisons are as with a plain `str` enum; `.label` is what a page shows. `labels()` and `value_labels()`
give the mappings that pages and forms iterate, in declaration order, keyed by member or by value string."""
import enum


class LabelledEnum(str, enum.Enum):
    label: str

    def __new__(cls, value, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls):
        """{member: label}, in declaration order."""
        return {member: member.label for member in cls}

    @classmethod
    def value_labels(cls):
        """{value string: label}, in declaration order."""
        return {member.value: member.label for member in cls}

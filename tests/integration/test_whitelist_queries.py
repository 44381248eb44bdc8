"""Public whitelist reads: what is in force, filters, short Chinese search, statuses, the statement count."""
from datetime import date

import pytest
from sqlalchemy import event

from registry.batches import pdf as batches_pdf
from registry.whitelist import queries
from registry.whitelist import services as whitelist
from registry.whitelist.models import EntryStatus
from registry.whitelist.schemas import WhitelistEntryOut
from tests.fixtures.reviews import PUBLISHED_ON, add_bulk_entries, at


@pytest.fixture
def three(publish_provider):
    """Three providers in two cities, with different categories, stages, levels and counties."""
    qihang = publish_provider(name="南昌启航体育文化发展有限公司", county_code="360113", projects=[
        {"title": "花样跳绳"},  # sports, lower+upper primary, beginner
        {"title": "篮球提高", "level": "advanced", "stages": ["junior"], "price": "4.50"},
    ])
    kepu = publish_provider(name="南昌市东湖区小小科学家科普服务中心", county_code="360102", extra_counties=["360113"],
                            projects=[{"title": "趣味科普实验", "category": "science", "stages": ["junior"],
                                       "level": "advanced", "price": "0.00"}])
    feiyi = publish_provider(name="赣州章贡非遗剪纸传习社", county_code="360702", projects=[
        {"title": "剪纸入门", "category": "intangible_heritage", "stages": ["lower_primary"]}])
    return {"qihang": qihang, "kepu": kepu, "feiyi": feiyi}


def _titles(filters, day=PUBLISHED_ON):
    return sorted(e.project.title for e in queries.all_entries(filters, day))


def test_everything_in_force_is_listed(db, three):
    assert _titles({}) == ["剪纸入门", "篮球提高", "花样跳绳", "趣味科普实验"]


FILTER_CASES = [
    ({"city": "360100"}, ["篮球提高", "花样跳绳", "趣味科普实验"]),
    ({"city": "360700"}, ["剪纸入门"]),
    ({"county": "360113"}, ["篮球提高", "花样跳绳", "趣味科普实验"]),   # 科普 covers 红谷滩区 too
    ({"county": "360102"}, ["趣味科普实验"]),
    ({"county": "360702"}, ["剪纸入门"]),
    ({"category": "science"}, ["趣味科普实验"]),
    ({"category": "intangible_heritage"}, ["剪纸入门"]),
    ({"stage": "lower_primary"}, ["剪纸入门", "花样跳绳"]),
    ({"stage": "upper_primary"}, ["花样跳绳"]),
    ({"stage": "junior"}, ["篮球提高", "趣味科普实验"]),
    ({"level": "advanced"}, ["篮球提高", "趣味科普实验"]),
    ({"city": "360100", "stage": "junior", "category": "sports"}, ["篮球提高"]),
]


def test_filters(db, three):
    # One data set, many cases (the path that publishes three providers is the slow part).
    results = {str(filters): _titles(filters) for filters, _expected in FILTER_CASES}
    assert results == {str(filters): expected for filters, expected in FILTER_CASES}


SEARCH_CASES = [
    ("跳", ["花样跳绳"]),                        # one character of a project title
    ("跳绳", ["花样跳绳"]),                      # two characters
    ("剪", ["剪纸入门"]),
    ("章贡", ["剪纸入门"]),                      # two characters of a provider name
    ("启航", ["篮球提高", "花样跳绳"]),          # a provider-name fragment finds all its projects
    ("科普", ["趣味科普实验"]),                  # in both the provider name and the title
    ("科", ["趣味科普实验"]),
    ("不存在的机构", []),
    ("%", []),                                   # LIKE wildcards are escaped
    ("_", []),
]


def test_short_chinese_search(db, three):
    results = {text: _titles({"q": text}) for text, _expected in SEARCH_CASES}
    assert results == dict(SEARCH_CASES)


def test_search_by_full_uscc(db, three):
    uscc = three["feiyi"]["provider"].uscc
    assert _titles({"q": uscc.lower()}) == ["剪纸入门"]


def test_suspended_entries_stay_listed_with_their_status_delisted_ones_go(db, three):
    entry = three["qihang"]["entries"][0]
    reviewer = three["qihang"]["city_reviewer"]
    whitelist.ENTRY.transition(entry, "suspend", actor=reviewer, reason="投诉核查中")
    listed = {e.project.title: e.status for e in queries.all_entries({"city": "360100"}, PUBLISHED_ON)}
    assert listed["花样跳绳"] == EntryStatus.suspended
    assert _titles({"status": "suspended"}) == ["花样跳绳"]
    assert "花样跳绳" not in _titles({"status": "active"})
    whitelist.ENTRY.transition(entry, "delist", actor=reviewer, reason="严重投诉成立")
    assert "花样跳绳" not in _titles({})


def test_suspension_whose_lift_date_passed_counts_as_active(db, three, frozen_clock):
    entry = three["qihang"]["entries"][0]
    whitelist.ENTRY.transition(entry, "suspend", actor=three["qihang"]["city_reviewer"], reason="限期整改",
                               changes={"suspended_until": date(2026, 3, 20)})
    assert _titles({"status": "suspended"}, day=date(2026, 3, 20)) == ["花样跳绳"]
    assert _titles({"status": "suspended"}, day=date(2026, 3, 21)) == []
    assert "花样跳绳" in _titles({"status": "active"}, day=date(2026, 3, 21))
    at(date(2026, 3, 21))
    dumped = WhitelistEntryOut(many=True).dump(queries.all_entries({"q": "花样跳绳"}))
    assert [(d["status"], d["status_label"]) for d in dumped] == [("active", "有效")]


def test_entry_past_valid_until_drops_out_without_any_job(db, three, frozen_clock):
    entry = three["qihang"]["entries"][0]
    assert entry.valid_until == date(2026, 8, 31) and entry.status == EntryStatus.active
    at(date(2026, 8, 31))
    assert "花样跳绳" in _titles({}, day=None)
    at(date(2026, 9, 1))
    assert _titles({}, day=None) == []
    assert entry.status == EntryStatus.active  # nothing was swept: the date alone decides


def test_entry_not_yet_valid_is_not_listed(db, three):
    assert _titles({}, day=date(2026, 3, 9)) == []


def test_provider_page_splits_current_and_past(db, three):
    qihang = three["qihang"]
    whitelist.ENTRY.transition(qihang["entries"][1], "delist", actor=qihang["city_reviewer"], reason="质量不达标")
    view = queries.provider_page(qihang["provider"].id, PUBLISHED_ON)
    assert [e.project.title for e in view.current] == ["花样跳绳"]
    assert [e.project.title for e in view.past] == ["篮球提高"]
    assert view.counties == ["红谷滩区"] and view.has_active


def test_provider_without_entries_is_not_found(db, provider_admin):
    from registry.core.errors import NotFound
    with pytest.raises(NotFound):
        queries.provider_page(provider_admin.provider_id)


def test_announcement_rows_are_the_batch_contents(db, three):
    rows = queries.announcement_rows(three["qihang"]["batch"])
    assert [(r.provider.name, r.project.title) for r in rows] == [
        ("南昌启航体育文化发展有限公司", "篮球提高"), ("南昌启航体育文化发展有限公司", "花样跳绳")]
    assert {(r.valid_from, r.valid_until) for r in rows} == {(PUBLISHED_ON, date(2026, 8, 31))}


def test_page_blocks_number_the_rows_and_leave_room_for_the_title():
    assert batches_pdf.page_blocks(list("abcdefg"), 2, 3) == [
        [(1, "a"), (2, "b")], [(3, "c"), (4, "d"), (5, "e")], [(6, "f"), (7, "g")]]
    assert batches_pdf.page_blocks([], 2, 3) == [[]]


@pytest.mark.parametrize("mask, text", [(1, "1–3年级"), (3, "1–6年级"), (7, "1–9年级"), (6, "4–9年级"),
                                        (5, "1–3、7–9年级"), (4, "7–9年级"), (2, "4–6年级")])
def test_grades(mask, text):
    assert batches_pdf.grades(mask) == text


class StatementCounter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __call__(self, *_args, **_kwargs):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self)


def _statements_for_page(db, per_page):
    db.session.expunge_all()  # nothing cached in the identity map from the setup
    with StatementCounter(db.session.get_bind().engine) as counter:
        page = queries.list_entries({}, 1, per_page, PUBLISHED_ON)
        WhitelistEntryOut(many=True).dump(page.items)  # touches every relation the pages and the API show
        for e in page.items:
            _ = (e.provider.county.name, e.project.stage_labels, e.batch.issuer, e.batch.city.name)
    return counter.count, len(page.items)


def test_list_statement_count_does_not_grow_with_the_page(db, published):
    add_bulk_entries(db, published["batch"], 110)
    small, n_small = _statements_for_page(db, 20)
    large, n_large = _statements_for_page(db, 100)
    assert (n_small, n_large) == (20, 100)
    assert small == large, (small, large)
    assert small <= 5

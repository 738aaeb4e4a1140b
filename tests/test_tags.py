"""Tags of WordNet pairs: the affix rule on hand-written cases, and the tags of real rows of the committed table."""

from __future__ import annotations

from pathlib import Path

import pytest

from duality_bench.data.pairs.tags import (
    CORE_MIN_ZIPF,
    PairTags,
    in_core,
    is_affix_pair,
    near_threshold,
    tag_pairs,
    zipf_report,
)
from duality_bench.data.pairs.wordnet import WordNetRow, read_table
from tests.need import need_module

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "wordnet_pairs.csv"

AFFIX = [
    ("aware", "unaware"),
    ("legal", "illegal"),
    ("possible", "impossible"),
    ("careful", "careless"),
    ("hopeful", "hopeless"),
    ("activate", "deactivate"),
    ("symmetrical", "asymmetrical"),
    ("nonconformist", "conformist"),
    ("Nonconformist", "conformist"),  # case does not matter
    ("dislike", "like"),
    ("disarm", "arm"),
    ("ability", "inability"),
    ("irregular", "regular"),
    ("noble", "ignoble"),
    ("normal", "abnormal"),
    ("clockwise", "counterclockwise"),
    ("indicate", "contraindicate"),
    ("behave", "misbehave"),
    ("function", "malfunction"),
    ("aerobic", "anaerobic"),
    ("agonist", "antagonist"),
    ("do", "undo"),
    ("engagement", "non-engagement"),
    ("self-consciously", "unselfconsciously"),
    ("go", "no-go"),
    ("armed", "armless"),
    ("hairy", "hairless"),
    ("bony", "boneless"),
    ("rimmed", "rimless"),
    ("tasty", "tasteless"),
    ("fear", "fearlessness"),
    ("lawfully", "lawlessly"),
    ("synchronous operation", "asynchronous operation"),
]
NOT_AFFIX = [
    ("in", "out"),
    ("under", "over"),
    ("increase", "decrease"),
    ("include", "exclude"),
    ("import", "export"),
    ("inhale", "exhale"),
    ("inside", "outside"),
    ("descend", "ascend"),
    ("abaxial", "adaxial"),
    ("decode", "encode"),
    ("disable", "enable"),
    ("hypertension", "hypotension"),
    ("ordinary", "extraordinary"),
    ("sonic", "supersonic"),
    ("male", "female"),
    ("man", "woman"),
    ("ever", "never"),
    ("here", "there"),
    ("overt", "covert"),
    ("bless", "curse"),
    ("less", "more"),
    ("moonless", "moonlit"),
    ("hot", "cold"),
    ("ascending node", "descending node"),
    ("plug in", "unplug"),
]


@pytest.mark.parametrize(("a", "b"), AFFIX)
def test_affix_pairs_either_order(a: str, b: str) -> None:
    assert is_affix_pair(a, b)
    assert is_affix_pair(b, a)


@pytest.mark.parametrize(("a", "b"), NOT_AFFIX)
def test_pairs_that_only_look_prefixed_are_not_affix_pairs(a: str, b: str) -> None:
    assert not is_affix_pair(a, b)
    assert not is_affix_pair(b, a)


def test_names_follow_the_fixed_order() -> None:
    assert PairTags(affix=True, multiword=True, proper=True, set=True, zipf=3.0).names == (
        "affix",
        "multiword",
        "proper",
        "set",
    )
    assert PairTags(affix=False, multiword=False, proper=True, set=True, zipf=3.0).names == ("proper", "set")
    assert PairTags(affix=False, multiword=False, proper=False, set=False, zipf=3.0).names == ()


def test_in_core_needs_a_single_lower_case_common_pair() -> None:
    common = PairTags(affix=True, multiword=False, proper=False, set=False, zipf=CORE_MIN_ZIPF)
    assert in_core(common)  # affix pairs belong to the core
    assert not in_core(PairTags(affix=False, multiword=True, proper=False, set=False, zipf=5.0))
    assert not in_core(PairTags(affix=False, multiword=False, proper=True, set=False, zipf=5.0))
    assert not in_core(PairTags(affix=False, multiword=False, proper=False, set=False, zipf=CORE_MIN_ZIPF - 0.01))


@pytest.fixture(scope="module")
def table() -> dict[tuple[str, str], PairTags]:
    need_module("wordfreq")
    rows = read_table(COMMITTED)
    return {(r.a, r.b): t for r, t in zip(rows, tag_pairs(rows), strict=True)}


def test_real_rows(table: dict[tuple[str, str], PairTags]) -> None:
    for pair in (("admit", "deny"), ("admit", "exclude"), ("admit", "reject")):
        assert table[pair].set, pair
    assert table[("aware", "unaware")].names == ("affix",)
    assert table[("a posteriori", "a priori")].multiword
    assert not table[("left-handed", "right-handed")].multiword  # hyphenated words are single words
    assert table[("Heaven", "Hell")].proper
    assert table[("anti-American", "pro-American")].proper
    assert not table[("cold", "hot")].proper


def test_core_keeps_hot_cold_and_drops_rare_technical_pairs(table: dict[tuple[str, str], PairTags]) -> None:
    hot = table[("cold", "hot")]
    assert in_core(hot)
    assert hot.zipf == pytest.approx(5.02, abs=0.3)  # cold, the rarer word
    assert not in_core(table[("binucleate", "trinucleate")])
    assert not in_core(table[("monoclinic", "triclinic")])


def test_tags_keep_row_order_and_count_sets_within_the_rows() -> None:
    need_module("wordfreq")
    rows = [
        WordNetRow("cold", "hot", "a", ("a",), "cold.a.01", "hot.a.01"),
        WordNetRow("admit", "deny", "v", ("v",), "admit.v.01", "deny.v.01"),
        WordNetRow("admit", "reject", "v", ("v",), "admit.v.02", "reject.v.06"),
    ]
    hot, deny, reject = tag_pairs(rows)
    assert (hot.set, deny.set, reject.set) == (False, True, True)
    assert reject.zipf < deny.zipf  # reject is rarer than deny


def test_zipf_report_and_near_threshold_agree_with_in_core() -> None:
    need_module("wordfreq")
    rows = [
        WordNetRow("cold", "hot", "a", ("a",), "cold.a.01", "hot.a.01"),
        WordNetRow("aware", "unaware", "a", ("a",), "aware.a.01", "unaware.a.01"),
        WordNetRow("binucleate", "trinucleate", "a", ("a",), "binucleate.a.01", "trinucleate.a.01"),
    ]
    tags = tag_pairs(rows)
    report = zipf_report(rows, tags, thresholds=(CORE_MIN_ZIPF,))[CORE_MIN_ZIPF]
    assert report[("all", "all")] == 2
    assert report[("a", "affix")] == report[("a", "lexical")] == 1
    below, above = near_threshold(rows, tags, 3.8, width=0.5)  # unaware is at about 3.9
    assert [r.b for r, _ in above] == ["unaware"]
    assert below == []

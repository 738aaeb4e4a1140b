"""The WordNet pairs table: reading it (fast, no nltk) and regenerating it from WordNet 3.0 (marked)."""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from pathlib import Path

import pytest

from duality_bench.data.pairs.senses import rare_sense
from duality_bench.data.pairs.table import PairsError
from duality_bench.data.pairs.wordnet import (
    DEBIAN_WORDNET,
    REQUIRED,
    WordNetError,
    WordNetRow,
    extract_pairs,
    prepare_wordnet,
    read_table,
    read_wordnet,
    write_table,
)
from tests.need import need

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "wordnet_pairs.csv"
HEADER = ",".join(REQUIRED)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "wordnet_pairs.csv"
    path.write_text("\n".join((HEADER, *lines)) + "\n", encoding="utf-8")
    return path


def test_read_wordnet_fills_fields_and_skips_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "Heaven,Hell,n,n,heaven.n.01,hell.n.01", "", "in,out,a,a;r,in.a.01,out.a.01")
    heaven, inout = read_wordnet(path)
    assert (heaven.a, heaven.b, heaven.pos, heaven.category, heaven.source) == (
        "Heaven",
        "Hell",
        "n",
        "wordnet-n",
        "wordnet",
    )
    assert (heaven.synset_a, heaven.synset_b) == ("heaven.n.01", "hell.n.01")
    assert heaven.id == "wn.n.Heaven-Hell"
    assert read_table(path)[1].all_pos == ("a", "r")
    assert inout.a_other_duals == inout.b_other_duals == ()


def test_other_duals_come_from_the_whole_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "center,left,a,a,center.a.02,left.a.04",
        "center,right,a,a,center.a.02,right.a.07",
        "left,right,n,n;a,left.n.01,right.n.02",
        "right,wrong,n,n;a,right.n.07,wrong.n.01",
        "up,down,r,r,up.r.01,down.r.01",
    )
    pairs = {(p.a, p.b): p for p in read_wordnet(path)}
    left_right = pairs["left", "right"]
    assert left_right.a_other_duals == ("center",)
    assert left_right.b_other_duals == ("center", "wrong")  # sorted, partner excluded
    assert pairs["right", "wrong"].a_other_duals == ("center", "left")
    assert pairs["right", "wrong"].b_other_duals == ()
    assert pairs["up", "down"].a_other_duals == pairs["up", "down"].b_other_duals == ()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("left,right,a,a,left.a.01", "expected 6 columns"),
        ("left,right,a,a,left.a.01,right.a.01,extra", "expected 6 columns"),
        (",right,a,a,left.a.01,right.a.01", "both words are required"),
        ("left, ,a,a,left.a.01,right.a.01", "both words are required"),
        ("Kern,kern,v,v,kern.v.01,kern.v.02", "two different words"),
        ("left,right,adj,a,left.a.01,right.a.01", "unknown part of speech 'adj'"),
        ("left,right,s,a,left.s.01,right.s.01", "unknown part of speech 's'"),
        ("left,right,a,n,left.a.01,right.a.01", "all_pos"),
        ("left,right,a,a;x,left.a.01,right.a.01", "all_pos"),
    ],
)
def test_malformed_row_names_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, "up,down,r,r,up.r.01,down.r.01", row)
    with pytest.raises(PairsError, match=message) as info:
        read_wordnet(path)
    text = str(info.value)
    assert text.startswith(f"{path}:3: ") and "\n" not in text


def test_duplicate_pair_and_bad_header_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "up,down,r,r,up.r.01,down.r.01", "down,up,r,r,down.r.01,up.r.01")
    with pytest.raises(PairsError, match=r":3: duplicate pair down/up \(first on line 2\)"):
        read_wordnet(path)
    path.write_text("a,b,pos\nup,down,r\n", encoding="utf-8")
    with pytest.raises(PairsError, match=r":1: header must be a,b,pos,all_pos"):
        read_wordnet(path)
    with pytest.raises(PairsError, match="cannot read"):
        read_wordnet(tmp_path / "absent.csv")


def test_write_table_round_trips_with_lf_line_ends(tmp_path: Path) -> None:
    rows = [
        WordNetRow("Arabic numeral", "Roman numeral", "n", ("n",), "arabic_numeral.n.01", "roman_numeral.n.01"),
        WordNetRow("in", "out", "n", ("n", "a", "r"), "in.n.01", "out.n.01"),
    ]
    path = tmp_path / "t.csv"
    write_table(rows, path)
    assert b"\r" not in path.read_bytes()
    assert read_table(path) == rows


def test_prepare_wordnet_names_the_missing_files(tmp_path: Path) -> None:
    with pytest.raises(WordNetError, match="no such WordNet folder; apt-get install wordnet-base"):
        prepare_wordnet(tmp_path / "nltk_data", source=tmp_path / "absent")
    source = tmp_path / "partial"
    source.mkdir()
    (source / "data.noun").write_text("", encoding="utf-8")
    with pytest.raises(WordNetError, match="apt-get install wordnet-base wordnet-sense-index") as info:
        prepare_wordnet(tmp_path / "nltk_data", source=source)
    assert "index.sense" in str(info.value) and "data.noun" not in str(info.value)
    assert "\n" not in str(info.value)


def test_read_wordnet_does_not_import_nltk(tmp_path: Path) -> None:
    import subprocess

    path = write(tmp_path, "up,down,r,r,up.r.01,down.r.01")
    code = (
        "import sys; from duality_bench.data.pairs.wordnet import read_wordnet; "
        f"read_wordnet({str(path)!r}); assert 'nltk' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=COMMITTED.parents[1])


def test_committed_table_reads() -> None:
    pairs = read_wordnet(COMMITTED)
    assert len(pairs) == 3555
    assert [(p.a, p.b) for p in pairs] == sorted((p.a, p.b) for p in pairs)


@pytest.mark.wordnet
def test_regenerated_table_is_byte_identical(tmp_path: Path) -> None:
    need(
        (DEBIAN_WORDNET / "data.noun").exists(),
        f"no WordNet 3.0 in {DEBIAN_WORDNET} (apt-get install wordnet-base wordnet-sense-index)",
    )
    rows = extract_pairs(prepare_wordnet(tmp_path / "nltk_data"))
    out = tmp_path / "wordnet_pairs.csv"
    write_table(rows, out)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(COMMITTED.read_bytes()).hexdigest()
    # WordNet 3.0 has 3556 distinct unordered antonym word pairs; kern/kern (kern.v.01 vs kern.v.02)
    # is the one with the same word twice, so the table holds 3555.
    assert len(rows) == 3555
    # primary pos: the first of n, v, a, r that links common senses (high/low: a, not n)
    assert Counter(r.pos for r in rows) == {"n": 983, "v": 461, "a": 1808, "r": 303}
    by_words = {(r.a, r.b): r for r in rows}
    assert by_words["high", "low"].pos == "a"
    assert rare_sense(by_words["geographic", "magnetic"].counts_a, by_words["geographic", "magnetic"].counts_b)
    assert not rare_sense(by_words["cold", "hot"].counts_a, by_words["cold", "hot"].counts_b)
    assert Counter(p for r in rows for p in r.all_pos) == {"n": 992, "v": 476, "a": 1834, "r": 325}

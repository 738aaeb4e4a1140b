"""Scaling out: data-parallel runs under accelerate (gloo on the CPU), sweeps, device maps."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from duality_bench.cli import main
from duality_bench.evaluation.items import items_path, read_items_file, write_items_file
from duality_bench.evaluation.run import EvalConfig, evaluate
from duality_bench.models.loading import load_model
from duality_bench.results import load_result

ARGS = ["--config", "curated", "--limit", "60", "--batch-size", "7", "--no-progress"]


def _launch(folder, out, *extra):
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    cmd += ["-m", "duality_bench", "eval", str(folder), *ARGS, "--out", str(out), *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _scores(out):
    return read_items_file(items_path(out))[1]


@pytest.fixture(scope="module")
def single(tiny_gpt2_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "r.json"
    assert main(["eval", str(tiny_gpt2_dir), *ARGS, "--out", str(out)]) == 0
    return out


def test_two_processes_equal_one_item_for_item(tiny_gpt2_dir, single, tmp_path):
    out = tmp_path / "dp.json"
    _launch(tiny_gpt2_dir, out)
    one, two = _scores(single), _scores(out)
    assert [s.item_id for s in two] == [s.item_id for s in one] and len(one) == 60
    for a, b in zip(one, two, strict=True):
        assert b.target_logit == pytest.approx(a.target_logit, abs=1e-5)
        assert b.logit_diff == pytest.approx(a.logit_diff, abs=1e-5)
    r1, r2 = load_result(single), load_result(out)
    assert (r1.options.processes, r2.options.processes) == (1, 2)
    assert r2.metrics.duality_accuracy == r1.metrics.duality_accuracy
    assert r2.metrics.logit_diff == pytest.approx(r1.metrics.logit_diff, abs=1e-5)
    assert not list(tmp_path.glob("*.rank*.jsonl"))  # part files are merged away


def test_a_dead_shard_loses_only_unfinished_batches(tiny_gpt2_dir, single, tmp_path):
    """A part file left by a killed process is picked up by --resume; the result is the same."""
    header, scores = read_items_file(items_path(single))
    out = tmp_path / "dp.json"
    write_items_file(items_path(out), {"fingerprint": header["fingerprint"]}, [])
    part = items_path(out).with_name("dp.items.rank1.jsonl")
    write_items_file(part, {"fingerprint": header["fingerprint"]}, scores[::3])
    with open(part, "a") as f:
        f.write('{"item_id": "torn')  # killed mid-write
    done = _launch(tiny_gpt2_dir, out, "--resume")
    assert "Traceback" not in done.stderr
    assert [s.item_id for s in _scores(out)] == [s.item_id for s in scores]
    assert load_result(out).metrics.duality_accuracy == load_result(single).metrics.duality_accuracy


def test_num_processes_shortcut_relaunches_under_accelerate(tiny_gpt2_dir, single, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "short.json"
    assert main(["eval", str(tiny_gpt2_dir), *ARGS, "--out", str(out), "--num-processes", "2"]) == 0
    assert [s.item_id for s in _scores(out)] == [s.item_id for s in _scores(single)]


def test_sweep_goes_past_a_bad_model_and_skips_finished_ones(tiny_gpt2_dir, tiny_llama_dir, tmp_path, capsys):
    argv = ["eval", str(tiny_gpt2_dir), "smollm2-135", str(tiny_llama_dir), *ARGS, "--out", str(tmp_path)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "error: smollm2-135: unknown model 'smollm2-135'; did you mean smollm2-135m?" in captured.err
    written = sorted(p.parent.parent.name for p in tmp_path.glob("*/default/curated.json"))
    assert written == sorted([tiny_gpt2_dir.name, tiny_llama_dir.name])
    assert "failed" in captured.out and captured.out.count("done") == 2

    models_file = tmp_path / "models.txt"
    models_file.write_text(f"# two tiny models\n{tiny_gpt2_dir}\n\n{tiny_llama_dir}  # rotary\n")
    assert main(["eval", "--models-file", str(models_file), *ARGS, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("skipped") == 2 and "already holds this run's results" in out


def test_several_models_refuse_a_single_output(tiny_gpt2_dir, tmp_path, capsys):
    assert main(["eval", str(tiny_gpt2_dir), str(tiny_gpt2_dir), "--out", str(tmp_path / "x.json")]) == 2
    assert "use --out DIR for several models" in capsys.readouterr().err


def test_device_map_auto_gives_the_same_scores(tiny_llama_dir, tmp_path):
    from duality_bench.data.dataset import load_items

    items = load_items("curated")[:40]
    plain = evaluate(
        load_model(str(tiny_llama_dir), device="cpu"),
        EvalConfig(output=tmp_path / "a.json", progress=False),
        items=items,
    )
    mapped_model = load_model(str(tiny_llama_dir), device_map="auto")
    mapped = evaluate(mapped_model, EvalConfig(output=tmp_path / "b.json", progress=False), items=items)
    assert [s.logit_diff for s in mapped.scores] == pytest.approx([s.logit_diff for s in plain.scores], abs=1e-5)

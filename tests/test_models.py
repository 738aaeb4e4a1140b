"""The model's room: `as_loaded` is the one shape the three entry points take, and the same model
given as a spec, a `LoadedModel` or a `(model, tokenizer)` pair gives the same numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from duality_bench.analysis import AnalysisConfig, analyze
from duality_bench.circuits import CircuitConfig, find_circuit
from duality_bench.evaluation.run import EvalConfig, evaluate
from duality_bench.models.loading import LoadedModel, as_loaded, load_model
from duality_bench.models.registry import ModelError


def test_as_loaded_keeps_a_loaded_model_and_describes_a_pair(tiny_gpt2_dir: Path) -> None:
    loaded = load_model(str(tiny_gpt2_dir), dtype="float32", device="cpu")
    assert as_loaded(loaded) is loaded
    pair = as_loaded((loaded.model, loaded.tokenizer))
    assert isinstance(pair, LoadedModel) and pair.model is loaded.model and pair.tokenizer is loaded.tokenizer
    assert (pair.n_params, pair.dtype, pair.device, pair.architecture) == (
        loaded.n_params,
        "float32",
        "cpu",
        "GPT2LMHeadModel",
    )
    with pytest.raises(ModelError, match="a spec string, a LoadedModel, or a \\(model, tokenizer\\) pair"):
        as_loaded(42)  # type: ignore[arg-type]


def test_the_three_entry_points_take_every_shape_alike(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    loaded = load_model(str(tiny_gpt2_dir), dtype="float32", device="cpu")
    shapes = {"spec": str(tiny_gpt2_dir), "loaded": loaded, "pair": (loaded.model, loaded.tokenizer)}
    scores, lds, curves = {}, {}, {}
    for name, model in shapes.items():
        config = EvalConfig(dataset="curated", limit=6, device="cpu", output=str(tmp_path / f"{name}.json"))
        scores[name] = [s.logit_diff for s in evaluate(model, config).scores]
        lds[name] = analyze(model, AnalysisConfig(limit=4, figures=False, device="cpu")).ld_clean
        curves[name] = find_circuit(model, CircuitConfig(limit=4, figures=False, device="cpu")).cpr
    assert scores["loaded"] == pytest.approx(scores["spec"]) and scores["pair"] == pytest.approx(scores["spec"])
    assert torch.allclose(lds["spec"], lds["loaded"]) and torch.allclose(lds["spec"], lds["pair"])
    assert curves["loaded"] == pytest.approx(curves["spec"]) and curves["pair"] == pytest.approx(curves["spec"])


def test_an_offline_file_with_another_checksum_is_refused(monkeypatch, tmp_path: Path) -> None:
    from duality_bench.models import loading, registry

    entry = registry.OfflineModel("some-package", "some_package", "f.gguf", sha256="0" * 64)
    monkeypatch.setitem(registry.OFFLINE_MODELS, "fake-model", entry)
    monkeypatch.setattr(registry.OfflineModel, "locate", lambda self: tmp_path / "f.gguf")
    monkeypatch.setattr(loading, "convert_gguf", lambda path: (tmp_path, "1" * 64))
    with pytest.raises(ModelError, match=r"has sha256 1{16}\.\.\., not the published 0{16}\.\.\.; reinstall"):
        loading.resolve("fake-model")

"""`analyze(model, config)`: logit lens, head attribution, activation patching and attention
patterns on the dataset's clean/corrupted prompt pairs, as tensors, and optionally as files."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from duality_bench.analysis.attribution import Attribution, attribute
from duality_bench.analysis.lens import logit_lens
from duality_bench.analysis.patching import check_sites, patch
from duality_bench.analysis.report import write_outputs
from duality_bench.analysis.result import AnalysisConfig, AnalysisResult
from duality_bench.analysis.trace import run_trace, tokenize_items
from duality_bench.data.records import PromptItem
from duality_bench.data.selection import select_items
from duality_bench.errors import DualityBenchError
from duality_bench.models.adapters import adapt
from duality_bench.models.loading import as_loaded


def analyze(
    model: Any, config: AnalysisConfig | None = None, *, items: Sequence[PromptItem] | None = None
) -> AnalysisResult:
    """Run the circuit analyses of one model on clean/corrupted prompt pairs.

    `model` is a spec for `duality_bench.evaluation.models.load_model` ("gpt2", "smollm2-135m", a folder), a
    `LoadedModel`, or a `(transformers model, tokenizer)` pair. `items` replaces the dataset (the
    config's pair, direction and template filters still apply; `pairs=()` keeps every pair).
    Returns an `AnalysisResult`; with `config.out` set, also writes the report, JSON and figures.
    """
    config = config or AnalysisConfig()
    sites = check_sites(config.sites)
    for name in ("batch_size", "items_per_batch", "top_k"):
        if getattr(config, name) < 1:
            raise DualityBenchError(f"{name} must be at least 1, got {getattr(config, name)}")
    if config.plotly_js not in ("cdn", "inline"):
        raise DualityBenchError(f"plotly_js must be 'cdn' or 'inline', got {config.plotly_js!r}")
    chosen = select_items(config.selection, items)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    loaded = as_loaded(model, device=config.device, dtype=config.dtype)
    hf_model, tokenizer, model_id = loaded.model, loaded.tokenizer, loaded.id
    info = {k: v for k, v in asdict(loaded).items() if k not in ("model", "tokenizer")}
    seconds["load"] = time.perf_counter() - start
    adapter = adapt(hf_model)
    device = adapter.param.device
    batches, skipped = tokenize_items(tokenizer, chosen, max_batch=config.items_per_batch, device=device)
    if not batches:
        reasons = ", ".join(f"{n} {k}" for k, n in skipped.items())
        raise DualityBenchError(f"none of the {len(chosen)} items can be analysed with this tokenizer ({reasons})")
    parts: list[dict[str, Any]] = []
    timer = Counter()
    for batch in batches:
        t = time.perf_counter()
        clean = run_trace(adapter, batch.clean, batch.mask)
        corrupted = run_trace(adapter, batch.corrupted, batch.mask)
        lens = logit_lens(adapter, clean, batch)
        attr = attribute(adapter, clean, batch)
        timer["trace_lens_attribution"] += time.perf_counter() - t
        t = time.perf_counter()
        patching = patch(adapter, batch, sites, clean=clean, corrupted=corrupted, batch_size=config.batch_size)
        timer["patching"] += time.perf_counter() - t
        parts.append(
            {
                "batch": batch,
                "lens": lens.cpu(),
                "attr": attr,
                "patching": patching,
                "attention": clean.pattern_final.transpose(0, 1).float().cpu(),  # [item, layer, head, pos]
            }
        )
    seconds.update(timer)
    result = _assemble(parts, tokenizer, adapter, model_id, info, dict(skipped), seconds, config)
    if config.out is not None:
        write_outputs(result, config)
    return result


def _right_align(tensors: list[torch.Tensor], width: int, fill: torch.Tensor | float, dim: int) -> torch.Tensor:
    """Concatenate per-batch tensors [item, ..., pos, ...] after left-padding `dim` to `width`."""
    out = []
    for t, f in zip(tensors, fill if isinstance(fill, list) else [fill] * len(tensors), strict=True):
        pad = width - t.shape[dim]
        if pad:
            shape = list(t.shape)
            shape[dim] = pad
            if isinstance(f, torch.Tensor):
                block = f.view((-1,) + (1,) * (t.dim() - 1)).expand(shape).to(t.dtype)
            else:
                block = torch.full(shape, f, dtype=t.dtype)
            t = torch.cat([block, t], dim=dim)
        out.append(t)
    return torch.cat(out)


def _assemble(parts, tokenizer, adapter, model_id, info, skipped, seconds, config) -> AnalysisResult:
    width = max(p["batch"].clean.shape[1] for p in parts)
    cat = lambda get: torch.cat([get(p) for p in parts])  # noqa: E731
    ld_corr = [p["patching"].ld_corrupted for p in parts]
    patched, computed = {}, {}
    for site in config.sites:
        ps = [p["patching"].ld_patched[site] for p in parts]
        cs = [p["patching"].computed[site] for p in parts]
        if site.startswith("resid"):
            patched[site] = _right_align(ps, width, ld_corr, dim=2)
            computed[site] = _right_align(cs, width, False, dim=2)
        else:
            patched[site], computed[site] = torch.cat(ps), torch.cat(cs)
    a = [p["attr"] for p in parts]
    attribution = Attribution(*(torch.cat([getattr(x, f).cpu() for x in a]) for f in Attribution.__dataclass_fields__))
    tokens, cue_positions = [], []
    for p in parts:
        b = p["batch"]
        for i in range(len(b)):
            n = int(b.lengths[i])
            ids = b.clean[i, -n:].tolist()
            tokens.append(tuple(tokenizer.decode([t]) for t in ids))
            cue_positions.append(width - b.clean.shape[1] + int(b.first_diff[i]))
    return AnalysisResult(
        model_id=model_id,
        n_layers=adapter.n_layers,
        n_heads=adapter.n_heads,
        items=tuple(i for p in parts for i in p["batch"].items),
        tokens=tuple(tokens),
        cue_position=torch.tensor(cue_positions),
        lengths=cat(lambda p: p["batch"].lengths.cpu()),
        ld_clean=cat(lambda p: p["patching"].ld_clean),
        ld_corrupted=torch.cat(ld_corr),
        lens=cat(lambda p: p["lens"]),
        attribution=attribution,
        patched=patched,
        computed=computed,
        attention=_right_align([p["attention"] for p in parts], width, 0.0, dim=3),
        skipped=skipped,
        seconds=seconds,
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        model_info=info,
    )

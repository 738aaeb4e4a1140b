"""`analyze(model, config)`: logit lens, head attribution, activation patching and attention
patterns on the dataset's clean/corrupted prompt pairs, as tensors, and optionally as files."""

from __future__ import annotations

import difflib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from duality_bench.analysis.attribution import Attribution, attribute
from duality_bench.analysis.components import adapt
from duality_bench.analysis.lens import logit_lens
from duality_bench.analysis.patching import SITES, check_sites, patch
from duality_bench.analysis.recovery import recovery_per_item
from duality_bench.analysis.report import write_outputs
from duality_bench.analysis.trace import run_trace, tokenize_items
from duality_bench.data.dataset import first_items, load_items
from duality_bench.data.records import DIRECTIONS, PromptItem
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.models import load_model


@dataclass(frozen=True)
class AnalysisConfig:
    pairs: tuple[str, ...] = ("left-right",)  # pair ids ("left-right"); empty: every pair of the dataset
    dataset: str = "curated"  # the dataset config: curated, wordnet or all
    dataset_dir: Path | None = None  # default: the packaged dataset
    directions: tuple[str, ...] = DIRECTIONS
    templates: tuple[str, ...] = ()  # template ids; empty: all
    limit: int | None = None  # at most this many items (after the filters above)
    sites: tuple[str, ...] = SITES  # patching sites, see duality_bench.analysis.patching
    batch_size: int = 256  # patched prompts per forward pass (at most)
    items_per_batch: int = 32  # prompts traced together
    top_k: int = 5  # components named per group in the report
    out: Path | None = None  # write report.md, analysis.json, figures (PNG + HTML) here
    figures: bool = True
    plotly_js: str = "cdn"  # "cdn" (small HTML files) or "inline" (opens offline)
    example_template: str | None = "spatial.two_hands.v1"  # whose prompts the attention figure shows
    device: str = "auto"  # when `model` is a spec string
    dtype: str = "auto"


@dataclass(frozen=True)
class AnalysisResult:
    """Everything `analyze` measured. Per-item tensors are right-aligned: position -1 is every
    prompt's last token; positions before an item's first token are padding (see `lengths`)."""

    model_id: str
    n_layers: int
    n_heads: int
    items: tuple[PromptItem, ...]
    tokens: tuple[tuple[str, ...], ...]  # clean prompt tokens per item, decoded one by one
    cue_position: torch.Tensor  # [item] first position (right-aligned coordinates) where clean and corrupted differ
    lengths: torch.Tensor  # [item]
    ld_clean: torch.Tensor  # [item] logit(target) - logit(distractor) on the clean prompt
    ld_corrupted: torch.Tensor  # [item] the same two tokens on the corrupted prompt
    lens: torch.Tensor  # [item, layer + 1]
    attribution: Attribution  # heads [item, layer, head], mlps [item, layer], ...
    patched: dict[str, torch.Tensor]  # site -> patched logit difference, [item, layer, pos | head] or [item, layer]
    computed: dict[str, torch.Tensor]  # site -> bool, False where the point was skipped (identical activations)
    attention: torch.Tensor  # [item, layer, head, pos] attention from the final position, clean prompt
    skipped: dict[str, int]  # items left out, by reason
    seconds: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    model_info: dict[str, Any] = field(default_factory=dict)

    def recovery(self, site: str) -> torch.Tensor:
        """`recovery_per_item` of one site: same shape as `patched[site]`."""
        return recovery_per_item(self.patched[site], self.ld_clean, self.ld_corrupted)

    def groups(self) -> dict[str, list[int]]:
        """Item indices per "pair direction" group, pairs in the order the config names them."""
        out: dict[str, list[int]] = {}
        for i, item in enumerate(self.items):
            out.setdefault(f"{item.pair_id} {item.direction}", []).append(i)
        order = list(self.config.get("pairs") or ())

        def key(name: str) -> tuple[int, str]:
            pair = name.split(" ")[0]
            return (order.index(pair) if pair in order else len(order), name)

        return {name: out[name] for name in sorted(out, key=key)}


def select_items(config: AnalysisConfig, items: Sequence[PromptItem] | None = None) -> list[PromptItem]:
    """The dataset items the config asks for; a clear error when a filter matches nothing."""
    pool = list(items) if items is not None else load_items(config.dataset, config.dataset_dir)
    bad = [d for d in config.directions if d not in DIRECTIONS]
    if bad:
        raise DualityBenchError(f"unknown direction {bad[0]!r}; choose from {', '.join(DIRECTIONS)}")
    if config.pairs:
        known = {i.pair_id for i in pool}
        for pair in config.pairs:
            if pair not in known:
                close = difflib.get_close_matches(pair, sorted(known), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else "; pair ids look like 'left-right'"
                raise DualityBenchError(f"no pair {pair!r} in the {config.dataset!r} dataset{hint}")
        order = {p: n for n, p in enumerate(config.pairs)}
        pool = sorted((i for i in pool if i.pair_id in order), key=lambda i: order[i.pair_id])
    pool = [i for i in pool if i.direction in config.directions]
    if config.templates:
        pool = [i for i in pool if i.template_id in config.templates]
    pool = first_items(pool, config.limit)
    if not pool:
        raise DualityBenchError("no dataset items match the chosen pairs, directions and templates")
    return pool


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
    chosen = select_items(config, items)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    hf_model, tokenizer, model_id, info = _unpack(model, config)
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


def _unpack(model: Any, config: AnalysisConfig) -> tuple[Any, Any, str, dict[str, Any]]:
    if isinstance(model, str):
        model = load_model(model, device=config.device, dtype=config.dtype)
    if isinstance(model, tuple) and len(model) == 2:
        hf_model, tokenizer = model
        name = getattr(hf_model.config, "name_or_path", "") or type(hf_model).__name__
        return hf_model, tokenizer, name, {"id": name, "architecture": type(hf_model).__name__}
    if hasattr(model, "model") and hasattr(model, "tokenizer"):
        info = {k: v for k, v in asdict(model).items() if k not in ("model", "tokenizer")}
        return model.model, model.tokenizer, model.id, info
    raise DualityBenchError("model must be a spec string, a LoadedModel, or a (model, tokenizer) pair")


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

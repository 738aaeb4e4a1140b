"""`find_circuit(model, config)`: score every edge of the graph, build the top-n circuits, measure
their faithfulness (CPR, CMD), and optionally write the report, figures and circuit files."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from duality_bench.analysis.trace import tokenize_items
from duality_bench.circuits.faithfulness import (
    check_fractions,
    faithfulness_curve,
    mean_lds,
    select_edges,
    smallest_reaching,
)
from duality_bench.circuits.graph import build_graph
from duality_bench.circuits.report import write_outputs
from duality_bench.circuits.result import CircuitConfig, CircuitResult
from duality_bench.circuits.scoring import cache_batch, check_method, node_scores, score_edges
from duality_bench.data.records import PromptItem
from duality_bench.data.selection import select_items
from duality_bench.errors import DualityBenchError
from duality_bench.models.adapters import adapt
from duality_bench.models.loading import as_loaded

MAX_EXACT_EDGES = 5_000  # one patched forward pass per edge: minutes on a tiny model, hours beyond


def _check(config: CircuitConfig) -> tuple[float, ...]:
    check_method(config.method)
    for name in ("steps", "items_per_batch", "draw_edges"):
        if getattr(config, name) < 1:
            raise DualityBenchError(f"{name} must be at least 1, got {getattr(config, name)}")
    if not 0 < config.level <= 1:
        raise DualityBenchError(f"level must be in (0, 1], got {config.level}")
    return check_fractions(config.fractions)


def find_circuit(
    model: Any, config: CircuitConfig | None = None, *, items: Sequence[PromptItem] | None = None
) -> CircuitResult:
    """Find the circuit of one model on clean/corrupted prompt pairs.

    `model`: a spec for `load_model` ("smollm2-135m", a folder), a `LoadedModel`, or a
    `(transformers model, tokenizer)` pair. `items` replaces the dataset (filters still apply).
    """
    config = config or CircuitConfig()
    percents = _check(config)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    hf_model, adapter, graph, caches, skipped, loaded = _prepare(model, config, items)
    model_id = loaded.id
    _check_size(config, graph)
    seconds["load_and_cache"] = time.perf_counter() - clock
    clock = time.perf_counter()
    scores = score_edges(adapter, graph, caches, config.method, config.steps)
    seconds["scores"] = time.perf_counter() - clock
    clock = time.perf_counter()
    cpr = faithfulness_curve(adapter, graph, caches, scores, absolute=False, percents=percents, greedy=config.greedy)
    cmd = faithfulness_curve(adapter, graph, caches, scores, absolute=True, percents=percents, greedy=config.greedy)
    seconds["faithfulness"] = time.perf_counter() - clock
    at = smallest_reaching(cpr, config.level)
    nodes = node_scores(adapter, graph, caches, scores)
    exact = rho = None
    if config.exact_nodes:
        clock = time.perf_counter()
        exact = node_scores(adapter, graph, caches)
        rho = spearman(nodes, exact)
        seconds["exact_nodes"] = time.perf_counter() - clock
    ld_clean, ld_corrupted = mean_lds(caches)
    result = CircuitResult(
        model_id=model_id,
        graph=graph,
        items=tuple(i for c in caches for i in c.batch.items),
        scores=scores,
        cpr_curve=cpr,
        cmd_curve=cmd,
        ld_clean=ld_clean,
        ld_corrupted=ld_corrupted,
        keep=select_edges(graph, scores, cpr.n_edges[at] if at is not None else graph.n_edges, False, config.greedy),
        nodes=nodes,
        exact_nodes=exact,
        spearman=rho,
        model_cfg=_model_cfg(adapter, hf_model, model_id),
        skipped=skipped,
        seconds=seconds,
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        revision=loaded.revision,
    )
    if config.out is not None:
        write_outputs(result, config)
    return result


def _check_size(config: CircuitConfig, graph: Any) -> None:
    if config.method == "exact" and graph.n_edges > MAX_EXACT_EDGES:
        raise DualityBenchError(
            f"--method exact patches each of the {graph.n_edges} edges in its own pass (over {MAX_EXACT_EDGES}: "
            "hours); use --method eap or eap-ig, with --exact-nodes to check them against exact node patching"
        )


def _model_cfg(adapter: Any, hf_model: Any, model_id: str) -> dict[str, Any]:
    """What MIB's JSON `cfg` records of the model, beside its layer and head counts."""
    return {
        "d_model": adapter.d_model,
        "n_kv_heads": adapter.n_kv_heads,
        "d_head": adapter.d_head,
        "parallel_attn_mlp": False,
        "architecture": type(hf_model).__name__,
        "model": model_id,
    }


def _prepare(model: Any, config: CircuitConfig, items: Sequence[PromptItem] | None) -> tuple:
    """(model, adapter, graph, cached batches, skipped items, the `LoadedModel`)."""
    chosen = select_items(config.selection, items)
    loaded = as_loaded(model, device=config.device, dtype=config.dtype)
    hf_model, tokenizer = loaded.model, loaded.tokenizer
    adapter = adapt(hf_model)
    graph = build_graph(adapter.n_layers, adapter.n_heads)
    batches, skipped = tokenize_items(tokenizer, chosen, max_batch=config.items_per_batch, device=adapter.param.device)
    if not batches:
        raise DualityBenchError(
            f"none of the {len(chosen)} items can be analysed with this tokenizer ({dict(skipped)})"
        )
    caches = [cache_batch(adapter, graph, b) for b in batches]
    return hf_model, adapter, graph, caches, dict(skipped), loaded


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    ra, rb = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x))
    _, inverse = np.unique(x, return_inverse=True)
    return (np.bincount(inverse, weights=ranks) / np.bincount(inverse))[inverse]

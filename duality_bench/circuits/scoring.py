"""Edge scores: edge attribution patching (EAP), EAP with integrated gradients (EAP-IG), and exact
patching of one edge at a time.

Convention (Syed et al. 2023; Hanna et al. 2024, the EAP-IG code with `loss=True`): the metric
is the logit difference LD = logit(target) - logit(distractor) of the clean item, its gradient
is taken on the clean run, and an edge's score is

    (clean_u - corrupted_u) . dLD / d input_v   summed over positions, averaged over items,

the first-order estimate of LD_clean - LD(edge u->v patched to corrupted): positive for an edge
that helps the clean answer. EAP-IG averages the gradient over m runs of the clean prompt whose
input embeddings are corrupted + (k / m) (clean - corrupted), k = 1..m. Exact scores are that
difference itself, one patched pass per edge (per node for `node_scores`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from duality_bench.analysis.trace import PromptBatch
from duality_bench.circuits.decomposition import run_graph
from duality_bench.circuits.graph import Graph
from duality_bench.errors import DualityBenchError
from duality_bench.models.adapters import Adapter

METHODS = ("eap", "eap-ig", "exact")


@dataclass(frozen=True)
class BatchCache:
    """A batch's clean and corrupted runs: every upstream node's output and the logit differences."""

    batch: PromptBatch
    clean: torch.Tensor  # [upstream, item, pos, d_model]
    corrupted: torch.Tensor
    ld_clean: torch.Tensor  # [item]
    ld_corrupted: torch.Tensor


def check_method(method: str) -> str:
    if method not in METHODS:
        raise DualityBenchError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    return method


def cache_batch(adapter: Adapter, graph: Graph, batch: PromptBatch) -> BatchCache:
    b = batch
    clean = run_graph(adapter, graph, b.clean, b.mask, b.target, b.distractor, record=True)
    corrupted = run_graph(adapter, graph, b.corrupted, b.mask, b.target, b.distractor, record=True)
    return BatchCache(b, clean.outputs, corrupted.outputs, clean.ld, corrupted.ld)


def patched_ld(adapter: Adapter, graph: Graph, cache: BatchCache, drop: torch.Tensor) -> torch.Tensor:
    """LD [item] of the clean run with the edges where drop [upstream, downstream] is 1 patched."""
    b = cache.batch
    return run_graph(adapter, graph, b.clean, b.mask, b.target, b.distractor, patch=(cache.corrupted, drop)).ld


def _gradients(adapter: Adapter, graph: Graph, cache: BatchCache, method: str, steps: int) -> torch.Tensor:
    """dLD / d input [downstream, item, pos, d_model], on the clean run or averaged over the IG path."""
    b = cache.batch
    if method == "eap":
        return run_graph(adapter, graph, b.clean, b.mask, b.target, b.distractor, grads=True).grads
    total = None
    for k in range(1, steps + 1):
        emb = cache.corrupted[0] + (k / steps) * (cache.clean[0] - cache.corrupted[0])
        g = run_graph(adapter, graph, b.clean, b.mask, b.target, b.distractor, embeddings=emb, grads=True).grads
        total = g if total is None else total + g
    return total / steps


def _edge_matrix(graph: Graph, diff: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """sum over items and positions of diff_u . grad_v, [upstream, downstream], only where edges can be."""
    u_n, v_n = len(graph.upstream), len(graph.downstream)
    flat_d, flat_g = diff.reshape(u_n, -1), grads.reshape(v_n, -1)
    out = torch.zeros(u_n, v_n, dtype=torch.float64)
    for layer in range(graph.n_layers):  # each layer's inputs read only the nodes before them
        down = slice(graph.down_slice(layer).start, graph.mlp_down(layer) + 1)
        n_up = graph.up_index(layer)
        out[:n_up, down] = (flat_d[:n_up] @ flat_g[down].T).double()
    out[:, -1] = (flat_d @ flat_g[-1]).double()
    return out


def score_edges(
    adapter: Adapter, graph: Graph, caches: Sequence[BatchCache], method: str, steps: int = 5
) -> np.ndarray:
    """Each edge's score [n_edges] (in `graph.edge_index()` order), averaged over the items."""
    check_method(method)
    if method == "exact":
        return exact_edge_scores(adapter, graph, caches)
    us, vs = graph.edge_index()
    total, items = torch.zeros(len(graph.upstream), len(graph.downstream), dtype=torch.float64), 0
    for cache in caches:
        start = int(cache.batch.first_diff.min())  # before the first differing token, clean = corrupted
        grads = _gradients(adapter, graph, cache, method, steps)[:, :, start:]
        total += _edge_matrix(graph, (cache.clean - cache.corrupted)[:, :, start:], grads)
        items += len(cache.batch)
    return (total / items).numpy()[us, vs]


def exact_edge_scores(adapter: Adapter, graph: Graph, caches: Sequence[BatchCache]) -> np.ndarray:
    """LD_clean - LD(one edge patched), averaged over items, for every edge: one pass per edge."""
    us, vs = graph.edge_index()
    out = np.zeros(len(us))
    for cache in caches:
        drop = torch.zeros(len(graph.upstream), len(graph.downstream))
        for e, (u, v) in enumerate(zip(us, vs, strict=True)):
            drop[u, v] = 1
            out[e] += float((cache.ld_clean - patched_ld(adapter, graph, cache, drop)).sum())
            drop[u, v] = 0
    return out / sum(len(c.batch) for c in caches)


def node_scores(
    adapter: Adapter, graph: Graph, caches: Sequence[BatchCache], edge_scores: np.ndarray | None = None
) -> np.ndarray:
    """Per upstream node [upstream]: with edge scores, their sum over the node's outgoing edges
    (the node's attribution); without, the exact LD_clean - LD(node's output patched), averaged."""
    if edge_scores is not None:
        us, _ = graph.edge_index()
        return np.bincount(us, weights=edge_scores, minlength=len(graph.upstream))
    out = np.zeros(len(graph.upstream))
    allowed = torch.as_tensor(graph.allowed, dtype=torch.float32)
    for cache in caches:
        for u in range(len(graph.upstream)):
            drop = torch.zeros_like(allowed)
            drop[u] = allowed[u]
            out[u] += float((cache.ld_clean - patched_ld(adapter, graph, cache, drop)).sum())
    return out / sum(len(c.batch) for c in caches)

"""Circuits from edge scores, and how faithful they are (MIB's CPR and CMD).

A circuit of n edges is the top n by score: by signed score for CPR (the edges that most help
the clean answer), by absolute score for CMD. Its faithfulness is

    f = (LD_circuit - LD_corrupted) / (LD_clean - LD_corrupted),

each LD the mean over items, where LD_circuit is the clean run with every edge outside the
circuit patched to the corrupted run's value. CPR is the area under f over the edge fractions,
CMD the area under |1 - f|: trapezoids between consecutive listed fractions, the fraction axis
in [0, 1] units (0.1% is 0.001), starting at the first listed fraction (no point at 0).
With the default fractions the axis spans 0.001..1, so a perfect CMD is 0 and CPR at most 0.999.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from duality_bench.circuits.graph import Graph
from duality_bench.circuits.scoring import BatchCache, patched_ld
from duality_bench.errors import DualityBenchError
from duality_bench.models.adapters import Adapter

FRACTIONS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)  # percent of the edges


@dataclass(frozen=True)
class Curve:
    """Faithfulness of the top-n circuits, one point per edge fraction."""

    absolute: bool  # circuits by |score| (CMD) or by score (CPR)
    percents: tuple[float, ...]
    n_edges: tuple[int, ...]
    ld: tuple[float, ...]  # mean LD of each circuit
    faithfulness: tuple[float, ...]

    @property
    def area(self) -> float:
        """CPR (area under f) for a signed curve, CMD (area under |1 - f|) for an absolute one."""
        y = np.abs(1 - np.array(self.faithfulness)) if self.absolute else np.array(self.faithfulness)
        return area_under(self.percents, y)


def check_fractions(percents: Sequence[float]) -> tuple[float, ...]:
    for p in percents:
        if not 0 < p <= 100:
            raise DualityBenchError(f"edge fraction {p:g}% is outside (0, 100]; give percents such as 0.1,1,10,100")
    if not percents:
        raise DualityBenchError("give at least one edge fraction, in percent, such as 0.1,1,10,100")
    return tuple(sorted(set(float(p) for p in percents)))


def area_under(percents: Sequence[float], values: Sequence[float]) -> float:
    """Trapezoid rule over the fraction axis in [0, 1] units; 0 for a single point."""
    x, y = np.asarray(percents, dtype=float) / 100, np.asarray(values, dtype=float)
    return float(((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2).sum())


def edge_count(n_edges: int, percent: float) -> int:
    return max(1, min(n_edges, round(n_edges * percent / 100)))


def top_edges(scores: np.ndarray, n: int, absolute: bool) -> np.ndarray:
    """Boolean [n_edges]: the n edges of highest score (or |score|); ties by edge order."""
    key = np.abs(scores) if absolute else scores
    keep = np.zeros(len(scores), dtype=bool)
    keep[np.argsort(-key, kind="stable")[:n]] = True
    return keep


def select_edges(graph: Graph, scores: np.ndarray, n: int, absolute: bool, greedy: bool = False) -> np.ndarray:
    """The circuit of n edges: the top n by score, or MIB's greedy selection."""
    return greedy_edges(graph, scores, n, absolute) if greedy else top_edges(scores, n, absolute)


def greedy_edges(graph: Graph, scores: np.ndarray, n: int, absolute: bool) -> np.ndarray:
    """MIB's greedy selection: grow the circuit back from the logits, each time adding the best
    edge into a node already in it, so that every chosen edge reaches the logits."""
    key = np.abs(scores) if absolute else scores
    us, vs = graph.edge_index()
    into: dict[int, list[int]] = {}  # downstream input -> its edges
    for e, v in enumerate(vs):
        into.setdefault(int(v), []).append(e)
    inputs = _inputs_of_nodes(graph)
    keep = np.zeros(len(scores), dtype=bool)
    frontier = [(-key[e], e) for e in into.get(graph.logits_down, [])]
    heapq.heapify(frontier)
    reached = set()
    while frontier and keep.sum() < n:
        _, e = heapq.heappop(frontier)
        keep[e] = True
        u = int(us[e])
        if u not in reached:  # its own inputs become candidates
            reached.add(u)
            for d in inputs.get(u, ()):
                for e2 in into.get(d, ()):
                    heapq.heappush(frontier, (-key[e2], e2))
    return keep


def _inputs_of_nodes(graph: Graph) -> dict[int, list[int]]:
    """Upstream node index -> the downstream inputs it reads through (a head's q, k, v; an MLP's input)."""
    inputs: dict[int, list[int]] = {}
    for layer in range(graph.n_layers):
        block = graph.down_slice(layer)
        for offset in range(3 * graph.n_heads):
            inputs.setdefault(graph.up_index(layer, offset % graph.n_heads), []).append(block.start + offset)
        inputs[graph.up_index(layer)] = [graph.mlp_down(layer)]
    return inputs


def drop_matrix(graph: Graph, keep: np.ndarray) -> torch.Tensor:
    """[upstream, downstream]: 1 for every edge outside the circuit `keep` [n_edges]."""
    us, vs = graph.edge_index()
    drop = torch.zeros(len(graph.upstream), len(graph.downstream))
    drop[us[~keep], vs[~keep]] = 1
    return drop


def circuit_ld(adapter: Adapter, graph: Graph, caches: Sequence[BatchCache], keep: np.ndarray) -> float:
    """Mean LD over items of the clean runs with every edge outside `keep` patched."""
    drop = drop_matrix(graph, keep)
    total = sum(float(patched_ld(adapter, graph, c, drop).sum()) for c in caches)
    return total / sum(len(c.batch) for c in caches)


def mean_lds(caches: Sequence[BatchCache]) -> tuple[float, float]:
    """(mean LD_clean, mean LD_corrupted) over every item."""
    n = sum(len(c.batch) for c in caches)
    return sum(float(c.ld_clean.sum()) for c in caches) / n, sum(float(c.ld_corrupted.sum()) for c in caches) / n


def faithfulness_curve(
    adapter: Adapter,
    graph: Graph,
    caches: Sequence[BatchCache],
    scores: np.ndarray,
    *,
    absolute: bool,
    percents: Sequence[float] = FRACTIONS,
    greedy: bool = False,
) -> Curve:
    clean, corrupted = mean_lds(caches)
    counts, lds = [], []
    for p in percents:
        n = edge_count(graph.n_edges, p)
        counts.append(n)
        lds.append(circuit_ld(adapter, graph, caches, select_edges(graph, scores, n, absolute, greedy)))
    faith = tuple((ld - corrupted) / (clean - corrupted) for ld in lds)
    return Curve(absolute, tuple(percents), tuple(counts), tuple(lds), faith)


def smallest_reaching(curve: Curve, level: float = 0.8) -> int | None:
    """Index of the first point whose faithfulness reaches `level`, or None."""
    return next((i for i, f in enumerate(curve.faithfulness) if f >= level), None)

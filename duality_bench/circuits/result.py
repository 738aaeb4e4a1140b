"""What `find_circuit` takes and returns: its config (the items, the method, the outputs) and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from duality_bench.circuits.faithfulness import FRACTIONS, Curve
from duality_bench.circuits.graph import Graph
from duality_bench.data.records import PromptItem
from duality_bench.data.selection import PairFilters


@dataclass(frozen=True)
class CircuitConfig(PairFilters):
    method: str = "eap"  # eap, eap-ig or exact (one patched pass per edge: tiny models only)
    steps: int = 5  # EAP-IG interpolation steps
    fractions: tuple[float, ...] = FRACTIONS  # edge fractions in percent, each in (0, 100]
    level: float = 0.8  # the faithfulness the reported smallest circuit reaches
    exact_nodes: bool = False  # also patch every node exactly and correlate with the method's node scores
    greedy: bool = False  # circuits grown back from the logits (MIB's greedy selection), not the top n edges
    items_per_batch: int = 24
    out: Path | None = None  # report.md, curve.png, circuit.png, circuit.json, scores.npy
    figures: bool = True
    draw_edges: int = 150  # the circuit drawing shows at most this many of its highest-scoring edges
    device: str = "auto"
    dtype: str = "auto"


@dataclass(frozen=True)
class CircuitResult:
    model_id: str
    graph: Graph
    items: tuple[PromptItem, ...]
    scores: np.ndarray  # [n_edges] in graph.edge_index() order
    cpr_curve: Curve  # circuits by signed score
    cmd_curve: Curve  # circuits by |score|
    ld_clean: float  # mean over items
    ld_corrupted: float
    keep: np.ndarray  # [n_edges] bool: the smallest signed-score circuit reaching `level` (all edges if none)
    nodes: np.ndarray  # [upstream] the method's node scores (sum over outgoing edges)
    exact_nodes: np.ndarray | None  # [upstream] exact node patching effects, with config.exact_nodes
    spearman: float | None  # rank correlation of `nodes` with `exact_nodes`
    model_cfg: dict[str, Any]
    skipped: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None  # the model's hub commit, package version or file digest

    @property
    def cpr(self) -> float:
        return self.cpr_curve.area

    @property
    def cmd(self) -> float:
        return self.cmd_curve.area

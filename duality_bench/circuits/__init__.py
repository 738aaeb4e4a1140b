"""Circuit discovery on the graph of heads and MLPs (MIB's edges): EAP, EAP-IG and exact edge
scores, top-n circuits with their faithfulness curves (CPR, CMD), MIB JSON circuit files.

One entry call, `find_circuit(model, CircuitConfig(...))`, returns a `CircuitResult` and, with
`out` set, writes report.md, metrics.json, circuit.json, scores.npy and two figures. The pieces
are public: `build_graph`, `cache_batch`, `score_edges`, `faithfulness_curve`, `read_mib_json`,
`read_metrics`; `sweep_circuits` runs several models and pair sets, then compares them.

Modules, each importing only those above it: `graph`, `decomposition` (a pass in which every
node input reads its own residual copy), `scoring`, `faithfulness`, `files`, `result` (the
config and result types), `metrics` (metrics.json), `figures`, `report`, `pipeline`, `comparison`
(one report over several circuit folders), `sweep` (several models and pair sets, resumable). Of
the rest of the package it imports `errors`, `provenance`, `results` (the typed reader), `data`
(records, the item selection), `models` (loading, adapters) and `analysis` (prompt batches).
"""

from __future__ import annotations

from duality_bench.circuits.decomposition import GraphRun, run_graph
from duality_bench.circuits.faithfulness import (
    FRACTIONS,
    Curve,
    area_under,
    faithfulness_curve,
    greedy_edges,
    select_edges,
    top_edges,
)
from duality_bench.circuits.files import CircuitFile, read_mib_json, write_mib_json
from duality_bench.circuits.graph import Graph, build_graph
from duality_bench.circuits.metrics import CircuitMetrics, MetricsError, read_metrics
from duality_bench.circuits.pipeline import find_circuit, spearman
from duality_bench.circuits.result import CircuitConfig, CircuitResult
from duality_bench.circuits.scoring import METHODS, BatchCache, cache_batch, node_scores, score_edges
from duality_bench.circuits.sweep import PairSet, parse_pair_set, sweep_circuits

__all__ = [
    "PairSet",
    "parse_pair_set",
    "sweep_circuits",
    "FRACTIONS",
    "METHODS",
    "BatchCache",
    "CircuitConfig",
    "CircuitFile",
    "CircuitMetrics",
    "CircuitResult",
    "Curve",
    "Graph",
    "GraphRun",
    "MetricsError",
    "area_under",
    "build_graph",
    "cache_batch",
    "faithfulness_curve",
    "find_circuit",
    "node_scores",
    "read_metrics",
    "read_mib_json",
    "run_graph",
    "score_edges",
    "spearman",
    "greedy_edges",
    "select_edges",
    "top_edges",
    "write_mib_json",
]

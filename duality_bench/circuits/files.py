"""Circuit files: MIB's JSON format (read and write) and every edge's score as a .npy array.

MIB's JSON (the EAP-IG / MIB circuit-track `Graph.to_json`): `cfg` (n_layers, n_heads, d_model,
...), `nodes` {name: {"in_graph": bool}}, `edges` {"a0.h1->a2.h3<q>": {"score": float,
"in_graph": bool}}. Node names: `input`, `a{layer}.h{head}`, `m{layer}`, `logits`.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from duality_bench.circuits.graph import Graph, build_graph
from duality_bench.errors import DualityBenchError


@dataclass(frozen=True)
class CircuitFile:
    cfg: dict[str, Any]
    graph: Graph
    scores: np.ndarray  # [n_edges] in graph.edge_index() order
    keep: np.ndarray  # [n_edges] bool: in the circuit


def nodes_in(graph: Graph, keep: np.ndarray) -> set[str]:
    """Nodes touched by a kept edge (its source, or the node whose input it feeds)."""
    names = np.array(graph.edge_names())[keep]
    out: set[str] = set()
    for name in names:
        src, _, dst = name.partition("->")
        out.update((src, dst.split("<")[0]))
    return out


def write_mib_json(path: Path, graph: Graph, scores: np.ndarray, keep: np.ndarray, cfg: dict[str, Any]) -> Path:
    inside = nodes_in(graph, keep)
    names = [*graph.upstream, "logits"]
    data = {
        "cfg": {"n_layers": graph.n_layers, "n_heads": graph.n_heads, **cfg},
        "nodes": {n: {"in_graph": n in inside} for n in names},
        "edges": {
            e: {"score": float(s), "in_graph": bool(k)}
            for e, s, k in zip(graph.edge_names(), scores, keep, strict=True)
        },
    }
    text = json.dumps(data, allow_nan=False) + "\n"
    if path.suffix == ".gz":  # a whole graph's edges compress about 8x
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def read_mib_json(path: Path) -> CircuitFile:
    """A circuit written by `write_mib_json` (or by MIB's tools for a graph of the same shape)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
        cfg = data["cfg"]
        graph = build_graph(int(cfg["n_layers"]), int(cfg["n_heads"]))
        edges = data["edges"]
        names = graph.edge_names()
        missing = [n for n in names if n not in edges]
        if missing or len(edges) != len(names):
            raise DualityBenchError(
                f"{path}: edges do not match a graph of {cfg['n_layers']} layers x {cfg['n_heads']} heads "
                f"(first missing: {missing[0] if missing else 'none'}; {len(edges)} edges, expected {len(names)})"
            )
        scores = np.array([edges[n]["score"] for n in names], dtype=float)
        keep = np.array([bool(edges[n]["in_graph"]) for n in names])
    except OSError as e:
        raise DualityBenchError(f"cannot read circuit file {path} ({e.strerror or e})") from None
    except (KeyError, TypeError, ValueError) as e:
        raise DualityBenchError(f"{path} is not a circuit in MIB's JSON format (cfg, nodes, edges): {e}") from None
    return CircuitFile(cfg, graph, scores, keep)


def write_scores(path: Path, scores: np.ndarray) -> Path:
    """Every edge's score, float64 [n_edges], in `Graph.edge_index()` order (names in the JSON)."""
    np.save(path, np.asarray(scores, dtype=np.float64))
    return path

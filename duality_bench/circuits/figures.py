"""Two PNG figures: the faithfulness curves, and a drawing of the circuit (networkx when installed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from duality_bench.circuits.result import CircuitResult


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_curves(result: CircuitResult, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for curve, label in ((result.cpr_curve, "by score (CPR)"), (result.cmd_curve, "by |score| (CMD)")):
        ax.plot(curve.percents, curve.faithfulness, marker="o", label=f"{label}: area {curve.area:.3f}")
    ax.axhline(1, color="grey", lw=0.8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.axhline(result.config.get("level", 0.8), color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("edges in the circuit (% of all edges)")
    ax.set_ylabel("faithfulness")
    ax.set_title(f"{result.model_id}: {result.config['method']} on {', '.join(result.config['pairs']) or 'all pairs'}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _position(name: str, n_heads: int, n_layers: int) -> tuple[float, float]:
    """x = head (MLPs to the right), y = layer, input at the bottom and logits at the top."""
    if name == "input":
        return (n_heads / 2, -1)
    if name == "logits":
        return (n_heads / 2, n_layers)
    if name.startswith("m"):
        return (n_heads + 0.5, int(name[1:]))
    layer, head = name[1:].split(".h")
    return (int(head), int(layer))


def draw_circuit(result: CircuitResult, path: Path, max_edges: int) -> Path:
    """The circuit's `max_edges` highest-scoring edges (green helps, red hurts the clean answer)."""
    plt = _pyplot()
    graph = result.graph
    names = np.array(graph.edge_names())[result.keep]
    scores = result.scores[result.keep]
    top = np.argsort(-np.abs(scores))[:max_edges]
    edges = [(*str(names[i]).split("->"), float(scores[i])) for i in top]
    edges = [(a, b.split("<")[0], s) for a, b, s in edges]
    pos = {}
    for a, b, _ in edges:
        for n in (a, b):
            pos[n] = _position(n, graph.n_heads, graph.n_layers)
    fig, ax = plt.subplots(figsize=(8, max(5, graph.n_layers * 0.35)))
    biggest = max((abs(s) for *_, s in edges), default=1) or 1
    try:
        import networkx as nx

        g = nx.DiGraph()
        g.add_weighted_edges_from(edges)
        colors = ["tab:green" if d["weight"] > 0 else "tab:red" for *_, d in g.edges(data=True)]
        widths = [0.3 + 3 * abs(d["weight"]) / biggest for *_, d in g.edges(data=True)]
        nx.draw_networkx_edges(g, pos, ax=ax, edge_color=colors, width=widths, alpha=0.5, arrowsize=6)
        nx.draw_networkx_nodes(g, pos, ax=ax, node_size=120, node_color="lightsteelblue")
        nx.draw_networkx_labels(g, pos, ax=ax, font_size=5)
    except ImportError:  # matplotlib alone: lines and labelled points
        for a, b, s in edges:
            (x0, y0), (x1, y1) = pos[a], pos[b]
            ax.plot(
                [x0, x1], [y0, y1], color="tab:green" if s > 0 else "tab:red", alpha=0.5, lw=0.3 + 3 * abs(s) / biggest
            )
        for n, (x, y) in pos.items():
            ax.annotate(n, (x, y), fontsize=5, ha="center")
    shown = f"{len(edges)} of its {int(result.keep.sum())} edges" if len(edges) < result.keep.sum() else "all edges"
    ax.set_title(f"{result.model_id}: circuit ({shown}); x = head (MLP right), y = layer", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path

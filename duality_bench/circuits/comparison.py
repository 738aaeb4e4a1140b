"""One report over several circuit folders (models, pair sets, methods): is there one duality
circuit, and is it the same across pairs and models?

For each run: CPR, CMD, the smallest edge fraction whose circuit reaches the faithfulness level,
its top heads; for every two runs on the same graph (one model), the overlap of their smallest
faithful circuits as node and edge Jaccard indices; and the faithfulness curves overlaid. Every
number is read from the folders' `metrics.json` and `circuit.json(.gz)`, nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from duality_bench.circuits.faithfulness import top_edges
from duality_bench.circuits.files import CircuitFile, nodes_in, read_mib_json
from duality_bench.circuits.metrics import CircuitMetrics, read_metrics
from duality_bench.errors import DualityBenchError
from duality_bench.results import atomic_write

TOP_HEADS = 3
SAME_SIZE = 1.0  # percent of the edges: the overlap of circuits of one size


@dataclass(frozen=True)
class Run:
    folder: Path
    metrics: CircuitMetrics
    circuit: CircuitFile

    @property
    def label(self) -> str:
        m = self.metrics
        return f"{m.model} {m.method}{' greedy' if m.greedy else ''} {'+'.join(m.pairs) or 'all pairs'}"


def read_run(folder: str | Path) -> Run:
    """A circuit folder as `duality-bench circuit` writes it: metrics.json and circuit.json(.gz)."""
    folder = Path(folder)
    found = [folder / n for n in ("circuit.json", "circuit.json.gz") if (folder / n).is_file()]
    if not found:
        raise DualityBenchError(
            f"{folder}: no circuit.json or circuit.json.gz; run `duality-bench circuit --out {folder}`"
        )
    return Run(folder, read_metrics(folder / "metrics.json"), read_mib_json(found[0]))


def jaccard(a: set | np.ndarray, b: set | np.ndarray) -> float | None:
    """|a & b| / |a | b| of two sets or two boolean masks; None when both are empty."""
    if isinstance(a, np.ndarray):
        union = int((a | b).sum())
        return int((a & b).sum()) / union if union else None
    return len(a & b) / len(a | b) if a | b else None


def compare_circuits(folders: Sequence[str | Path], out: str | Path, figures: bool = True) -> Path:
    """Write `comparison.md` (and `curves.png`) into `out`; returns the report's path."""
    if len(folders) < 2:
        raise DualityBenchError("name at least two circuit folders to compare")
    runs = [read_run(f) for f in folders]
    out = Path(out)
    lines = [f"# {len(runs)} circuits compared", "", *_table(runs), "", *_overlaps(runs)]
    if figures:
        _draw_curves(runs, out / "curves.png")
        lines += ["", "![faithfulness by score, every run](curves.png)"]
    path = out / "comparison.md"
    atomic_write({path: "\n".join(lines) + "\n"})
    return path


def _table(runs: list[Run]) -> list[str]:
    """One row per run. Models share no nodes, so across models the top heads are compared by depth:
    layer / (layers - 1), 0 the first layer and 1 the last."""
    rows = [
        "| run | items | edges | CPR | CMD | smallest faithful circuit | top heads | their depth |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in runs:
        m = r.metrics
        smallest = f"{m.smallest_percent:g}% ({m.smallest_edges} edges)" if _faithful(r) else "none below 100%"
        heads = [n.name for n in m.top_nodes if n.name.startswith("a")][:TOP_HEADS]
        last = max(r.circuit.graph.n_layers - 1, 1)
        depth = ", ".join(f"{int(h[1:].split('.')[0]) / last:.2f}" for h in heads)
        cells = [r.label, str(m.n_items), str(m.n_edges), _num(m.cpr), _num(m.cmd), smallest, ", ".join(heads), depth]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _overlaps(runs: list[Run]) -> list[str]:
    """Node and edge Jaccard of every two runs' smallest faithful circuits, where they share a graph."""
    rows = [
        "## Overlap of the smallest faithful circuits",
        "",
        "Jaccard indices of the two runs' smallest faithful circuits (nodes, edges), and of their top "
        f"{SAME_SIZE:g}% of edges by score (one size for both, faithful or not).",
        "",
        f"| run | run | nodes | edges | top {SAME_SIZE:g}% of edges |",
        "|---|---|---:|---:|---:|",
    ]
    for i, a in enumerate(runs):
        for b in runs[i + 1 :]:
            shape = a.circuit.graph.n_layers, a.circuit.graph.n_heads  # build_graph's only inputs
            if shape != (b.circuit.graph.n_layers, b.circuit.graph.n_heads):
                continue  # different models: no shared nodes to compare
            ga, gb = a.circuit, b.circuit
            n = max(1, round(ga.graph.n_edges * SAME_SIZE / 100))
            same = _num(jaccard(top_edges(ga.scores, n, False), top_edges(gb.scores, n, False)))
            if not (_faithful(a) and _faithful(b)):
                rows.append(f"| {a.label} | {b.label} | – | – | {same} |")
                continue
            nodes = jaccard(nodes_in(ga.graph, ga.keep), nodes_in(gb.graph, gb.keep))
            rows.append(f"| {a.label} | {b.label} | {_num(nodes)} | {_num(jaccard(ga.keep, gb.keep))} | {same} |")
    if len(rows) == 6:
        return [*rows[:2], "No two runs share a graph (one model per run)."]
    if any("| – | – |" in row for row in rows):
        rows += ["", "–: a run has no circuit smaller than the whole graph reaching the level; nothing to overlap."]
    return rows


def _faithful(run: Run) -> bool:
    """The run has a faithful circuit smaller than the whole graph."""
    m = run.metrics
    return m.smallest_edges is not None and m.smallest_edges < m.n_edges


def _draw_curves(runs: list[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in runs:
        points = [(p.percent, p.faithfulness) for p in r.metrics.by_score if p.faithfulness is not None]
        ax.plot(*zip(*points, strict=True), marker="o", ms=3, label=f"{r.label} (CPR {_num(r.metrics.cpr)})")
    ax.axhline(1, color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("edges in the circuit (% of all edges)")
    ax.set_ylabel("faithfulness (circuits by score)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"

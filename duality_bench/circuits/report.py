"""The files of a circuit search: report.md, metrics.json, circuit.json (MIB), scores.npy, curve.png,
circuit.png."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from duality_bench.circuits.figures import draw_circuit, draw_curves
from duality_bench.circuits.files import nodes_in, write_mib_json, write_scores
from duality_bench.circuits.metrics import circuit_metrics, write_metrics
from duality_bench.circuits.result import CircuitConfig, CircuitResult
from duality_bench.provenance import git_hash, package_version

CONVENTIONS = (
    "- **Score** of edge u->v: (clean_u - corrupted_u) . dLD/d input_v on the clean run (EAP-IG: gradient "
    "averaged over m input interpolations), summed over positions, mean over items; about LD_clean - LD(edge "
    "patched). Positive: the edge helps the clean answer.",
    "- **Circuit** of n edges: the top n by score (CPR curve) or by |score| (CMD curve); every other edge "
    "carries the corrupted run's value of its source into its destination.",
    "- **Faithfulness** f = (LD_circuit - LD_corrupted) / (LD_clean - LD_corrupted), LDs averaged over items.",
    "- **CPR** = area under f, **CMD** = area under |1 - f|: trapezoids between consecutive edge fractions, "
    "the axis in [0, 1] units (0.1% = 0.001), from the first listed fraction to the last.",
)


def write_outputs(result: CircuitResult, config: CircuitConfig) -> dict[str, Path]:
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": write_mib_json(out / "circuit.json", result.graph, result.scores, result.keep, result.model_cfg),
        "scores": write_scores(out / "scores.npy", result.scores),
    }
    text = markdown(result)
    if config.figures:
        paths["curve"] = draw_curves(result, out / "curve.png")
        paths["circuit"] = draw_circuit(result, out / "circuit.png", config.draw_edges)
        text += "\n## Figures\n\n![faithfulness](curve.png)\n\n![circuit](circuit.png)\n"
    paths["report"] = out / "report.md"
    paths["report"].write_text(text)
    paths["metrics"] = write_metrics(out / "metrics.json", circuit_metrics(result))  # last: marks the run complete
    return paths


def _curve_table(result: CircuitResult) -> list[str]:
    rows = ["| edges (%) | edges | faithfulness by score | faithfulness by abs score |", "|---:|---:|---:|---:|"]
    a, b = result.cpr_curve, result.cmd_curve
    for i, p in enumerate(a.percents):
        rows.append(f"| {p:g} | {a.n_edges[i]} | {a.faithfulness[i]:.3f} | {b.faithfulness[i]:.3f} |")
    return rows


def _top(result: CircuitResult, n: int) -> list[str]:
    names = result.graph.edge_names()
    order = np.argsort(-np.abs(result.scores))[:n]
    rows = ["| edge | score |", "|---|---:|"]
    return rows + [f"| `{names[i]}` | {result.scores[i]:+.4f} |" for i in order]


def _nodes(result: CircuitResult, n: int) -> list[str]:
    up = result.graph.upstream
    order = np.argsort(-np.abs(result.nodes))[:n]
    exact = result.exact_nodes
    head = "| node | score (sum of its edges) |" + (" exact patching |" if exact is not None else "")
    rows = [head, "|---|---:|" + ("---:|" if exact is not None else "")]
    for i in order:
        rows.append(f"| `{up[i]}` | {result.nodes[i]:+.4f} |" + (f" {exact[i]:+.4f} |" if exact is not None else ""))
    return rows


def markdown(result: CircuitResult) -> str:
    cfg, g = result.config, result.graph
    level = cfg["level"]
    reached = [p for p, f in zip(result.cpr_curve.percents, result.cpr_curve.faithfulness, strict=True) if f >= level]
    n_keep = int(result.keep.sum())
    inside = sorted(nodes_in(g, result.keep) - {"input", "logits"}, key=lambda s: (s[0], len(s), s))
    lines = [
        f"# Circuit of {result.model_id}: {cfg['method']} on {', '.join(cfg['pairs']) or 'all pairs'}",
        "",
        f"{len(result.items)} prompt pairs; mean LD clean {result.ld_clean:.3f}, corrupted {result.ld_corrupted:.3f}. "
        f"Graph: {len(g.upstream) + 1} nodes, {g.n_edges} edges ({g.n_layers} layers x {g.n_heads} heads, "
        "q/k/v inputs per query head).",
        "",
        f"**CPR {result.cpr:.4f}**, **CMD {result.cmd:.4f}**"
        + (f", EAP-IG steps {cfg['steps']}" if cfg["method"] == "eap-ig" else "")
        + ("; circuits grown back from the logits (greedy)" if cfg.get("greedy") else "; circuits are the top edges"),
        "",
        f"Smallest circuit reaching faithfulness {level}: "
        + (f"{reached[0]:g}% of the edges ({n_keep} edges, {len(inside)} heads and MLPs)." if reached else "none."),
    ]
    if result.spearman is not None:
        lines += ["", f"Spearman correlation of node scores with exact node patching: {result.spearman:.3f}"]
    lines += ["", "## Faithfulness", "", *_curve_table(result), "", "## Conventions", "", *CONVENTIONS]
    lines += ["", "## Top edges by |score|", "", *_top(result, 20), "", "## Top nodes", "", *_nodes(result, 15)]
    lines += ["", "## Nodes of the smallest faithful circuit", "", ", ".join(f"`{n}`" for n in inside) or "(none)"]
    lines += ["", "## Provenance", "", "```json", json.dumps(_provenance(result), indent=1), "```", ""]
    return "\n".join(lines)


def _provenance(result: CircuitResult) -> dict[str, Any]:
    return {
        "model": result.model_id,
        "package_version": package_version(),
        "git_hash": git_hash(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": {k: round(v, 1) for k, v in result.seconds.items()},
        "skipped_items": result.skipped,
        "config": result.config,
    }

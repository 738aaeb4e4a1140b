"""The files of an analysis: analysis.json (every number, per item), report.md (the summary
tables) and, unless turned off, the figures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from duality_bench.analysis.figures import write_figures
from duality_bench.analysis.result import AnalysisConfig, AnalysisResult
from duality_bench.analysis.summary import ALL, rounded, rounded_list, summarize, top_heads
from duality_bench.provenance import git_hash, package_version

CONVENTIONS = {
    "logit_diff": "logit(target) - logit(distractor) at the final position, with the clean item's two tokens",
    "recovery": "(LD_patched - LD_corrupted) / (LD_clean - LD_corrupted); aggregates use the group means",
    "dla": "final-norm scale frozen at the clean final position; heads+mlps+attn_bias+embed+bias = ld_clean",
    "lens": "entry 0 reads the embeddings, entry l+1 the residual after layer l, each through the final norm",
}


def write_outputs(result: AnalysisResult, config: AnalysisConfig) -> dict[str, Path]:
    """Write analysis.json, report.md and (unless config.figures is False) the figures."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(result, config.top_k)
    heads = top_heads(summary, min(4, result.n_layers * result.n_heads))
    paths = {"json": out / "analysis.json", "report": out / "report.md"}
    data = to_json(result, summary, heads)
    paths["json"].write_text(json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n")
    text = markdown(result, summary, config.top_k)
    if config.figures:
        figures = write_figures(
            result, summary, heads, out, plotly_js=config.plotly_js, template=config.example_template
        )
        paths.update(figures)
        text += "\n## Figures\n\n" + "\n".join(f"![{p.stem}]({p.name})" for p in figures.values() if p.suffix == ".png")
        text += "\n\nInteractive versions: [figures.html](figures.html).\n"
    paths["report"].write_text(text)
    return paths


def to_json(result: AnalysisResult, summary: dict[str, Any], heads: list[tuple[int, int]]) -> dict[str, Any]:
    """analysis.json: provenance, the summary, and every item's numbers (positions unpadded), with the
    attention from the final position of `heads` (layer, head)."""
    return {
        "model": result.model_info or {"id": result.model_id},
        "n_layers": result.n_layers,
        "n_heads": result.n_heads,
        "package_version": package_version(),
        "git_hash": git_hash(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "config": result.config,
        "skipped_items": result.skipped,
        "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
        "conventions": CONVENTIONS,
        **summary,
        "items": [_item_json(result, i, heads) for i in range(len(result.items))],
    }


def _item_json(result: AnalysisResult, i: int, heads: list[tuple[int, int]]) -> dict[str, Any]:
    item = result.items[i]
    width = result.attention.shape[-1]
    n = int(result.lengths[i])
    attr = result.attribution
    patched = {
        site: rounded_list(values[i, :, width - n :] if site.startswith("resid") else values[i])
        for site, values in result.patched.items()
    }
    return {
        "id": item.id,
        "pair_id": item.pair_id,
        "template_id": item.template_id,
        "direction": item.direction,
        "target": item.target,
        "distractor": item.distractor,
        "tokens": list(result.tokens[i]),
        "cue_position": int(result.cue_position[i]) - (width - n),
        "ld_clean": rounded(result.ld_clean[i]),
        "ld_corrupted": rounded(result.ld_corrupted[i]),
        "lens": rounded_list(result.lens[i]),
        "dla": {
            "heads": rounded_list(attr.heads[i]),
            "mlps": rounded_list(attr.mlps[i]),
            "attn_bias": rounded_list(attr.attn_bias[i]),
            "embed": rounded(attr.embed[i]),
            "bias": rounded(attr.bias[i]),
            "final_norm_scale": rounded(attr.scale[i]),
        },
        "patched_logit_diff": patched,
        "attention_from_final": {
            f"{layer}.{head}": rounded_list(result.attention[i, layer, head, width - n :]) for layer, head in heads
        },
    }


def markdown(result: AnalysisResult, summary: dict[str, Any], top_k: int) -> str:
    """report.md without its figures section: the group table, top components, generalisation."""
    lines = _overview(result, summary["groups"])
    lines += _top_component_tables(result, summary["groups"], top_k)
    lines += _generalisation_tables(summary["generalisation"], top_k)
    return "\n".join(lines).rstrip() + "\n"


def _overview(result: AnalysisResult, groups: dict[str, dict[str, Any]]) -> list[str]:
    n_items = groups[ALL]["n_items"]
    skipped = ", ".join(f"{n} ({why.replace('_', ' ')})" for why, n in result.skipped.items()) or "none"
    lines = [
        f"# Circuit analysis: {result.model_id}",
        "",
        f"{n_items} prompt pairs ({', '.join(sorted({i.pair_id for i in result.items}))}), "
        f"{result.n_layers} layers x {result.n_heads} heads. Items skipped: {skipped}.",
        "Logit difference (LD) = logit(target) - logit(distractor) at the final position. Recovery ="
        " (LD_patched - LD_corrupted) / (LD_clean - LD_corrupted) over the group's mean LDs.",
        "",
        "Heads are named layer.head. Handover: the last layer at which patching the residual stream at the"
        " cue still recovers at least 0.5, and the first at which the final position does (resid_pre).",
        "",
        f"| group | items | LD clean | LD corrupted | clean accuracy | lens after layer {result.n_layers // 2 - 1} |"
        " cue until layer | final from layer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    half = result.n_layers // 2
    for name, g in groups.items():
        hand = g["handover"].get("resid_pre", {})
        lines.append(
            f"| {name} | {g['n_items']} | {_fmt(g['ld_clean'])} | {_fmt(g['ld_corrupted'])} | "
            f"{_fmt(g['clean_accuracy'])} | {_fmt(g['lens'][half])} | {_layer(hand.get('cue_until_layer'))} | "
            f"{_layer(hand.get('final_from_layer'))} |"
        )
    return lines


def _top_component_tables(result: AnalysisResult, groups: dict[str, dict[str, Any]], top_k: int) -> list[str]:
    sections = [
        ("Direct logit attribution, heads", "top_dla_heads", None),
        ("Direct logit attribution, MLPs", "top_dla_mlps", None),
    ]
    for site in result.patched:
        sections.append((f"Activation patching, {site} (recovery)", "top_sites", site))
    lines: list[str] = []
    for title, key, site in sections:
        lines += ["", f"## {title}", "", "| group | " + " | ".join(f"#{j + 1}" for j in range(top_k)) + " |"]
        lines.append("|---|" + "---|" * top_k)
        for name, g in groups.items():
            tops = g[key][site] if site else g[key]
            cells = [f"{t['component']} ({_fmt(t['value'])})" for t in tops] + [""] * (top_k - len(tops))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _generalisation_tables(gen: dict[str, Any], top_k: int) -> list[str]:
    if len(gen["groups"]) <= 1:
        return []
    lines = ["", "## Generalisation across pairs and directions", ""]
    titles = {"dla_heads": "direct logit attribution", "head_all_recovery": "patching recovery (head_all)"}
    for measure in titles:
        if measure not in gen:
            continue
        lines += [
            f"Per-head {titles[measure]}: Pearson correlation between groups (and the share of top-{top_k}"
            " heads they have in common).",
            "",
            "| | " + " | ".join(gen["groups"]) + " |",
            "|---|" + "---:|" * len(gen["groups"]),
        ]
        for a, row in enumerate(gen[measure]["correlation"]):
            cells = [f"{_fmt(c)} ({gen[measure]['top_k_overlap'][a][b]:.1f})" for b, c in enumerate(row)]
            lines.append(f"| {gen['groups'][a]} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _layer(v: int | None) -> str:
    return "-" if v is None else str(v)


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"

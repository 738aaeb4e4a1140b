"""Figures of an analysis: PNG (matplotlib) for reading anywhere, one HTML page (plotly) to explore.

Each figure is a list of panels (heatmap, lines or bars) described once and drawn by both
backends. Needs the `analysis` extra: `pip install "duality-bench[analysis]"`.
"""

from __future__ import annotations

import html
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from duality_bench.analysis.recovery import recovery_by_role, recovery_of_means
from duality_bench.analysis.result import AnalysisResult
from duality_bench.analysis.summary import ALL
from duality_bench.errors import DualityBenchError


@dataclass
class Panel:
    title: str
    chart: str  # "heatmap" | "lines" | "bars"
    x: list[str]
    y: list[str] = field(default_factory=list)  # heatmap rows
    z: list[list[float | None]] = field(default_factory=list)  # heatmap values [row][col]
    series: dict[str, list[float | None]] = field(default_factory=dict)  # lines / bars
    faint: dict[str, list[float | None]] = field(default_factory=dict)  # thin lines drawn behind
    xlabel: str = ""
    ylabel: str = ""


def _token_label(token: str) -> str:
    """A decoded token as an axis label: newlines shown as \\n, blank tokens by their repr."""
    return token.replace("\n", "\\n").strip() or repr(token)


def _group_color(name: str, names: list[str]) -> str:
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    return palette[names.index(name) % len(palette)] if name in names else "#7f7f7f"


def build_figures(
    result: Any, summary: dict[str, Any], heads: list[tuple[int, int]], template: str | None = None
) -> dict[str, list[Panel]]:
    """Panels per figure name, from an AnalysisResult and its summary."""
    groups = summary["groups"]
    names = [n for n in groups if n != ALL][:8]
    layers = [str(n) for n in range(result.n_layers)]
    figs: dict[str, list[Panel]] = {}
    figs["logit_lens"] = _lens_panels(result, groups, names, layers)
    figs["attribution"] = _attribution_panels(result, groups, names, layers)
    resid = [site for site in ("resid_pre", "resid_mid") if site in result.patched]
    if resid:
        figs["patching_resid"] = _resid_panels(result, resid, layers)
        figs["patching_templates"] = _template_panels(result, resid[0], layers)
    panels = _component_panels(result, groups, layers)
    if panels:
        figs["patching_components"] = panels
    figs["attention"] = _attention_panels(result, heads, template)
    gen = summary["generalisation"]
    if len(gen["groups"]) > 1:
        figs["generalisation"] = _generalisation_panels(gen)
    return figs


def _lens_panels(result: AnalysisResult, groups: dict[str, Any], names: list[str], layers: list[str]) -> list[Panel]:
    faint = {}
    for name in names:
        for j, i in enumerate(result.groups()[name]):
            faint[f"{name}#{j}"] = [float(v) for v in result.lens[i]]
    return [
        Panel(
            "Logit lens (thick: mean per group, thin: each prompt)",
            "lines",
            ["emb", *layers],
            series={n: groups[n]["lens"] for n in names},
            faint=faint,
            xlabel="residual stream after layer",
            ylabel="logit(target) - logit(distractor)",
        )
    ]


def _attribution_panels(
    result: AnalysisResult, groups: dict[str, Any], names: list[str], layers: list[str]
) -> list[Panel]:
    head_labels = [str(h) for h in range(result.n_heads)]
    panels = [
        Panel(f"Head DLA: {n}", "heatmap", head_labels, layers, groups[n]["dla_heads"], xlabel="head", ylabel="layer")
        for n in names[:4]
    ]
    panels.append(
        Panel("MLP DLA", "lines", layers, series={n: groups[n]["dla_mlps"] for n in names}, xlabel="layer", ylabel="LD")
    )
    return panels


def _resid_panels(result: AnalysisResult, resid: list[str], layers: list[str]) -> list[Panel]:
    """One layer x position-role recovery heatmap per residual-stream site, over all items."""
    idx = list(range(len(result.items)))
    panels = []
    for site in resid:
        roles, rec = recovery_by_role(result, site, idx)
        panels.append(
            Panel(f"Patching {site}: recovery (all items)", "heatmap", roles, layers, rec.tolist(), ylabel="layer")
        )
    return panels


def _component_panels(result: AnalysisResult, groups: dict[str, Any], layers: list[str]) -> list[Panel]:
    """Recovery of the head and MLP output sites, over all items."""
    head_labels = [str(h) for h in range(result.n_heads)]
    panels = []
    for site in ("head_final", "head_all"):
        if site in result.patched:
            z = groups[ALL]["recovery"][site]
            where = "final position" if site == "head_final" else "all positions"
            panels.append(
                Panel(
                    f"Patching head output ({where})", "heatmap", head_labels, layers, z, xlabel="head", ylabel="layer"
                )
            )
    mlps = {site: groups[ALL]["recovery"][site] for site in ("mlp_final", "mlp_all") if site in result.patched}
    if mlps:
        panels.append(Panel("Patching MLP output", "lines", layers, series=mlps, xlabel="layer", ylabel="recovery"))
    return panels


def _generalisation_panels(gen: dict[str, Any]) -> list[Panel]:
    titles = {"dla_heads": "direct logit attribution", "head_all_recovery": "patching recovery (head_all)"}
    return [
        Panel(
            f"Per-head {title}: correlation between groups",
            "heatmap",
            gen["groups"],
            gen["groups"],
            gen[m]["correlation"],
        )
        for m, title in titles.items()
        if m in gen
    ]


def _template_panels(result: AnalysisResult, site: str, layers: list[str]) -> list[Panel]:
    """One layer x token recovery heatmap per template of the first pair (both directions averaged)."""
    first = result.items[0].pair_id
    by_template: dict[str, list[int]] = {}
    for i, item in enumerate(result.items):
        if item.pair_id == first:
            by_template.setdefault(item.template_id, []).append(i)
    width = result.patched[site].shape[-1]
    panels = []
    for template, idx in list(by_template.items())[:12]:
        n = int(result.lengths[idx[0]])
        idx = [i for i in idx if int(result.lengths[i]) == n]
        tokens = _merged_tokens(result, idx)
        rec = recovery_of_means(
            result.patched[site][idx][:, :, width - n :], result.ld_clean[idx], result.ld_corrupted[idx]
        )
        panels.append(Panel(f"{site}: {template}", "heatmap", tokens, layers, rec.tolist(), ylabel="layer"))
    return panels


def _attention_panels(result: AnalysisResult, heads: list[tuple[int, int]], template: str | None) -> list[Panel]:
    """Attention from the final position of the top-DLA heads, on one template's prompts of the
    first pair (`template` if the analysis has it, else the first item's)."""
    first = result.items[0]
    templates = {it.template_id for it in result.items if it.pair_id == first.pair_id}
    chosen = template if template in templates else first.template_id
    idx = [i for i, it in enumerate(result.items) if it.pair_id == first.pair_id and it.template_id == chosen]
    n = int(result.lengths[idx[0]])
    idx = [i for i in idx if int(result.lengths[i]) == n]
    width = result.attention.shape[-1]
    x = [f"{j}:{t}" for j, t in enumerate(_merged_tokens(result, idx))]
    panels = []
    for layer, head in heads:
        series = {}
        for i in idx:
            item = result.items[i]
            series[f"{item.direction} (cue {item.cue})"] = result.attention[i, layer, head, width - n :].tolist()
        panels.append(Panel(f"Head {layer}.{head}: attention from the final position", "bars", x, series=series))
    return panels


def _merged_tokens(result: AnalysisResult, idx: list[int]) -> list[str]:
    """Token labels of prompts that differ only in the cue: "left/right" where they differ."""
    tokens = [_token_label(t) for t in result.tokens[idx[0]]]
    for i in idx[1:]:
        other = [_token_label(t) for t in result.tokens[i]]
        tokens = [a if b in a.split("/") else f"{a}/{b}" for a, b in zip(tokens, other, strict=True)]
    return tokens


def write_figures(
    result: Any,
    summary: dict[str, Any],
    heads: list[tuple[int, int]],
    out: Path,
    *,
    plotly_js: str = "cdn",
    template: str | None = None,
) -> dict[str, Path]:
    """Write <name>.png per figure and figures.html with all of them; return the paths."""
    figs = build_figures(result, summary, heads, template)
    paths = {name: _png(panels, out / f"{name}.png") for name, panels in figs.items()}
    paths["html"] = _html(figs, out / "figures.html", title=f"duality-bench analysis: {result.model_id}", js=plotly_js)
    return paths


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DualityBenchError(
            f"figures need {module.split('.')[0]}: pip install 'duality-bench[analysis]' (or run with figures off)"
        ) from None


def _limit(z: list[list[float | None]]) -> float:
    vals = [abs(v) for row in z for v in row if v is not None and v == v]
    return max(vals, default=1.0) or 1.0


def _png(panels: list[Panel], path: Path) -> Path:
    mpl = _require("matplotlib")
    mpl.use("Agg")
    plt = _require("matplotlib.pyplot")
    import numpy as np

    cols = min(len(panels), 3 if len(panels) != 4 else 2)
    rows = -(-len(panels) // cols)
    big = max(max(len(p.y), len(p.x) * 0.6) for p in panels)
    height = min(max(3.2, big * 0.2), 9)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols + 3 * (cols == 1), height * rows), squeeze=False)
    for ax, p in zip(axes.flat, panels, strict=False):
        if p.chart == "heatmap":
            z = np.array([[np.nan if v is None else v for v in row] for row in p.z], dtype=float)
            lim = _limit(p.z)
            im = ax.imshow(z, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, origin="upper")
            fig.colorbar(im, ax=ax, shrink=0.8)
            ax.set_xticks(range(len(p.x)), p.x, rotation=60 if max(map(len, p.x)) > 3 else 0, ha="right", fontsize=7)
            step = max(1, len(p.y) // 16)
            ax.set_yticks(range(0, len(p.y), step), p.y[::step], fontsize=7)
        elif p.chart == "lines":
            names = list(p.series)
            for key, ys in p.faint.items():
                ax.plot(p.x, [np.nan if v is None else v for v in ys], lw=0.6, alpha=0.25,
                        color=_group_color(key.split("#")[0], names))  # fmt: skip
            for key, ys in p.series.items():
                ax.plot(p.x, [np.nan if v is None else v for v in ys], lw=2, label=key, color=_group_color(key, names))
            ax.axhline(0, color="black", lw=0.5)
            ax.legend(fontsize=7)
            step = -(-len(p.x) // 16)
            ax.set_xticks(range(0, len(p.x), step), p.x[::step], fontsize=7)
        else:
            width = 0.8 / max(1, len(p.series))
            for j, (key, ys) in enumerate(p.series.items()):
                ax.bar(np.arange(len(p.x)) + j * width, ys, width, label=key)
            ax.set_xticks(np.arange(len(p.x)) + 0.4 - width / 2, p.x, rotation=60, ha="right", fontsize=7)
            ax.legend(fontsize=7)
        ax.set_title(p.title, fontsize=9)
        ax.set_xlabel(p.xlabel, fontsize=8)
        ax.set_ylabel(p.ylabel, fontsize=8)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _html(figs: dict[str, list[Panel]], path: Path, *, title: str, js: str) -> Path:
    go = _require("plotly.graph_objects")
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"]
    first = True
    for name, panels in figs.items():
        parts.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2>")
        for p in panels:
            fig = go.Figure()
            if p.chart == "heatmap":
                lim = _limit(p.z)
                fig.add_trace(
                    go.Heatmap(z=p.z, x=p.x, y=p.y, colorscale="RdBu", reversescale=True, zmin=-lim, zmax=lim)
                )
                fig.update_yaxes(autorange="reversed", type="category")
                fig.update_xaxes(type="category")
            elif p.chart == "lines":
                for key, ys in p.faint.items():
                    color = _group_color(key.split("#")[0], list(p.series))
                    fig.add_trace(
                        go.Scatter(
                            x=p.x,
                            y=ys,
                            mode="lines",
                            line={"width": 0.7, "color": color},
                            opacity=0.3,
                            showlegend=False,
                            name=key,
                        )  # fmt: skip
                    )
                for key, ys in p.series.items():
                    fig.add_trace(go.Scatter(x=p.x, y=ys, mode="lines+markers", name=key))
            else:
                for key, ys in p.series.items():
                    fig.add_trace(go.Bar(x=p.x, y=ys, name=key))
            fig.update_layout(title=p.title, xaxis_title=p.xlabel, yaxis_title=p.ylabel, height=460, width=720)
            include: str | bool = ("cdn" if js == "cdn" else True) if first else False
            parts.append(fig.to_html(full_html=False, include_plotlyjs=include))
            first = False
    path.write_text("\n".join(parts) + "\n")
    return path

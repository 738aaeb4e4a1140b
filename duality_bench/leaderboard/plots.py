"""The leaderboard's plots: plotly figures built in Python, returned as plain JSON-ready dicts.

Labels that come from results files show hidden characters as escapes (`display.visible`) and
are HTML-escaped: plotly reads a small subset of HTML in labels, so escaped text shows exactly as
typed. Non-finite numbers become null.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from html import escape
from typing import Any

from duality_bench.display import visible
from duality_bench.leaderboard.columns import category_accuracy
from duality_bench.leaderboard.entries import Entry, categories
from duality_bench.leaderboard.headline import HEADLINE

TOP_CUES = 15  # cues shown in the right/wrong plot: the ones with the most items
# Bars per plot: past this many ranked rows a grouped bar plot is unreadable and slow to draw (1,000
# rows took 14 s to open in Chromium), so the bar plots show the best rows and every reference row.
PLOT_ROWS = 20


def plotted(section: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """The rows a bar plot shows: the best PLOT_ROWS real rows (in ranked order) and every reference row."""
    best = {id(e) for e in [e for e in section if e.reference is None][:PLOT_ROWS]}
    return tuple(e for e in section if id(e) in best or e.reference)


def plot_note(section: tuple[Entry, ...]) -> str:
    """What the page says above the bar plots of a section they do not show whole; "" otherwise."""
    hidden = len(section) - len(plotted(section))
    return (
        f"The bar plots show the best {PLOT_ROWS} models and the reference rows; {hidden} more are in the table."
        if hidden
        else ""
    )


def params_figure(section: tuple[Entry, ...]) -> dict[str, Any] | None:
    import plotly.graph_objects as go

    fig = go.Figure()
    for label, symbol, refs in (("models", "circle", False), ("reference rows", "diamond", True)):
        points = [e for e in section if bool(e.reference) == refs and e.result.model.n_params]
        if points:
            y = [finite(HEADLINE.value(e.metrics)) for e in points]
            ci = [HEADLINE.interval(e.metrics) for e in points]  # None in results files older than intervals
            up = [finite(c[1] - v) if c and v is not None else None for c, v in zip(ci, y, strict=True)]
            down = [finite(v - c[0]) if c and v is not None else None for c, v in zip(ci, y, strict=True)]
            fig.add_trace(
                go.Scatter(
                    x=[e.result.model.n_params for e in points],
                    y=y,
                    error_y={"type": "data", "symmetric": False, "array": up, "arrayminus": down},
                    text=[plot_text(e.model_id) for e in points],
                    mode="markers+text",
                    textposition="top center",
                    marker={"size": 11, "symbol": symbol},
                    name=label,
                    hovertemplate="%{text}<br>%{x:.3s} parameters<br>" + HEADLINE.name + " %{y:.3f}<extra></extra>",
                )
            )
    if not fig.data:
        return None
    for e in section:  # a reference row with no parameters (word frequency, copy) is a level to beat
        if e.reference and not e.result.model.n_params and finite(HEADLINE.value(e.metrics)) is not None:
            fig.add_hline(
                y=HEADLINE.value(e.metrics),
                line={"dash": "dot", "width": 1, "color": "#888"},
                annotation={"text": plot_text(e.model_id), "font": {"size": 10, "color": "#666"}},
                annotation_position="bottom right",
            )
    counts = [math.log10(x) for trace in fig.data for x in trace.x]
    span = [min(counts) - 0.4, max(counts) + 0.4]  # room for the labels at both ends
    fig.update_layout(xaxis={"type": "log", "range": span, "title": {"text": "parameters (log scale)"}})
    fig.update_layout(yaxis={"title": {"text": HEADLINE.name}, "range": [0, 1.05]})
    return _finish(fig)


def category_figure(section: tuple[Entry, ...]) -> dict[str, Any] | None:
    import plotly.graph_objects as go

    cats = categories(section)
    if not cats:
        return None
    fig = go.Figure()
    for e in plotted(section):
        fig.add_trace(
            go.Bar(
                x=[plot_text(c) for c in cats],
                y=[finite(category_accuracy(e, c)) for c in cats],
                name=plot_text(e.model_id),
                hovertemplate="%{x}: %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(barmode="group", yaxis={"title": {"text": "accuracy: dual above the cue"}, "range": [0, 1]})
    return _finish(fig)


def asymmetry_figure(section: tuple[Entry, ...]) -> dict[str, Any] | None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = [e for e in plotted(section) if e.metrics.asymmetry.pairs]
    if not rows:
        return None
    names = [plot_text(e.model_id) for e in rows]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("mean |accuracy a→b − b→a|", "mean |logit diff a→b − b→a|"),
        horizontal_spacing=0.12,
    )
    for col, key in ((1, "mean_abs_acc_asym"), (2, "mean_abs_ld_asym")):
        values = [finite(getattr(e.metrics.asymmetry, key)) for e in rows]
        fig.add_trace(go.Bar(x=names, y=values, showlegend=False, name=key), row=1, col=col)
    return _finish(fig)


def other_dual_figure(section: tuple[Entry, ...]) -> dict[str, Any] | None:
    import plotly.graph_objects as go

    rows = [e for e in plotted(section) if e.metrics.other_duals.n]
    if not rows:
        return None
    cues = _top_cues(rows)
    fig = go.Figure()
    for e in rows:
        by_cue = e.metrics.other_duals.by_cue
        fig.add_trace(
            go.Bar(
                x=["all such items", *(plot_text(f"{cue} → {other}") for cue, other in cues)],
                y=[
                    finite(e.metrics.other_duals.prefers_other_dual),
                    *(finite(by_cue[cue].prefers_other_dual if cue in by_cue else None) for cue, _ in cues),
                ],
                name=plot_text(e.model_id),
                hovertemplate="%{x}: %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        yaxis={"title": {"text": "share preferring the second dual"}, "range": [0, 1]},
        xaxis={"title": {"text": "cue → its second dual"}},
    )
    return _finish(fig)


def _top_cues(rows: list[Entry]) -> list[tuple[str, str]]:
    """(cue, its second dual) for the cues with the most items over all rows, `right` always among them."""
    n: dict[tuple[str, str], int] = {}
    for e in rows:
        for cue, r in e.metrics.other_duals.by_cue.items():
            key = (cue, str(r.other_dual))
            n[key] = n.get(key, 0) + r.n
    chosen = sorted(n, key=lambda k: (k[0] != "right", -n[k], k))[:TOP_CUES]
    return sorted(chosen)


def _finish(fig: Any) -> dict[str, Any]:
    fig.update_layout(
        template="plotly_white",
        margin={"t": 60, "b": 60},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    )
    return _clean(json.loads(fig.to_json()))


def plot_text(text: str) -> str:
    """Text for plotly, which reads a small subset of HTML in labels: escaped, it shows as typed."""
    return escape(visible(str(text)), quote=False)


def finite(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _clean(obj: Any) -> Any:
    """Non-finite numbers as null, so the JSON is strict."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# (kind, title, the text above the plot (HTML, written here), the function that makes the figure)
FIGURES: tuple[tuple[str, str, str, Callable[[tuple[Entry, ...]], dict[str, Any] | None]], ...] = (
    (
        "params",
        f"{HEADLINE.name.capitalize()} against parameter count",
        "Bars: 95% intervals (pairs resampled within categories). Dotted lines: reference rows that have no "
        "parameters (word frequency, copy).",
        params_figure,
    ),
    ("categories", "Accuracy (dual above the cue) per category", "", category_figure),
    (
        "asymmetry",
        "Asymmetry",
        "How differently each model does on the two directions of the same pair (a&rarr;b against b&rarr;a, "
        "over the templates both share), averaged over pairs.",
        asymmetry_figure,
    ),
    (
        "other-duals",
        "The right/wrong effect",
        "Some cues have a second dual: <i>right</i> is the dual of <i>left</i> and of <i>wrong</i>. For those "
        "items, the share where the model rates the second dual above the target: over all such items, and for "
        f"the {TOP_CUES} cues with the most items. A model that prefers <i>wrong</i> after <i>right</i> does "
        "worse on right&rarr;left than on left&rarr;right.",
        other_dual_figure,
    ),
)

"""Summaries of an analysis per pair and direction, and the files: analysis.json and report.md.

Aggregate recovery is the recovery of the mean logit differences over a group's items,
(mean LD_patched - mean LD_corrupted) / (mean LD_clean - mean LD_corrupted), which stays finite
when single items have LD_clean close to LD_corrupted. Positions are aligned across templates by
their role: `cue` (the first token that differs between clean and corrupted), `cue+k`, `final`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import torch

ALL = "all"


def recovery_of_means(patched: torch.Tensor, clean: torch.Tensor, corrupted: torch.Tensor) -> torch.Tensor:
    """patched [item, ...], clean and corrupted [item] -> [...]; NaN where the means coincide."""
    shape = (-1,) + (1,) * (patched.dim() - 1)
    den = clean.mean() - corrupted.mean()
    num = patched.mean(0) - corrupted.view(shape).mean(0)
    return num / den if abs(float(den)) > 1e-6 else torch.full_like(num, float("nan"))


def roles(result: Any, idx: list[int]) -> list[str]:
    """Position roles present in items `idx`, in order: cue, cue+1, ..., final."""
    width = result.attention.shape[-1]
    longest = max(width - 1 - int(result.cue[i]) for i in idx)
    return ["cue", *[f"cue+{k}" for k in range(1, longest)], "final"]


def role_position(label: str, cue: int, width: int) -> int | None:
    """The right-aligned position of a role for an item whose cue is at `cue`, or None."""
    if label == "final":
        return width - 1
    pos = cue + (0 if label == "cue" else int(label[4:]))
    return pos if pos < width - 1 else None


def role_recovery(result: Any, kind: str, idx: list[int]) -> tuple[list[str], torch.Tensor]:
    """Recovery [layer, role] of a residual-stream kind, each role averaged over items that have it."""
    labels = roles(result, idx)
    width = result.patched[kind].shape[-1]
    out = torch.full((result.n_layers, len(labels)), float("nan"))
    for j, label in enumerate(labels):
        pairs = [(i, role_position(label, int(result.cue[i]), width)) for i in idx]
        members = [i for i, p in pairs if p is not None]
        if members:
            cols = [p for _, p in pairs if p is not None]
            patched = result.patched[kind][members, :, cols]  # [member, layer]
            out[:, j] = recovery_of_means(patched, result.ld_clean[members], result.ld_corrupted[members])
    return labels, out


def _top(values: torch.Tensor, k: int, name: Any) -> list[dict[str, Any]]:
    flat = torch.nan_to_num(values.flatten(), nan=0.0)
    order = flat.abs().argsort(descending=True)[:k]
    return [{"component": name(int(j)), "value": _num(values.flatten()[j])} for j in order]


def summarize(result: Any, top_k: int = 5) -> dict[str, Any]:
    """Headline numbers and top components per "pair direction" group and over all items."""
    heads = result.n_heads
    head_name = lambda j: f"{j // heads}.{j % heads}"  # noqa: E731
    mlp_name = lambda j: f"MLP{j}"  # noqa: E731
    groups = {**result.groups(), ALL: list(range(len(result.items)))}
    out: dict[str, Any] = {}
    for name, idx in groups.items():
        clean, corr = result.ld_clean[idx], result.ld_corrupted[idx]
        attr = result.attribution
        g: dict[str, Any] = {
            "n_items": len(idx),
            "ld_clean": _num(clean.mean()),
            "ld_corrupted": _num(corr.mean()),
            "clean_accuracy": _num((clean > 0).float().mean()),
            "lens": _list(result.lens[idx].mean(0)),
            "dla_heads": _list(attr.heads[idx].mean(0)),
            "dla_mlps": _list(attr.mlps[idx].mean(0)),
            "dla_other": {
                "embed": _num(attr.embed[idx].mean()),
                "attn_bias": _num(attr.attn_bias[idx].sum(1).mean()),
                "bias": _num(attr.bias[idx].mean()),
            },
            "top_dla_heads": _top(attr.heads[idx].mean(0), top_k, head_name),
            "top_dla_mlps": _top(attr.mlps[idx].mean(0), top_k, mlp_name),
            "recovery": {},
            "handover": {},
            "top_sites": {},
        }
        for kind, patched in result.patched.items():
            if kind.startswith("resid"):
                labels, rec = role_recovery(result, kind, idx)
                g["recovery"][kind] = {"positions": labels, "values": _list(rec)}
                g["handover"][kind] = handover(rec)
                g["top_sites"][kind] = _top(
                    rec, top_k, lambda j, labels=labels: f"L{j // len(labels)} {labels[j % len(labels)]}"
                )
            else:
                rec = recovery_of_means(patched[idx], clean, corr)
                g["recovery"][kind] = _list(rec)
                g["top_sites"][kind] = _top(rec, top_k, head_name if kind.startswith("head") else mlp_name)
        out[name] = g
    return {"groups": out, "generalisation": generalisation(out, top_k)}


def handover(rec: torch.Tensor, threshold: float = 0.5) -> dict[str, int | None]:
    """Where the answer moves from the cue to the final position, from a [layer, role] recovery:
    the last layer at which the cue position still recovers `threshold`, the first at which the
    final position does."""
    cue = (rec[:, 0] >= threshold).nonzero().flatten()
    final = (rec[:, -1] >= threshold).nonzero().flatten()
    return {
        "cue_until_layer": int(cue.max()) if len(cue) else None,
        "final_from_layer": int(final.min()) if len(final) else None,
    }


def generalisation(groups: dict[str, dict[str, Any]], top_k: int) -> dict[str, Any]:
    """How the per-head picture of one group carries over to the others: Pearson correlation of
    the per-head values, and the share of one group's top-k heads among another's top-k."""
    names = [n for n in groups if n != ALL]
    out: dict[str, Any] = {"groups": names}
    measures = {"dla_heads": lambda g: g["dla_heads"]}
    if "head_all" in groups[names[0]]["recovery"]:
        measures["head_all_recovery"] = lambda g: g["recovery"]["head_all"]
    for measure, get in measures.items():
        vecs = {n: torch.nan_to_num(torch.tensor(get(groups[n]), dtype=torch.float64).flatten()) for n in names}
        tops = {n: set(vecs[n].abs().argsort(descending=True)[:top_k].tolist()) for n in names}
        corr = [[_num(torch.corrcoef(torch.stack([vecs[a], vecs[b]]))[0, 1]) for b in names] for a in names]
        overlap = [[len(tops[a] & tops[b]) / top_k for b in names] for a in names]
        out[measure] = {"correlation": corr, "top_k_overlap": overlap}
    return out


def to_json(result: Any, summary: dict[str, Any], top_heads: list[tuple[int, int]]) -> dict[str, Any]:
    from duality_bench import __version__
    from duality_bench.evaluation.run import git_hash

    width = result.attention.shape[-1]
    items = []
    for i, item in enumerate(result.items):
        n = int(result.lengths[i])
        attr = result.attribution
        patched = {}
        for kind, values in result.patched.items():
            patched[kind] = _list(values[i, :, width - n :] if kind.startswith("resid") else values[i])
        items.append(
            {
                "id": item.id,
                "pair_id": item.pair_id,
                "template_id": item.template_id,
                "direction": item.direction,
                "target": item.target,
                "distractor": item.distractor,
                "tokens": list(result.tokens[i]),
                "cue_position": int(result.cue[i]) - (width - n),
                "ld_clean": _num(result.ld_clean[i]),
                "ld_corrupted": _num(result.ld_corrupted[i]),
                "lens": _list(result.lens[i]),
                "dla": {
                    "heads": _list(attr.heads[i]),
                    "mlps": _list(attr.mlps[i]),
                    "attn_bias": _list(attr.attn_bias[i]),
                    "embed": _num(attr.embed[i]),
                    "bias": _num(attr.bias[i]),
                    "final_norm_scale": _num(attr.scale[i]),
                },
                "patched_logit_diff": patched,
                "attention_from_final": {
                    f"{layer}.{head}": _list(result.attention[i, layer, head, width - n :]) for layer, head in top_heads
                },
            }
        )
    return {
        "model": result.model_info or {"id": result.model_id},
        "n_layers": result.n_layers,
        "n_heads": result.n_heads,
        "package_version": __version__,
        "git_hash": git_hash(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "config": result.config,
        "skipped_items": result.skipped,
        "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
        "conventions": {
            "logit_diff": "logit(target) - logit(distractor) at the final position, with the clean item's two tokens",
            "recovery": "(LD_patched - LD_corrupted) / (LD_clean - LD_corrupted); aggregates use the group means",
            "dla": "final-norm scale frozen at the clean final position; heads+mlps+attn_bias+embed+bias = ld_clean",
            "lens": "entry 0 reads the embeddings, entry l+1 the residual after layer l, each through the final norm",
        },
        **summary,
        "items": items,
    }


def top_heads(summary: dict[str, Any], k: int) -> list[tuple[int, int]]:
    """The k heads with the largest mean |DLA| over all items, as (layer, head)."""
    return [tuple(int(x) for x in t["component"].split(".")) for t in summary["groups"][ALL]["top_dla_heads"][:k]]


def markdown(result: Any, summary: dict[str, Any], top_k: int) -> str:
    groups = summary["groups"]
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
    sections = [
        ("Direct logit attribution, heads", "top_dla_heads", None),
        ("Direct logit attribution, MLPs", "top_dla_mlps", None),
    ]
    for kind in result.patched:
        sections.append((f"Activation patching, {kind} (recovery)", "top_sites", kind))
    for title, key, kind in sections:
        lines += ["", f"## {title}", "", "| group | " + " | ".join(f"#{j + 1}" for j in range(top_k)) + " |"]
        lines.append("|---|" + "---|" * top_k)
        for name, g in groups.items():
            tops = g[key][kind] if kind else g[key]
            cells = [f"{t['component']} ({_fmt(t['value'])})" for t in tops] + [""] * (top_k - len(tops))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    gen = summary["generalisation"]
    if len(gen["groups"]) > 1:
        lines += ["", "## Generalisation across pairs and directions", ""]
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
    return "\n".join(lines).rstrip() + "\n"


def write_outputs(result: Any, config: Any) -> dict[str, Path]:
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
        from duality_bench.analysis.figures import write_figures

        figures = write_figures(
            result, summary, heads, out, plotly_js=config.plotly_js, template=config.example_template
        )
        paths.update(figures)
        text += "\n## Figures\n\n" + "\n".join(f"![{p.stem}]({p.name})" for p in figures.values() if p.suffix == ".png")
        text += "\n\nInteractive versions: [figures.html](figures.html).\n"
    paths["report"].write_text(text)
    return paths


def _num(x: Any) -> float | None:
    v = float(x)
    return None if math.isnan(v) or math.isinf(v) else round(v, 5)


def _list(t: torch.Tensor) -> Any:
    t = t.detach().double()
    return [_list(r) for r in t] if t.dim() > 1 else [_num(v) for v in t]


def _layer(v: int | None) -> str:
    return "-" if v is None else str(v)


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"

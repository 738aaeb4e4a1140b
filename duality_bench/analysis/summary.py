"""Headline numbers of an analysis per "pair direction" group and over all items (the group `ALL`),
as plain JSON values: what analysis.json, report.md and the figures show.

Aggregate recovery is `recovery_of_means`; residual-stream sites are summarised per position
role (`recovery_by_role`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from duality_bench.analysis.recovery import recovery_by_role, recovery_of_means
from duality_bench.analysis.result import AnalysisResult

ALL = "all"  # the group of every item


def summarize(result: AnalysisResult, top_k: int = 5) -> dict[str, Any]:
    """Headline numbers and top components per "pair direction" group and over all items."""
    groups = {**result.groups(), ALL: list(range(len(result.items)))}
    out = {name: _group_summary(result, idx, top_k) for name, idx in groups.items()}
    return {"groups": out, "generalisation": generalisation(out, top_k)}


def _group_summary(result: AnalysisResult, idx: list[int], top_k: int) -> dict[str, Any]:
    heads = result.n_heads
    head_name = lambda j: f"{j // heads}.{j % heads}"  # noqa: E731
    mlp_name = lambda j: f"MLP{j}"  # noqa: E731
    clean, corr = result.ld_clean[idx], result.ld_corrupted[idx]
    attr = result.attribution
    g: dict[str, Any] = {
        "n_items": len(idx),
        "ld_clean": rounded(clean.mean()),
        "ld_corrupted": rounded(corr.mean()),
        "clean_accuracy": rounded((clean > 0).float().mean()),
        "lens": rounded_list(result.lens[idx].mean(0)),
        "dla_heads": rounded_list(attr.heads[idx].mean(0)),
        "dla_mlps": rounded_list(attr.mlps[idx].mean(0)),
        "dla_other": {
            "embed": rounded(attr.embed[idx].mean()),
            "attn_bias": rounded(attr.attn_bias[idx].sum(1).mean()),
            "bias": rounded(attr.bias[idx].mean()),
        },
        "top_dla_heads": _top(attr.heads[idx].mean(0), top_k, head_name),
        "top_dla_mlps": _top(attr.mlps[idx].mean(0), top_k, mlp_name),
        "recovery": {},
        "handover": {},
        "top_sites": {},
    }
    for site, patched in result.patched.items():
        if site.startswith("resid"):
            roles, rec = recovery_by_role(result, site, idx)
            g["recovery"][site] = {"positions": roles, "values": rounded_list(rec)}
            g["handover"][site] = handover(rec)
            g["top_sites"][site] = _top(
                rec, top_k, lambda j, roles=roles: f"L{j // len(roles)} {roles[j % len(roles)]}"
            )
        else:
            rec = recovery_of_means(patched[idx], clean, corr)
            g["recovery"][site] = rounded_list(rec)
            g["top_sites"][site] = _top(rec, top_k, head_name if site.startswith("head") else mlp_name)
    return g


def _top(values: torch.Tensor, k: int, name_of: Callable[[int], str]) -> list[dict[str, Any]]:
    """The k entries of `values` largest in absolute value, named by their flat index."""
    flat = torch.nan_to_num(values.flatten(), nan=0.0)
    order = flat.abs().argsort(descending=True)[:k]
    return [{"component": name_of(int(j)), "value": rounded(values.flatten()[j])} for j in order]


def handover(rec: torch.Tensor, threshold: float = 0.5) -> dict[str, int | None]:
    """Where the answer moves from the cue to the final position, from a [layer, role] recovery:
    the last layer at which the cue position still recovers `threshold`, the first at which the
    final position does."""
    cue_layers = (rec[:, 0] >= threshold).nonzero().flatten()
    final_layers = (rec[:, -1] >= threshold).nonzero().flatten()
    return {
        "cue_until_layer": int(cue_layers.max()) if len(cue_layers) else None,
        "final_from_layer": int(final_layers.min()) if len(final_layers) else None,
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
        corr = [[rounded(torch.corrcoef(torch.stack([vecs[a], vecs[b]]))[0, 1]) for b in names] for a in names]
        overlap = [[len(tops[a] & tops[b]) / top_k for b in names] for a in names]
        out[measure] = {"correlation": corr, "top_k_overlap": overlap}
    return out


def top_heads(summary: dict[str, Any], k: int) -> list[tuple[int, int]]:
    """The k heads with the largest mean |DLA| over all items, as (layer, head)."""
    return [tuple(int(x) for x in t["component"].split(".")) for t in summary["groups"][ALL]["top_dla_heads"][:k]]


def rounded(x: Any) -> float | None:
    """A number for JSON: rounded to 5 decimals; None for NaN and infinities."""
    v = float(x)
    return None if math.isnan(v) or math.isinf(v) else round(v, 5)


def rounded_list(t: torch.Tensor) -> Any:
    """A tensor as nested lists of `rounded` numbers."""
    t = t.detach().double()
    return [rounded_list(r) for r in t] if t.dim() > 1 else [rounded(v) for v in t]

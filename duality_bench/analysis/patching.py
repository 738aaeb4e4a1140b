"""Activation patching, batched: many patched points per forward pass, each pass started late.

Run the corrupted prompt, put the clean activation in at one point of a site (one layer and
position or head), and read the logit difference at the final position. Sites, the `--sites` of
`duality-bench analyze` (their result shapes):

- `resid_pre`, `resid_mid`: the residual stream before / after layer l's attention at one
  position  [item, layer, pos]
- `head_final`, `head_all`: one head's output (its z) at the final position / at every position
  [item, layer, head]
- `mlp_final`, `mlp_all`: one MLP's output at the final position / at every position  [item, layer]

What makes it fast, and why each step is exact:

1. Points that change the same first position run as one batch, each row joining the pass at
   the stage it patches (see `trace.run_from_stages`): one call per half-layer for the whole batch.
2. A pass starts at the patched stage from the cached corrupted activations: nothing before it
   changes.
3. A pass computes only positions from the earliest patched one on, reading keys and values of
   earlier positions from the corrupted cache: in a causal model a patch never reaches back.
4. Only the final position is normed and unembedded, and only for the two tokens compared.
5. Points where the clean and corrupted activations are identical are not run: their result is
   the corrupted run's. Those are the residual stream before the first differing token, and
   the embeddings (resid_pre of layer 0) wherever the tokens are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from duality_bench.analysis.recovery import recovery_per_item
from duality_bench.analysis.trace import PromptBatch, Trace, logit_diff, run_from_stages, run_trace, suffix_context
from duality_bench.errors import DualityBenchError
from duality_bench.models.adapters import Adapter

SITES = ("resid_pre", "resid_mid", "head_final", "head_all", "mlp_final", "mlp_all")


@dataclass(frozen=True)
class Patching:
    """Logit differences of the clean, corrupted and patched runs of one batch."""

    ld_clean: torch.Tensor  # [item]
    ld_corrupted: torch.Tensor  # [item]
    ld_patched: dict[str, torch.Tensor]  # site -> [item, layer, pos] | [item, layer, head] | [item, layer]
    computed: dict[str, torch.Tensor] = field(default_factory=dict)  # site -> bool, same shape: False = skipped

    def recovery(self, site: str) -> torch.Tensor:
        """`recovery_per_item` of one site: same shape as `ld_patched[site]`."""
        return recovery_per_item(self.ld_patched[site], self.ld_clean, self.ld_corrupted)


def check_sites(sites: Sequence[str]) -> tuple[str, ...]:
    """The sites as a tuple; a clear error for a name not in `SITES`."""
    unknown = [s for s in sites if s not in SITES]
    if unknown:
        raise DualityBenchError(f"unknown patching site {unknown[0]!r}; choose from {', '.join(SITES)}")
    return tuple(sites)


def patch(
    adapter: Adapter,
    batch: PromptBatch,
    sites: Sequence[str] = SITES,
    *,
    clean: Trace | None = None,
    corrupted: Trace | None = None,
    batch_size: int = 256,
) -> Patching:
    """Patch every layer and position (or head) of each site, `batch_size` patched prompts per forward pass."""
    sites = check_sites(sites)
    if batch_size < 1:
        raise DualityBenchError(f"batch_size must be at least 1, got {batch_size}")
    if clean is None:
        clean = run_trace(adapter, batch.clean, batch.mask)
    if corrupted is None:
        corrupted = run_trace(adapter, batch.corrupted, batch.mask)
    with torch.inference_mode():
        ld_clean = logit_diff(adapter, clean.resid_final[:, -1], batch.target, batch.distractor).cpu()
        ld_corrupted = logit_diff(adapter, corrupted.resid_final[:, -1], batch.target, batch.distractor).cpu()
    patched, computed = {}, {}
    for site in sites:
        points, shape = _patch_points(site, adapter, batch)
        result = ld_corrupted.view((-1,) + (1,) * (len(shape) - 1)).expand(shape).clone()
        done = torch.zeros(shape, dtype=torch.bool)
        for chunk in _chunks(points, batch_size):
            ld = _run_chunk(site, adapter, batch, clean, corrupted, chunk)
            item, layer, index = chunk["item"], chunk["layer"], chunk["index"]
            key = (item, layer) if len(shape) == 2 else (item, layer, index)
            result[key] = ld
            done[key] = True
        patched[site], computed[site] = result, done
    return Patching(ld_clean, ld_corrupted, patched, computed)


def _patch_points(site: str, adapter: Adapter, batch: PromptBatch) -> tuple[dict[str, torch.Tensor], tuple[int, ...]]:
    """Every point of one site that can change the output: item, layer, index (position or head),
    the stage its pass starts at, and the first position it must compute; and the result's shape."""
    n, width = batch.clean.shape
    n_layers = adapter.n_layers
    first = batch.first_diff.cpu()
    if site.startswith("resid"):
        item, layer, pos = torch.meshgrid(torch.arange(n), torch.arange(n_layers), torch.arange(width), indexing="ij")
        keep = pos >= first[item]
        if site == "resid_pre":
            same = (batch.clean == batch.corrupted).cpu()
            keep &= ~((layer == 0) & same[item, pos])
        stage = 2 * layer + (site == "resid_mid")
        points = {"item": item, "layer": layer, "index": pos, "stage": stage, "offset": pos}
        return {k: v[keep] for k, v in points.items()}, (n, n_layers, width)
    n_index = adapter.n_heads if site.startswith("head") else 1
    item, layer, index = torch.meshgrid(torch.arange(n), torch.arange(n_layers), torch.arange(n_index), indexing="ij")
    offset = torch.full_like(item, width - 1) if site.endswith("final") else first[item]
    stage = 2 * layer + (1 if site.startswith("head") else 2)
    points = {"item": item, "layer": layer, "index": index, "stage": stage, "offset": offset}
    shape = (n, n_layers, n_index) if site.startswith("head") else (n, n_layers)
    return {k: v.flatten() for k, v in points.items()}, shape


def _chunks(points: dict[str, torch.Tensor], size: int):
    """Points that share their first computed position, sorted by stage, in runs of at most `size`."""
    key = points["offset"] * (int(points["stage"].max()) + 1) + points["stage"]
    order = key.argsort(stable=True)
    offsets = points["offset"][order]
    for offset in offsets.unique().tolist():
        idx = order[offsets == offset]
        for start in range(0, len(idx), size):
            part = idx[start : start + size]
            yield {name: v[part] for name, v in points.items()}


def _run_chunk(
    site: str, adapter: Adapter, batch: PromptBatch, clean: Trace, corrupted: Trace, chunk: dict[str, torch.Tensor]
) -> torch.Tensor:
    """Patched logit differences [row] for points that share their first computed position."""
    device = batch.clean.device
    item, index, layer = (chunk[k].to(device) for k in ("item", "index", "layer"))
    offset = int(chunk["offset"][0])
    rows = torch.arange(len(item), device=device)
    with torch.inference_mode():
        if site.startswith("resid"):
            name = "resid_pre" if site == "resid_pre" else "resid_mid"
            resid = getattr(corrupted, name)[layer, item, offset:].clone()  # [row, pos, d_model]
            resid[rows, index - offset] = getattr(clean, name)[layer, item, index]
        elif site.startswith("head"):
            z = corrupted.z[layer, item, offset:].clone()  # [row, pos, head, d_head]
            z[rows, :, index] = clean.z[layer, item, offset:][rows, :, index]
            resid = corrupted.resid_pre[layer, item, offset:].clone()
            for n in layer.unique().tolist():
                same = layer == n
                resid[same] += adapter.attn_out(n, z[same])
        else:
            resid = corrupted.resid_mid[layer, item, offset:] + clean.mlp_out[layer, item, offset:]
        ctx = suffix_context(adapter, corrupted, item, offset)
        final = run_from_stages(adapter, chunk["stage"], resid, ctx)
        return logit_diff(adapter, final, batch.target[item], batch.distractor[item]).cpu()

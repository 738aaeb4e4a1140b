"""Recovery: the share of the clean logit difference (LD) that a patch restores, 0 = corrupted, 1 = clean.

Three forms, one per use:

- `recovery_per_item`: (LD_patched - LD_corrupted) / (LD_clean - LD_corrupted) for each item and
  site; large when an item's LD_clean is close to its LD_corrupted.
- `recovery_of_means`: the same ratio of a group's mean LDs, which stays finite when single items
  have LD_clean close to LD_corrupted; the report's and figures' aggregates.
- `recovery_by_role`: `recovery_of_means` of the residual-stream sites per layer and position,
  positions aligned across templates by their role: `cue` (the first token that differs between
  clean and corrupted), `cue+k`, `final`.

Per-item tensors are right-aligned (see `AnalysisResult`).
"""

from __future__ import annotations

from typing import Any

import torch


def recovery_per_item(patched: torch.Tensor, clean: torch.Tensor, corrupted: torch.Tensor) -> torch.Tensor:
    """Recovery of each item at each site: patched [item, ...], clean and corrupted [item] -> [item, ...]."""
    shape = (-1,) + (1,) * (patched.dim() - 1)
    corrupted = corrupted.view(shape)
    return (patched - corrupted) / (clean.view(shape) - corrupted)


def recovery_of_means(patched: torch.Tensor, clean: torch.Tensor, corrupted: torch.Tensor) -> torch.Tensor:
    """Recovery of the items' mean LDs: patched [item, ...], clean and corrupted [item] -> [...];
    NaN where the clean and corrupted means coincide."""
    shape = (-1,) + (1,) * (patched.dim() - 1)
    den = clean.mean() - corrupted.mean()
    num = patched.mean(0) - corrupted.view(shape).mean(0)
    return num / den if abs(float(den)) > 1e-6 else torch.full_like(num, float("nan"))


def position_roles(result: Any, idx: list[int]) -> list[str]:
    """Position roles present in items `idx` of an AnalysisResult, in order: cue, cue+1, ..., final."""
    width = result.attention.shape[-1]
    longest = max(width - 1 - int(result.cue_position[i]) for i in idx)
    return ["cue", *[f"cue+{k}" for k in range(1, longest)], "final"]


def role_position(role: str, cue_position: int, width: int) -> int | None:
    """The right-aligned position of a role for an item whose cue is at `cue_position`, or None."""
    if role == "final":
        return width - 1
    pos = cue_position + (0 if role == "cue" else int(role[4:]))
    return pos if pos < width - 1 else None


def recovery_by_role(result: Any, site: str, idx: list[int]) -> tuple[list[str], torch.Tensor]:
    """Recovery of means [layer, role] of a residual-stream site, each role over the items that have it."""
    roles = position_roles(result, idx)
    width = result.patched[site].shape[-1]
    out = torch.full((result.n_layers, len(roles)), float("nan"))
    for j, role in enumerate(roles):
        pairs = [(i, role_position(role, int(result.cue_position[i]), width)) for i in idx]
        members = [i for i, p in pairs if p is not None]
        if members:
            cols = [p for _, p in pairs if p is not None]
            patched = result.patched[site][members, :, cols]  # [member, layer]
            out[:, j] = recovery_of_means(patched, result.ld_clean[members], result.ld_corrupted[members])
    return roles, out

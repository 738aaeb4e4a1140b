"""What `analyze` takes and returns: its config (the items, the sites, the outputs) and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from duality_bench.analysis.attribution import Attribution
from duality_bench.analysis.patching import SITES
from duality_bench.analysis.recovery import recovery_per_item
from duality_bench.data.records import PromptItem
from duality_bench.data.selection import PairFilters


@dataclass(frozen=True)
class AnalysisConfig(PairFilters):
    sites: tuple[str, ...] = SITES  # patching sites, see duality_bench.analysis.patching
    batch_size: int = 256  # patched prompts per forward pass (at most)
    items_per_batch: int = 32  # prompts traced together
    top_k: int = 5  # components named per group in the report
    out: Path | None = None  # write report.md, analysis.json, figures (PNG + HTML) here
    figures: bool = True
    plotly_js: str = "cdn"  # "cdn" (small HTML files) or "inline" (opens offline)
    example_template: str | None = "spatial.two_hands.v1"  # whose prompts the attention figure shows
    device: str = "auto"  # when `model` is a spec string
    dtype: str = "auto"


@dataclass(frozen=True)
class AnalysisResult:
    """Everything `analyze` measured. Per-item tensors are right-aligned: position -1 is every
    prompt's last token; positions before an item's first token are padding (see `lengths`)."""

    model_id: str
    n_layers: int
    n_heads: int
    items: tuple[PromptItem, ...]
    tokens: tuple[tuple[str, ...], ...]  # clean prompt tokens per item, decoded one by one
    cue_position: torch.Tensor  # [item] first position (right-aligned coordinates) where clean and corrupted differ
    lengths: torch.Tensor  # [item]
    ld_clean: torch.Tensor  # [item] logit(target) - logit(distractor) on the clean prompt
    ld_corrupted: torch.Tensor  # [item] the same two tokens on the corrupted prompt
    lens: torch.Tensor  # [item, layer + 1]
    attribution: Attribution  # heads [item, layer, head], mlps [item, layer], ...
    patched: dict[str, torch.Tensor]  # site -> patched logit difference, [item, layer, pos | head] or [item, layer]
    computed: dict[str, torch.Tensor]  # site -> bool, False where the point was skipped (identical activations)
    attention: torch.Tensor  # [item, layer, head, pos] attention from the final position, clean prompt
    skipped: dict[str, int]  # items left out, by reason
    seconds: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    model_info: dict[str, Any] = field(default_factory=dict)

    def recovery(self, site: str) -> torch.Tensor:
        """`recovery_per_item` of one site: same shape as `patched[site]`."""
        return recovery_per_item(self.patched[site], self.ld_clean, self.ld_corrupted)

    def groups(self) -> dict[str, list[int]]:
        """Item indices per "pair direction" group, pairs in the order the config names them."""
        out: dict[str, list[int]] = {}
        for i, item in enumerate(self.items):
            out.setdefault(f"{item.pair_id} {item.direction}", []).append(i)
        order = list(self.config.get("pairs") or ())

        def key(name: str) -> tuple[int, str]:
            pair = name.split(" ")[0]
            return (order.index(pair) if pair in order else len(order), name)

        return {name: out[name] for name in sorted(out, key=key)}

"""Prompt batches, a cached forward pass, and restarting a pass part-way through the model.

A pass is a sequence of stages: stage 2l is the residual stream before layer l's attention
(`resid_pre`), stage 2l+1 the residual after it (`resid_mid`), stage 2n the final residual.
`run_from_stages` runs rows from any stage on a suffix of the positions, reading the keys and
values of the earlier positions from a cached run; with a causal model that is exact whenever
nothing before the suffix differs from the cached run.

Batches are left-padded, with position ids counted over real tokens (the `forward_logits`
contract of `duality_bench.evaluation.models`), so each row's final position is its last prompt token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from duality_bench.data.records import PromptItem
from duality_bench.data.vocabulary import continuation_ids
from duality_bench.models.adapters import Adapter


@dataclass(frozen=True)
class PromptBatch:
    """Clean and corrupted prompts of some items, tokenized to the same length and left-padded."""

    items: tuple[PromptItem, ...]
    clean: torch.Tensor  # [item, pos] token ids
    corrupted: torch.Tensor  # [item, pos]
    mask: torch.Tensor  # [item, pos] 1 for real tokens
    target: torch.Tensor  # [item] the clean answer's token id
    distractor: torch.Tensor  # [item]
    first_diff: torch.Tensor  # [item] first position (padded coordinates) where clean and corrupted differ
    lengths: torch.Tensor  # [item] real tokens per prompt

    def __len__(self) -> int:
        return len(self.items)


def tokenize_items(
    tokenizer: Any, items: Sequence[PromptItem], *, max_batch: int = 32, device: str | torch.device = "cpu"
) -> tuple[list[PromptBatch], Counter]:
    """Batches of analysable items, sorted by length, and a count of the items skipped and why.

    An item is skipped when its clean and corrupted prompts tokenize to different lengths
    (`length_mismatch`), when its target or distractor is more than one token after the prompt
    (`multi_token`), or when both prompts give the same tokens (`identical`).
    """
    rows = []
    skipped: Counter = Counter()
    for item in items:
        clean = tokenizer(item.prompt)["input_ids"]
        corrupted = tokenizer(item.corrupted_prompt)["input_ids"]
        if len(clean) != len(corrupted):
            skipped["length_mismatch"] += 1
            continue
        target = continuation_ids(tokenizer, item.prompt, item.target, clean)
        distractor = continuation_ids(tokenizer, item.prompt, item.distractor, clean)
        if len(target) != 1 or len(distractor) != 1 or target == distractor:
            skipped["multi_token"] += 1
            continue
        diff = [i for i, (a, b) in enumerate(zip(clean, corrupted, strict=True)) if a != b]
        if not diff:
            skipped["identical"] += 1
            continue
        rows.append((item, clean, corrupted, target[0], distractor[0], diff[0]))
    rows.sort(key=lambda r: len(r[1]))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id or 0
    batches = [_pad(rows[i : i + max_batch], pad, device) for i in range(0, len(rows), max_batch)]
    return batches, skipped


def _pad(rows: list, pad: int, device: str | torch.device) -> PromptBatch:
    width = max(len(r[1]) for r in rows)

    def left(ids: list[int]) -> list[int]:
        return [pad] * (width - len(ids)) + list(ids)

    def tensor(values: list) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.long, device=device)

    return PromptBatch(
        items=tuple(r[0] for r in rows),
        clean=tensor([left(r[1]) for r in rows]),
        corrupted=tensor([left(r[2]) for r in rows]),
        mask=tensor([[0] * (width - len(r[1])) + [1] * len(r[1]) for r in rows]),
        target=tensor([r[3] for r in rows]),
        distractor=tensor([r[4] for r in rows]),
        first_diff=tensor([width - len(r[1]) + r[5] for r in rows]),
        lengths=tensor([len(r[1]) for r in rows]),
    )


@dataclass(frozen=True)
class Trace:
    """Every activation of one forward pass over a batch (float tensors in the model's dtype)."""

    resid_pre: torch.Tensor  # [layer, item, pos, d_model]
    resid_mid: torch.Tensor  # [layer, item, pos, d_model]
    resid_final: torch.Tensor  # [item, pos, d_model] after the last layer, before the final norm
    attn_out: torch.Tensor  # [layer, item, pos, d_model]
    mlp_out: torch.Tensor  # [layer, item, pos, d_model]
    z: torch.Tensor  # [layer, item, pos, head, d_head] per-head attention-weighted values
    keys: torch.Tensor  # [layer, item, kv_head, pos, d_head] after rotary
    values: torch.Tensor  # [layer, item, kv_head, pos, d_head]
    pattern_final: torch.Tensor  # [layer, item, head, pos] attention from the final position
    mask: torch.Tensor  # [item, pos]
    position_ids: torch.Tensor  # [item, pos]


@dataclass
class Context:
    """What a (partial) pass over some rows needs: masks, positions, and where earlier positions'
    keys and values come from. A pass over the first k rows uses the first k rows of each field."""

    mask: torch.Tensor  # [row, pos]
    position_ids: torch.Tensor  # [row, pos]
    offset: int = 0  # first position computed; keys and values before it come from `cache`
    cache: Trace | None = None
    items: torch.Tensor | None = None  # [row] each row's prompt in `cache`


def attention(
    adapter: Adapter, layer: int, resid: torch.Tensor, ctx: Context
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One attention layer on positions [offset:] of the first len(resid) rows: (z [row, pos,
    head, d_head], pattern [row, head, pos, key], k, v [row, kv_head, pos, d_head] of those positions)."""
    rows, offset = resid.shape[0], ctx.offset
    x = adapter.attn_norm(layer, resid)
    rope = adapter.rope(ctx.position_ids[:rows, offset:], layer)  # local and global layers may differ
    q, k, v = adapter.qkv(layer, x, rope)  # q [row, head, pos, d_head], k/v [row, kv_head, pos, d_head]
    keys, values = k, v
    if offset:
        items = ctx.items[:rows]
        keys = torch.cat([ctx.cache.keys[layer, items, :, :offset], k], dim=2)
        values = torch.cat([ctx.cache.values[layer, items, :, :offset], v], dim=2)
    if adapter.n_kv_heads != adapter.n_heads:
        rep = adapter.n_heads // adapter.n_kv_heads
        keys, values = keys.repeat_interleave(rep, dim=1), values.repeat_interleave(rep, dim=1)
    scores = torch.matmul(q, keys.transpose(-1, -2)) * adapter.scaling(layer)  # [row, head, query, key]
    n_keys = keys.shape[2]
    causal = torch.arange(n_keys, device=q.device)[None, :] <= torch.arange(offset, n_keys, device=q.device)[:, None]
    window = adapter.window(layer)
    if window is not None:  # a local layer: keys less than `window` positions back
        back = torch.arange(offset, n_keys, device=q.device)[:, None] - torch.arange(n_keys, device=q.device)[None, :]
        causal = causal & (back < window)
    allowed = causal[None] & ctx.mask[:rows, None, :].bool()  # [row, query, key]
    scores = scores.masked_fill(~allowed[:, None], torch.finfo(scores.dtype).min)
    pattern = scores.softmax(dim=-1, dtype=torch.float32).to(q.dtype)
    z = torch.matmul(pattern, values).transpose(1, 2)  # [row, pos, head, d_head]
    return z, pattern, k, v


def run_trace(adapter: Adapter, input_ids: torch.Tensor, mask: torch.Tensor) -> Trace:
    """A full forward pass over left-padded `input_ids` [item, pos], caching every activation."""
    adapter.check_length(input_ids.shape[1])
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    ctx = Context(mask=mask, position_ids=position_ids)
    out: dict[str, list[torch.Tensor]] = {k: [] for k in ("pre", "mid", "attn", "mlp", "z", "k", "v", "pat")}
    with torch.inference_mode():
        resid = adapter.embed(input_ids, position_ids)
        for layer in range(adapter.n_layers):
            z, pattern, k, v = attention(adapter, layer, resid, ctx)
            attn = adapter.attn_out(layer, z)
            mid = resid + attn
            mlp = adapter.mlp(layer, mid)
            for key, value in zip(out, (resid, mid, attn, mlp, z, k, v, pattern[:, :, -1]), strict=True):
                out[key].append(value)
            resid = mid + mlp
    s = {k: torch.stack(v) for k, v in out.items()}
    return Trace(
        resid_pre=s["pre"],
        resid_mid=s["mid"],
        resid_final=resid,
        attn_out=s["attn"],
        mlp_out=s["mlp"],
        z=s["z"],
        keys=s["k"],
        values=s["v"],
        pattern_final=s["pat"],
        mask=mask,
        position_ids=position_ids,
    )


def run_from_stages(adapter: Adapter, stages: torch.Tensor, resid: torch.Tensor, ctx: Context) -> torch.Tensor:
    """Run rows from their own stage to the end, on positions [ctx.offset:]; return the final
    residual at the last position [row, d_model] (before the final norm).

    `stages` [row] must be sorted ascending and `resid` [row, pos - offset, d_model] holds each
    row's residual at its stage. The batch grows as it goes: a stage's half-layer runs on every
    row that has started by then, so each half-layer is one call however many stages rows start at.
    """
    starts = stages.tolist()
    active = 0
    resid = resid.clone()
    with torch.inference_mode():
        for stage in range(starts[0], 2 * adapter.n_layers):
            while active < len(starts) and starts[active] <= stage:
                active += 1
            x = resid[:active]
            if stage % 2 == 0:
                z, _, _, _ = attention(adapter, stage // 2, x, ctx)
                resid[:active] = x + adapter.attn_out(stage // 2, z)
            else:
                resid[:active] = x + adapter.mlp(stage // 2, x)
    return resid[:, -1]


def suffix_context(adapter: Adapter, trace: Trace, items: torch.Tensor, offset: int) -> Context:
    """The context for restarting rows of the traced prompts `items` [row] at position `offset`,
    with the traced run's keys and values for the positions before it."""
    position_ids = trace.position_ids[items]
    return Context(trace.mask[items], position_ids, offset, trace, items)


def logit_diff(adapter: Adapter, resid: torch.Tensor, target: torch.Tensor, distractor: torch.Tensor) -> torch.Tensor:
    """logit(target) - logit(distractor) from final residuals [row, d_model]: [row] float32.

    Only the two unembedding rows each row needs are used (the same numbers the full logits give).
    """
    with torch.inference_mode():
        normed = adapter.final_norm(resid)
        w_t, b_t = adapter.unembed_rows(target)
        w_d, b_d = adapter.unembed_rows(distractor)
        ld = (normed * (w_t - w_d)).sum(-1)
        if b_t is not None:
            ld = ld + b_t - b_d
    return ld.float()

"""Batched scoring: one left-padded prompt row per item, the prompt computed once.

Every word an item needs (target, distractor, control, the cue's other duals) is scored as the
log-likelihood of its continuation `" " + word` after the prompt (see `vocabulary`). A batch
costs one forward pass over its prompts, whose last position gives every continuation's first
token; only if some continuation is longer than one token, one more pass runs over the rest
of those continuations, one right-padded row each, on top of the prompts' KV cache (the
prompt is never recomputed). Single-token items are thereby scored exactly at the next token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from duality_bench.data.records import PromptItem
from duality_bench.data.vocabulary import continuation_ids_batch
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.models import forward_continuations, forward_logits, forward_with_cache
from duality_bench.results import ItemScore

SCORINGS = ("sequence", "next-token")


@dataclass(frozen=True)
class Prepared:
    """An item tokenized for one tokenizer: its prompt and the continuation of every word it needs."""

    item: PromptItem
    prompt_ids: tuple[int, ...]
    target_ids: tuple[int, ...]
    distractor_ids: tuple[int, ...]
    control_ids: tuple[int, ...] = ()  # empty when the item has no control word
    other_ids: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (word, continuation) per other dual of the cue

    @property
    def single_token(self) -> bool:
        return len(self.target_ids) == 1 and len(self.distractor_ids) == 1

    @property
    def continuations(self) -> tuple[tuple[int, ...], ...]:
        """Target, distractor, control (if any), then the other duals, in that order."""
        control = (self.control_ids,) if self.control_ids else ()
        return (self.target_ids, self.distractor_ids, *control, *(ids for _, ids in self.other_ids))


def prepare(tokenizer: Any, items: Sequence[PromptItem]) -> list[Prepared]:
    """Tokenize prompts and every word's continuation, in two batched tokenizer calls."""
    prompt_ids = tokenizer([i.prompt for i in items])["input_ids"]
    words = [(n, w) for n, i in enumerate(items) for w in _words(i)]
    conts = continuation_ids_batch(tokenizer, [(items[n].prompt, prompt_ids[n], w) for n, w in words])
    per_item: list[list[tuple[int, ...]]] = [[] for _ in items]
    for (n, _), ids in zip(words, conts, strict=True):
        per_item[n].append(tuple(ids))
    out = []
    for item, ids, (target, distractor, *rest) in zip(items, prompt_ids, per_item, strict=True):
        control = rest.pop(0) if item.control else ()
        others = tuple(zip(item.other_duals, rest, strict=True))
        out.append(Prepared(item, tuple(ids), target, distractor, control, others))
    return out


def _words(item: PromptItem) -> tuple[str, ...]:
    control = (item.control,) if item.control else ()
    return (item.target, item.distractor, *control, *item.other_duals)


def batches(prepared: Sequence[Prepared], batch_size: int) -> Iterator[list[Prepared]]:
    """Length-sorted batches, longest first, so the first batch is the one that runs out of memory, if any.

    Sorted by prompt length, then by longest continuation: the prompt pass is most of the work
    and is padded to its batch's longest prompt; the continuation pass (rows of multi-token
    words only) is padded to its batch's longest continuation.
    """
    order = sorted(prepared, key=lambda p: (-len(p.prompt_ids), -max(len(c) for c in p.continuations)))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int, device: str) -> tuple[Any, Any]:
    """input_ids and attention_mask, [batch, max_len], real tokens flush right."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        if s:
            ids[row, width - len(s) :] = torch.tensor(s, dtype=torch.long)
            mask[row, width - len(s) :] = 1
    return ids.to(device), mask.to(device)


def right_pad(seqs: Sequence[Sequence[int]], pad_id: int, device: str) -> tuple[Any, Any]:
    """input_ids and attention_mask, [batch, max_len], real tokens flush left."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        ids[row, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[row, : len(s)] = 1
    return ids.to(device), mask.to(device)


def continuation_logprobs(model: Any, pad_id: int, device: str, batch: Sequence[Prepared]) -> tuple[Any, Any]:
    """Next-token logits after each prompt [batch, vocab], and each continuation's log-likelihood.

    The log-likelihoods are a float32 tensor [n_continuations], in the order of
    `p.continuations` for p in `batch`. One pass over the prompts; a second one over the
    continuations' later tokens only if some continuation has more than one token.
    """
    import torch

    conts = [c for p in batch for c in p.continuations]
    owner = [n for n, p in enumerate(batch) for _ in p.continuations]  # the item of each continuation
    multi = [k for k, c in enumerate(conts) if len(c) > 1]
    ids, mask = left_pad([p.prompt_ids for p in batch], pad_id, device)
    if multi:
        logits, cache = forward_with_cache(model, ids, mask)  # [batch, vocab]
    else:
        logits, cache = forward_logits(model, ids, mask, keep=1)[:, -1], None
    dev = logits.device
    lse = logits.logsumexp(-1)  # [batch]
    rows = torch.tensor(owner, device=dev)
    first = torch.tensor([c[0] for c in conts], device=dev)
    total = logits[rows, first] - lse[rows]  # [n_continuations] first tokens' log-probs
    if multi:
        # Row r feeds tokens 0..k-2 of its continuation and is scored on tokens 1..k-1.
        cont_ids, cont_mask = right_pad([conts[k][:-1] for k in multi], pad_id, device)
        later = forward_continuations(model, cache, rows[multi], mask, cont_ids, cont_mask)  # [n_real, vocab]
        targets = torch.tensor([t for k in multi for t in conts[k][1:]], device=later.device)
        which = torch.tensor([k for k in multi for _ in conts[k][1:]], device=later.device)
        lp = later.gather(-1, targets[:, None])[:, 0] - later.logsumexp(-1)  # [n_real]
        total = total.index_add(0, which.to(dev), lp.to(dev))
    return logits, total


def score_batch(model: Any, pad_id: int, device: str, batch: Sequence[Prepared]) -> list[ItemScore]:
    """Score a batch of items, in batch order (see `ItemScore` for what each field means)."""
    import torch

    logits, total = continuation_logprobs(model, pad_id, device, batch)  # [batch, vocab], [n_continuations]
    dev = logits.device
    rows = torch.arange(len(batch), device=dev)
    tgt = torch.tensor([p.target_ids[0] for p in batch], device=dev)
    dis = torch.tensor([p.distractor_ids[0] for p in batch], device=dev)
    t_logit, d_logit = logits[rows, tgt], logits[rows, dis]
    rank = (logits > t_logit[:, None]).sum(-1)
    t_logits, d_logits, ranks, lps = (x.tolist() for x in (t_logit, d_logit, rank, total))
    out = []
    at = 0  # where this item's continuations start in `lps`
    for n, p in enumerate(batch):
        t_lp, d_lp = lps[at], lps[at + 1]
        c_lp = lps[at + 2] if p.control_ids else None
        others = lps[at + 2 + (c_lp is not None) : at + len(p.continuations)]
        best = max(range(len(others)), key=others.__getitem__, default=None)
        at += len(p.continuations)
        single = p.single_token
        out.append(
            ItemScore(
                item_id=p.item.id,
                target_logit=t_logits[n],
                distractor_logit=d_logits[n],
                target_logprob=t_lp,
                distractor_logprob=d_lp,
                logit_diff=t_logits[n] - d_logits[n] if single else t_lp - d_lp,
                target_rank=int(ranks[n]) if single else None,
                top1=ranks[n] == 0 if single else None,
                single_token=single,
                control_logprob=c_lp,
                control_diff=t_lp - c_lp if c_lp is not None else None,
                other_dual=p.other_ids[best][0] if best is not None else None,
                other_dual_logprob=others[best] if best is not None else None,
            )
        )
    return out


def score_all(
    model: Any,
    pad_id: int,
    device: str,
    prepared: Sequence[Prepared],
    *,
    batch_size: int,
    on_batch: Callable[[list[ItemScore]], None],
    auto: bool = False,
) -> int:
    """Score everything, handing each batch's scores to `on_batch` as it finishes.

    With `auto`, a batch that runs out of memory is retried at half the size. Returns the
    batch size that worked last.
    """
    import torch

    pending = list(batches(prepared, batch_size))
    while pending:
        batch = pending.pop(0)
        try:
            on_batch(score_batch(model, pad_id, device, batch))
        except (torch.OutOfMemoryError, RuntimeError) as e:
            if not _is_oom(e) or not auto or len(batch) == 1:
                if _is_oom(e):
                    raise DualityBenchError(
                        f"out of memory at batch size {len(batch)}; pass a smaller --batch-size or --dtype bfloat16"
                    ) from None
                raise
            if device == "cuda":
                torch.cuda.empty_cache()
            half = max(1, len(batch) // 2)
            batch_size = half
            rest = [p for b in pending for p in b]
            pending = [batch[:half], batch[half:]] + [rest[i : i + half] for i in range(0, len(rest), half)]
    return batch_size


def _is_oom(e: BaseException) -> bool:
    import torch

    return isinstance(e, torch.OutOfMemoryError) or "out of memory" in str(e).lower()

"""Batched scoring: one forward pass per prompt, left-padded, last-position logits only.

Items whose target and distractor are single tokens (with the word-boundary space, see
`vocabulary`) are scored at the next token. Under sequence scoring, the others are scored by
the summed log-probability of each whole continuation, from one pass over prompt+continuation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from duality_bench.errors import DualityBenchError
from duality_bench.models import forward_logits
from duality_bench.records import ItemScore, PromptItem
from duality_bench.vocabulary import continuation_ids_batch

SCORINGS = ("next-token", "sequence")


@dataclass(frozen=True)
class Prepared:
    """An item tokenized for one tokenizer."""

    item: PromptItem
    prompt_ids: tuple[int, ...]
    target_ids: tuple[int, ...]
    distractor_ids: tuple[int, ...]
    other_ids: tuple[tuple[str, int], ...]  # single-token other duals of the cue

    @property
    def single_token(self) -> bool:
        return len(self.target_ids) == 1 and len(self.distractor_ids) == 1


def prepare(tokenizer: Any, items: Sequence[PromptItem]) -> list[Prepared]:
    """Tokenize prompts and answers; batched calls, since a fast tokenizer encodes lists in parallel."""
    prompt_ids = tokenizer([i.prompt for i in items])["input_ids"]
    words = [(n, w) for n, i in enumerate(items) for w in (i.target, i.distractor, *i.other_duals)]
    conts = continuation_ids_batch(tokenizer, [(items[n].prompt, prompt_ids[n], w) for n, w in words])
    per_item: list[list[list[int]]] = [[] for _ in items]
    for (n, _), ids in zip(words, conts, strict=True):
        per_item[n].append(ids)
    out = []
    for item, ids, (target, distractor, *others) in zip(items, prompt_ids, per_item, strict=True):
        singles = tuple((w, o[0]) for w, o in zip(item.other_duals, others, strict=True) if len(o) == 1)
        out.append(Prepared(item, tuple(ids), tuple(target), tuple(distractor), singles))
    return out


def batches(prepared: Sequence[Prepared], batch_size: int) -> Iterator[list[Prepared]]:
    """Longest first, so the first batch is the one that runs out of memory, if any."""
    order = sorted(prepared, key=lambda p: -(len(p.prompt_ids) + max(len(p.target_ids), len(p.distractor_ids))))
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


def score_batch(model: Any, pad_id: int, device: str, batch: Sequence[Prepared]) -> list[ItemScore]:
    """Score a batch: single-token items at the next token, others by whole continuations."""
    single = [p for p in batch if p.single_token]
    multi = [p for p in batch if not p.single_token]
    scores = _score_next_token(model, pad_id, device, single) if single else []
    if multi:
        scores += _score_sequences(model, pad_id, device, multi)
    return scores


def _score_next_token(model: Any, pad_id: int, device: str, batch: Sequence[Prepared]) -> list[ItemScore]:
    import torch

    ids, mask = left_pad([p.prompt_ids for p in batch], pad_id, device)
    logits = forward_logits(model, ids, mask, keep=1)[:, -1]  # [batch, vocab]
    logprobs = logits.log_softmax(-1)
    rows = torch.arange(len(batch), device=logits.device)
    tgt = torch.tensor([p.target_ids[0] for p in batch], device=logits.device)
    dis = torch.tensor([p.distractor_ids[0] for p in batch], device=logits.device)
    t_logit, d_logit = logits[rows, tgt], logits[rows, dis]
    rank = (logits > t_logit[:, None]).sum(-1)
    t_lp, d_lp = logprobs[rows, tgt], logprobs[rows, dis]
    cols = [t.tolist() for t in (t_logit, d_logit, t_lp, d_lp, rank)]
    other_ids = sorted({i for p in batch for _, i in p.other_ids})
    other = dict(zip(other_ids, logits[:, other_ids].T.tolist(), strict=True)) if other_ids else {}
    out = []
    for r, p in enumerate(batch):
        best = max(p.other_ids, key=lambda wi: other[wi[1]][r], default=None)
        out.append(
            ItemScore(
                item_id=p.item.id,
                target_logit=cols[0][r],
                distractor_logit=cols[1][r],
                target_logprob=cols[2][r],
                distractor_logprob=cols[3][r],
                logit_diff=cols[0][r] - cols[1][r],
                target_rank=int(cols[4][r]),
                top1=cols[4][r] == 0,
                single_token=True,
                other_dual=best[0] if best else None,
                other_dual_logit=other[best[1]][r] if best else None,
            )
        )
    return out


def _score_sequences(model: Any, pad_id: int, device: str, batch: Sequence[Prepared]) -> list[ItemScore]:
    """Sum of log-probs of target and of distractor continuations, one pass over both."""
    conts = [c for p in batch for c in (p.target_ids, p.distractor_ids)]
    seqs = [p.prompt_ids + c for p in batch for c in (p.target_ids, p.distractor_ids)]
    keep = max(len(c) for c in conts) + 1
    ids, mask = left_pad(seqs, pad_id, device)
    logits = forward_logits(model, ids, mask, keep=keep)  # [2*batch, keep, vocab]
    logprobs = logits.log_softmax(-1)
    stats = []
    for row, cont in enumerate(conts):
        # Token j of a k-token continuation is predicted at kept position keep-k-1+j.
        pos = [keep - len(cont) - 1 + j for j in range(len(cont))]
        lp = logprobs[row, pos, list(cont)]
        first = logits[row, pos[0]]
        greedy = bool((logits[row, pos].argmax(-1) == logits.new_tensor(cont).long()).all())
        stats.append((float(lp.sum()), float(first[cont[0]]), int((first > first[cont[0]]).sum()), greedy))
    out = []
    for n, p in enumerate(batch):
        (t_lp, t_logit, t_rank, t_greedy), (d_lp, d_logit, _, _) = stats[2 * n], stats[2 * n + 1]
        out.append(
            ItemScore(
                item_id=p.item.id,
                target_logit=t_logit,
                distractor_logit=d_logit,
                target_logprob=t_lp,
                distractor_logprob=d_lp,
                logit_diff=t_lp - d_lp,
                target_rank=t_rank,
                top1=t_greedy,
                single_token=False,
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

"""Batched scoring: one left-padded prompt row per item, the prompt computed once.

Every word an item needs (target, distractor, control, related word, the cue's other duals) is
scored as the log-likelihood of its continuation `" " + word` after the prompt (see
`vocabulary`). A batch costs one forward pass over its prompts, whose last position gives every
continuation's first token; only if some continuation is longer than one token, one more pass
runs over the rest of those continuations, one right-padded row each, on top of the prompts' KV
cache (the prompt is never recomputed). Single-token items are thereby scored exactly at the
next token.

Calibrated scores need the target and the distractor after the item's neutral prompt too. They
are scored in the same two passes, each (neutral prompt, word) once per run: a neutral prompt
many items share as one more row of the prompt pass, one that shares its start with an item's
prompt as a few tokens on that prompt's KV cache in the second pass (see `neutral`).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from duality_bench.data.records import PromptItem
from duality_bench.data.vocabulary import continuation_ids_batch
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation import neutral
from duality_bench.evaluation.neutral import Extension, Ids, Key
from duality_bench.models.forward import forward_continuations, forward_logits, forward_with_cache
from duality_bench.results import ItemScore

SCORINGS = ("sequence", "next-token")


class Context(Protocol):
    """A row of a prompt pass: a prompt and the continuations to score after it."""

    @property
    def prompt_ids(self) -> Ids: ...

    @property
    def continuations(self) -> tuple[Ids, ...]: ...


@dataclass(frozen=True)
class Feed:
    """A row of the pass on top of the prompts' cache: `fed` goes in after (the first `keep` real
    tokens of) prompt `row`; each target (position in `fed`, token, continuation index) adds the
    token's log-prob from the logits at that position to that continuation's log-likelihood."""

    row: int
    keep: int | None  # None: the whole prompt
    fed: Ids
    targets: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class Prepared:
    """An item tokenized for one tokenizer: its prompt and the continuation of every word it needs."""

    item: PromptItem
    prompt_ids: Ids
    target_ids: Ids
    distractor_ids: Ids
    control_ids: Ids = ()  # empty when the item has no control word
    other_ids: tuple[tuple[str, Ids], ...] = ()  # (word, continuation) per other dual of the cue
    related_ids: Ids = ()  # empty when the item has no related word
    neutral_ids: Ids = ()  # the neutral prompt; empty when the item has none
    neutral_target_ids: Ids = ()  # target and distractor as they follow the neutral prompt
    neutral_distractor_ids: Ids = ()

    @property
    def single_token(self) -> bool:
        return len(self.target_ids) == 1 and len(self.distractor_ids) == 1

    @property
    def continuations(self) -> tuple[Ids, ...]:
        """Target, distractor, control (if any), related word (if any), then the other duals, in that order."""
        control = (self.control_ids,) if self.control_ids else ()
        related = (self.related_ids,) if self.related_ids else ()
        return (self.target_ids, self.distractor_ids, *control, *related, *(ids for _, ids in self.other_ids))

    @property
    def neutral_keys(self) -> tuple[Key, ...]:
        """(neutral prompt, continuation) of the target and the distractor; none without a neutral prompt."""
        if not self.neutral_ids:
            return ()
        return ((self.neutral_ids, self.neutral_target_ids), (self.neutral_ids, self.neutral_distractor_ids))


def prepare(tokenizer: Any, items: Sequence[PromptItem]) -> list[Prepared]:
    """Tokenize prompts, neutral prompts and every word's continuation, in batched tokenizer calls.

    Each distinct neutral prompt, and each distinct (neutral prompt, word), is tokenized once.
    """
    prompt_ids = tokenizer([i.prompt for i in items])["input_ids"]
    words = [(n, w) for n, i in enumerate(items) for w in _words(i)]
    conts = continuation_ids_batch(tokenizer, [(items[n].prompt, prompt_ids[n], w) for n, w in words])
    per_item: list[list[Ids]] = [[] for _ in items]
    for (n, _), ids in zip(words, conts, strict=True):
        per_item[n].append(tuple(ids))
    after_neutral = neutral.tokenize(tokenizer, items)
    out = []
    for item, ids, (target, distractor, *rest) in zip(items, prompt_ids, per_item, strict=True):
        control = rest.pop(0) if item.control else ()
        related = rest.pop(0) if item.related else ()
        others = tuple(zip(item.other_duals, rest, strict=True))
        prompt, n_target, n_distractor = after_neutral.get(item.id, ((), (), ()))
        out.append(
            Prepared(item, tuple(ids), target, distractor, control, others, related, prompt, n_target, n_distractor)
        )
    return out


def _words(item: PromptItem) -> tuple[str, ...]:
    control = (item.control,) if item.control else ()
    related = (item.related,) if item.related else ()
    return (item.target, item.distractor, *control, *related, *item.other_duals)


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


def continuation_logprobs(
    model: Any, pad_id: int, device: str, batch: Sequence[Context], extensions: Sequence[Extension] = ()
) -> tuple[Any, Any]:
    """Next-token logits after each prompt [batch, vocab], and each continuation's log-likelihood.

    `batch` holds items (`Prepared`) or any other rows with a prompt and continuations
    (`neutral.Row`). The log-likelihoods are a float32 tensor [n_continuations + n_extensions]:
    `p.continuations` for p in `batch`, in order, then one per extension (a word after the first
    tokens of a batch row's prompt and a stem; see `neutral`). One pass over the prompts; a
    second one on their KV cache only if some continuation has more than one token or there are
    extensions.
    """
    import torch

    conts = [c for p in batch for c in p.continuations]
    owner = [n for n, p in enumerate(batch) for _ in p.continuations]  # the prompt of each continuation
    multi = [k for k, c in enumerate(conts) if len(c) > 1]
    ids, mask = left_pad([p.prompt_ids for p in batch], pad_id, device)
    if multi or extensions:
        logits, cache = forward_with_cache(model, ids, mask)  # [batch, vocab]
    else:
        logits, cache = forward_logits(model, ids, mask, keep=1)[:, -1], None
    dev = logits.device
    lse = logits.logsumexp(-1)  # [batch]
    rows = torch.tensor(owner, device=dev)
    first = torch.tensor([c[0] for c in conts], device=dev)
    total = torch.cat([logits[rows, first] - lse[rows], torch.zeros(len(extensions), device=dev)])
    # A later token of a word is predicted from the one before it.
    feeds = [Feed(owner[k], None, conts[k][:-1], tuple((j, t, k) for j, t in enumerate(conts[k][1:]))) for k in multi]
    feeds += _extension_feeds(extensions, len(conts))
    if feeds:
        which, lp = _fed_logprobs(model, cache, mask, feeds, pad_id, device)
        total = total.index_add(0, which.to(dev), lp.to(dev))
    return logits, total


def _extension_feeds(extensions: Sequence[Extension], first_index: int) -> list[Feed]:
    """Feeds for the extensions, the i-th adding to continuation `first_index + i`.

    Extensions that go on from the same place (a neutral prompt's words, on one item's cache)
    share a feed: the logits after the stem score every word's first token, so the stem runs
    once, and the first word of several tokens rides along; any other such word gets its own.
    """
    groups: dict[tuple[int, int, Ids], list[tuple[int, Ids]]] = {}
    for i, e in enumerate(extensions):
        groups.setdefault((e.row, e.keep, e.stem), []).append((first_index + i, e.cont))
    feeds = []
    for (row, keep, stem), conts in groups.items():
        at = len(stem) - 1  # the stem's last position predicts each word's first token
        singles = tuple((at, c[0], i) for i, c in conts if len(c) == 1)
        multis = [(i, c) for i, c in conts if len(c) > 1] or [(-1, ())]  # none: the stem alone, for the singles
        for n, (i, c) in enumerate(multis):
            targets = tuple((at + j, t, i) for j, t in enumerate(c)) + (singles if n == 0 else ())
            feeds.append(Feed(row, keep, stem + c[:-1], targets))
    return feeds


def _fed_logprobs(model: Any, cache: Any, mask: Any, feeds: Sequence[Feed], pad_id: int, device: str) -> Any:
    """(continuation index, log-prob) of every token the feeds score: one pass on the prompts' cache."""
    import torch

    fed_ids, fed_mask = right_pad([f.fed for f in feeds], pad_id, device)
    score = torch.zeros_like(fed_mask, dtype=torch.bool)
    where, offset = [], 0  # each target's row among the logits that come back (scored positions, feed by feed)
    for r, f in enumerate(feeds):
        positions = sorted({at for at, _, _ in f.targets})
        score[r, positions] = True
        where += [offset + positions.index(at) for at, _, _ in f.targets]
        offset += len(positions)
    real = mask.sum(-1).tolist()  # each prompt's real tokens
    prefix = torch.tensor([real[f.row] if f.keep is None else f.keep for f in feeds], device=device)
    rows = torch.tensor([f.row for f in feeds], device=device)
    later = forward_continuations(model, cache, rows, mask, fed_ids, fed_mask, prefix=prefix, score_mask=score)
    index = torch.tensor(where, device=later.device)  # [n_targets] into later's [n_scored, vocab]
    tokens = torch.tensor([t for f in feeds for _, t, _ in f.targets], device=later.device)
    which = torch.tensor([i for f in feeds for _, _, i in f.targets], device=later.device)
    return which, later[index, tokens] - later.logsumexp(-1)[index]


def score_batch(
    model: Any, pad_id: int, device: str, batch: Sequence[Prepared], cache: neutral.Cache | None = None
) -> list[ItemScore]:
    """Score a batch of items, in batch order (see `ItemScore` for what each field means).

    `cache` holds the log-likelihoods after neutral prompts that earlier batches scored, and
    gains this batch's. A word after a neutral prompt that equals a prompt of the batch is read
    from that prompt's own row, so an item whose neutral prompt is its prompt calibrates to exactly 0.
    """
    import torch

    cache = {} if cache is None else cache
    own: dict[Key, int] = {}  # (prompt, continuation) -> its place in the items' log-likelihoods
    for k, key in enumerate((p.prompt_ids, c) for p in batch for c in p.continuations):
        own.setdefault(key, k)
    rows, extensions = neutral.plan(batch, ChainMap(own, cache))  # a view: the run's cache is not copied
    logits, total = continuation_logprobs(model, pad_id, device, [*batch, *rows], [e for _, e in extensions])
    lps = total.tolist()
    at = sum(len(p.continuations) for p in batch)  # the neutral prompts' log-likelihoods follow
    for key in [(r.prompt_ids, c) for r in rows for c in r.continuations] + [key for key, _ in extensions]:
        cache[key] = lps[at]
        at += 1
    logits = logits[: len(batch)]  # [batch, vocab]
    dev = logits.device
    index = torch.arange(len(batch), device=dev)
    tgt = torch.tensor([p.target_ids[0] for p in batch], device=dev)
    dis = torch.tensor([p.distractor_ids[0] for p in batch], device=dev)
    t_logit, d_logit = logits[index, tgt], logits[index, dis]
    rank = (logits > t_logit[:, None]).sum(-1)
    t_logits, d_logits, ranks = (x.tolist() for x in (t_logit, d_logit, rank))
    out = []
    at = 0  # where this item's continuations start in `lps`
    for n, p in enumerate(batch):
        mine = lps[at : at + len(p.continuations)]
        at += len(p.continuations)
        after_neutral = [lps[own[key]] if key in own else cache[key] for key in p.neutral_keys]
        out.append(_item_score(p, mine, t_logits[n], d_logits[n], int(ranks[n]), after_neutral))
    return out


def _item_score(
    p: Prepared, lps: list[float], t_logit: float, d_logit: float, rank: int, after_neutral: list[float]
) -> ItemScore:
    """One item's record from its continuations' log-likelihoods (in `p.continuations` order)."""
    t_lp, d_lp, *rest = lps
    c_lp = rest.pop(0) if p.control_ids else None
    r_lp = rest.pop(0) if p.related_ids else None
    best = max(range(len(rest)), key=rest.__getitem__, default=None)
    t_neutral, d_neutral = after_neutral or (None, None)
    single = p.single_token
    return ItemScore(
        item_id=p.item.id,
        target_logit=t_logit,
        distractor_logit=d_logit,
        target_logprob=t_lp,
        distractor_logprob=d_lp,
        logit_diff=t_logit - d_logit if single else t_lp - d_lp,
        target_rank=rank if single else None,
        top1=rank == 0 if single else None,
        single_token=single,
        control_logprob=c_lp,
        control_diff=t_lp - c_lp if c_lp is not None else None,
        other_dual=p.other_ids[best][0] if best is not None else None,
        other_dual_logprob=rest[best] if best is not None else None,
        related_logprob=r_lp,
        related_diff=t_lp - r_lp if r_lp is not None else None,
        target_neutral_logprob=t_neutral,
        distractor_neutral_logprob=d_neutral,
        calibrated_diff=(t_lp - t_neutral) - (d_lp - d_neutral) if t_neutral is not None else None,
    )


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
    cache: neutral.Cache = {}  # each (neutral prompt, word) is scored once per run
    while pending:
        batch = pending.pop(0)
        try:
            on_batch(score_batch(model, pad_id, device, batch, cache))
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

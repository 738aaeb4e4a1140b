"""Scores after neutral prompts, for calibration: which words a batch needs there and how to get them.

An item's neutral prompt is its prompt with the cue slot neutral ("First it went somewhere, then
it went"). Calibrated scores need the target and the distractor after it. Two ways to score a
word there, both inside the batch's own passes (`scoring.continuation_logprobs`):

- a **row**: the neutral prompt joins the prompt pass as one more row, holding every word wanted
  after it. Right for a neutral prompt many items share (every zero-shot item of a template).
- an **extension**: the neutral prompt shares its first tokens with an item's prompt ("First it
  went" of "First it went up, then it went"; a few-shot prompt shares all its demonstrations),
  so its words are scored on top of that item's KV cache, cut to the shared tokens, after the
  neutral prompt's remaining tokens (its stem). The stem runs once for all the words: the
  logits after it score every word's first token. A few tokens instead of a whole prompt.

`plan` takes whichever computes fewer token positions, padding included: the extension, unless
the neutral prompt shares no first token with any prompt of the batch or its stem is so long
that it would pad every other row of the second pass. Scores are the same either way (within
float noise): the cache of a causal model's first tokens does not depend on the tokens after them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from duality_bench.data.records import PromptItem
from duality_bench.data.vocabulary import continuation_ids_batch

Ids = tuple[int, ...]
Key = tuple[Ids, Ids]  # (neutral prompt, continuation)
Cache = dict[Key, float]  # what a run has scored after neutral prompts: key -> log-likelihood


class Calibrated(Protocol):
    """An item as `plan` needs it (`scoring.Prepared`)."""

    @property
    def prompt_ids(self) -> Ids: ...

    @property
    def continuations(self) -> tuple[Ids, ...]: ...

    @property
    def neutral_keys(self) -> tuple[Key, ...]: ...


@dataclass(frozen=True)
class Row:
    """A neutral prompt in a batch's prompt pass, with the words still wanted after it."""

    prompt_ids: Ids
    continuations: tuple[Ids, ...]


@dataclass(frozen=True)
class Extension:
    """A word after the first `keep` real tokens of batch row `row`'s prompt, then `stem`."""

    row: int
    keep: int
    stem: Ids  # never empty: the logits after its last token predict the word's first
    cont: Ids


def plan(batch: Sequence[Calibrated], known: Collection[Key]) -> tuple[list[Row], list[tuple[Key, Extension]]]:
    """How `batch` scores the (neutral prompt, word) pairs it needs that are not `known`: rows,
    and extensions with the key each one scores. Each pair is scored once."""
    wanted: dict[Ids, dict[Ids, None]] = {}  # ordered sets: the same plan whatever the hashing
    best: dict[Ids, tuple[int, int]] = {}  # neutral prompt -> (tokens shared, batch row) of the item sharing most
    for n, p in enumerate(batch):
        for prompt, cont in p.neutral_keys:
            if (prompt, cont) in known:
                continue
            wanted.setdefault(prompt, {})[cont] = None
            shared = _shared(p.prompt_ids, prompt)
            if shared < len(prompt) and shared > best.get(prompt, (0, -1))[0]:
                best[prompt] = (shared, n)
    # As extensions, a neutral prompt's words take one stem row for all of them and the first word of
    # several tokens, one more per such word: (rows, longest) of the second pass.
    feeds: dict[Ids, tuple[int, int]] = {}
    for prompt, (shared, _) in best.items():
        later = [len(c) - 1 for c in wanted[prompt] if len(c) > 1]
        feeds[prompt] = (max(1, len(later)), len(prompt) - shared + max(later, default=0))
    limit = _longest_extension(batch, feeds, len(wanted))
    rows: list[Row] = []
    extensions: list[tuple[Key, Extension]] = []
    for prompt, conts in wanted.items():
        if prompt in feeds and feeds[prompt][1] <= limit:
            shared, n = best[prompt]
            extensions += [((prompt, c), Extension(n, shared, prompt[shared:], c)) for c in conts]
        else:
            rows.append(Row(prompt, tuple(conts)))
    return rows, extensions


def _longest_extension(batch: Sequence[Calibrated], feeds: dict[Ids, tuple[int, int]], n_prompts: int) -> int:
    """The longest second-pass row an extension may have, so that the token positions computed are fewest.

    A row of the prompt pass is padded to the batch's longest prompt; a row of the second pass to
    that pass's longest row, so one long stem would pad every other: past some length, a neutral
    prompt is cheaper as a row of its own.
    """
    width = max((len(p.prompt_ids) for p in batch), default=0)
    own = [len(c) - 1 for p in batch for c in p.continuations if len(c) > 1]  # the items' later tokens

    def cost(limit: int) -> int:
        chosen = [f for f in feeds.values() if f[1] <= limit]
        second = len(own) + sum(n for n, _ in chosen)
        return second * max([*own, *(longest for _, longest in chosen)], default=0) + (n_prompts - len(chosen)) * width

    return min(sorted({0, *(longest for _, longest in feeds.values())}), key=cost)


def _shared(a: Ids, b: Ids) -> int:
    """How many first tokens `a` and `b` have in common."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def tokenize(tokenizer: Any, items: Sequence[PromptItem]) -> dict[str, tuple[Ids, Ids, Ids]]:
    """Item id -> (neutral prompt, target, distractor) token ids, for the items with a neutral prompt.

    The words follow the neutral prompt by the scorer's one rule (`vocabulary`); each distinct
    neutral prompt, and each distinct (neutral prompt, word), is tokenized once.
    """
    prompts = list(dict.fromkeys(i.neutral_prompt for i in items if i.neutral_prompt))
    if not prompts:
        return {}
    prompt_ids = {p: tuple(ids) for p, ids in zip(prompts, tokenizer(prompts)["input_ids"], strict=True)}
    wanted = list(
        dict.fromkeys((i.neutral_prompt, w) for i in items if i.neutral_prompt for w in (i.target, i.distractor))
    )
    conts = continuation_ids_batch(tokenizer, [(p, prompt_ids[p], w) for p, w in wanted])
    cont = {key: tuple(ids) for key, ids in zip(wanted, conts, strict=True)}
    return {
        i.id: (prompt_ids[i.neutral_prompt], cont[i.neutral_prompt, i.target], cont[i.neutral_prompt, i.distractor])
        for i in items
        if i.neutral_prompt
    }

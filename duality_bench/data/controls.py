"""Control words: a copy-free contrast for every item.

"The dual above the cue" mixes knowing the dual with not copying the word just read. Each item
therefore also carries a control: a word of the same part of speech whose frequency is within
half a Zipf unit of the target's, that is no dual of the cue or the target and does not occur in
the prompt. A model that rates the dual above the control knows something about the pair beyond
word frequency and grammar; one that only avoids copying does not.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from duality_bench.data.records import DualPair, PromptItem

MAX_ZIPF_GAP = 0.5


def word_pool(pairs: Iterable[DualPair], zipf: Mapping[str, float]) -> dict[str, list[tuple[float, str]]]:
    """Single lower-case words per part of speech, as (Zipf frequency, word), rarest first."""
    pool: dict[str, set[str]] = {}
    for pair in pairs:
        for word in (pair.a, pair.b):
            if word.isalpha() and (word.islower() or word == "I"):
                pool.setdefault(pair.pos, set()).add(word)
    return {pos: sorted((zipf[w], w) for w in words) for pos, words in pool.items()}  # by frequency


def dual_sets(pairs: Iterable[DualPair]) -> dict[str, set[str]]:
    """Every word -> every word listed as its dual anywhere (pairs and other duals), lower-cased."""
    duals: dict[str, set[str]] = {}
    for pair in pairs:
        a, b = pair.a.lower(), pair.b.lower()
        duals.setdefault(a, set()).update([b, *(w.lower() for w in pair.a_other_duals)])
        duals.setdefault(b, set()).update([a, *(w.lower() for w in pair.b_other_duals)])
    return duals


def add_controls(
    items: Sequence[PromptItem],
    pool: Mapping[str, Sequence[tuple[float, str]]],
    duals: Mapping[str, set[str]],
    zipf: Mapping[str, float],
) -> list[PromptItem]:
    """Each item with its control word: deterministic, the same for a pair's direction across
    templates where the prompt allows it."""
    return [replace(item, control=choose_control(item, pool, duals, zipf)) for item in items]


def choose_control(
    item: PromptItem,
    pool: Mapping[str, Sequence[tuple[float, str]]],
    duals: Mapping[str, set[str]],
    zipf: Mapping[str, float],
) -> str:
    target_zipf = zipf[item.target]
    banned = {
        item.cue.lower(),
        item.target.lower(),
        *(w.lower() for w in (*item.other_duals, *item.target_other_duals)),
    }
    banned |= duals.get(item.cue.lower(), set()) | duals.get(item.target.lower(), set())
    banned |= {w.lower() for w in re.findall(r"[A-Za-z]+", item.prompt + " " + item.corrupted_prompt)}
    # sorted by frequency; a user's word of no stated part of speech may be matched by any word
    words = pool.get(item.pos, ()) if item.pos else sorted({w for ws in pool.values() for w in ws})
    lo = bisect.bisect_left(words, (target_zipf - MAX_ZIPF_GAP, ""))
    hi = bisect.bisect_right(words, (target_zipf + MAX_ZIPF_GAP, "\uffff"))
    close = [w for _, w in words[lo:hi] if w.lower() not in banned]
    if close:
        # A fixed order per pair and direction, so templates agree unless the prompt holds the word.
        return min(close, key=lambda w: hashlib.sha256(f"{item.pair_id}|{item.direction}|{w}".encode()).digest())
    rest = [(abs(f - target_zipf), w) for f, w in words if w.lower() not in banned]
    if not rest:
        raise ValueError(f"no control word of part of speech {item.pos!r} for item {item.id!r}")
    return min(rest)[1]  # nothing close enough: the nearest in frequency

"""Foils: the wrong answers an item's target is compared with, beside the cue.

- `control`: a word of the target's part of speech whose Zipf frequency is within half a unit of
  the target's. It is no answer: never a dual of the cue or the target (in any table), never a
  WordNet relative of either (synonym, similar-to, also-see, derivationally related form,
  antonym, pertainym, in any sense), never a form of either (unaware, lefts, upward), never a
  word of the cue's or the target's curated categories, nor of any curated category with the
  item's part of speech (words of one such category fill the same slot as the target: "went
  downstairs" / "went outdoors"), never a word of the prompt. A
  pronoun or determiner slot takes a noun as its control, since every pronoun fills it. Where no
  word lies in the frequency window, the item has no control.
- `related`: a word close in meaning to the cue's sense (a WordNet synonym, similar-to or
  also-see word of the sense the pair links: hot -> warm), the contrast that tells opposition
  from association. Never a dual, a relative of the target, a form of either word or a word of
  the prompt; a known word (Zipf at least `MIN_RELATED_ZIPF`), the candidate closest to the cue
  in frequency.
  Empty where none exists.

A model that rates the dual above the control knows something beyond word frequency and
grammar; one that rates it above the related word knows the opposite, not just the topic.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from duality_bench.data.pairs.senses import Relations
from duality_bench.data.pairs.tags import zipf
from duality_bench.data.records import DualPair, PromptItem

MAX_ZIPF_GAP = 0.5
MIN_RELATED_ZIPF = 3.0
NOUN_CONTROL = ("pron", "det")  # slots every pronoun fills: their controls are nouns
# Endings that make a form of a word: inflections and the common derivations (lefts, upward).
_ENDINGS = re.compile(r"(?:s|es|ed|d|ing|er|est|ly|ward|wards|ness|ful|able|ible)$")


@dataclass(frozen=True)
class FoilContext:
    """What choosing foils needs to know about every word, built once per build (`foil_context`)."""

    pool: Mapping[str, Sequence[tuple[float, str]]]  # pos -> (Zipf, word) of single lower-case words, rarest first
    zipf: Mapping[str, float]
    duals: Mapping[str, set[str]]  # word -> every dual it has in any table (lower case)
    slot_words: Mapping[str, set[str]]  # pos -> words of the curated categories of that part of speech
    kin_words: Mapping[str, set[str]]  # word -> every word of the curated categories it belongs to
    family: Mapping[str, set[str]]  # word -> its WordNet relatives in any sense
    near: Mapping[tuple[str, str], tuple[str, ...]]  # (pair id, word) -> candidates for the related word
    windows: dict[tuple[str, float, str], list[str]] = field(default_factory=dict, repr=False)  # `_window`'s cache


def foil_context(
    pool_pairs: Iterable[DualPair],
    all_pairs: Iterable[DualPair],
    zipf: Mapping[str, float],
    relations: Mapping[tuple[str, str], Relations],
) -> FoilContext:
    """`pool_pairs` give the control words (curated and the WordNet core); `all_pairs` every dual."""
    all_pairs = list(all_pairs)
    slot_words: dict[str, set[str]] = {}
    by_category: dict[str, set[str]] = {}
    for p in all_pairs:
        if p.source == "curated":
            slot_words.setdefault(p.pos, set()).update((p.a.lower(), p.b.lower()))
            by_category.setdefault(p.category, set()).update((p.a.lower(), p.b.lower()))
    kin_words: dict[str, set[str]] = {}
    for words in by_category.values():
        for w in words:
            kin_words.setdefault(w, set()).update(words)
    family: dict[str, set[str]] = {}
    near: dict[tuple[str, str], tuple[str, ...]] = {}
    for r in relations.values():
        family.setdefault(r.word.lower(), set()).update(w.lower() for w in r.family)
        for pair_id in r.pairs:
            near[pair_id, r.word] = r.near
    return FoilContext(word_pool(pool_pairs, zipf), zipf, dual_sets(all_pairs), slot_words, kin_words, family, near)


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


def is_form_of(word: str, other: str) -> bool:
    """Whether one word is a form of the other: equal stems after one ending (left, lefts; up,
    upward; happy, happiness), or one is the other with a prefix or suffix of its own (aware,
    unaware; care, careless)."""
    x, y = word.lower(), other.lower()
    if x == y:
        return True
    short, long = sorted((x, y), key=len)
    if len(short) >= 2 and (long.startswith(short) or (len(short) >= 4 and long.endswith(short))):
        return True
    stem_x, stem_y = _stem(x), _stem(y)
    return len(stem_x) >= 3 and stem_x == stem_y


@functools.cache
def _stem(word: str) -> str:
    word = word[:-1] + "i" if word.endswith("y") else word  # dry, dried; happy, happiness
    stem = _ENDINGS.sub("", word)
    return stem[:-1] if stem.endswith(("i", "e")) and len(stem) > 3 else stem


def add_foils(items: Sequence[PromptItem], context: FoilContext) -> list[PromptItem]:
    """Each item with its control and related words: deterministic, and the same for a pair's
    direction across templates where the prompt allows it."""
    return [
        replace(item, control=choose_control(item, context), related=choose_related(item, context)) for item in items
    ]


def _banned(item: PromptItem, context: FoilContext, *, cue_family: bool = True) -> set[str]:
    """Every dual of either word, the target's WordNet relatives (and the cue's, unless
    `cue_family` is False: its synonyms are what a related word is), and the prompt's words."""
    cue, target = item.cue.lower(), item.target.lower()
    banned = {cue, target, *(w.lower() for w in (*item.other_duals, *item.target_other_duals))}
    banned |= context.duals.get(cue, set()) | context.duals.get(target, set()) | context.family.get(target, set())
    if cue_family:
        banned |= context.family.get(cue, set())
    return banned | {w.lower() for w in re.findall(r"[A-Za-z]+", item.prompt + " " + item.corrupted_prompt)}


def _acceptable(word: str, item: PromptItem, banned: set[str]) -> bool:
    w = word.lower()
    return w not in banned and not is_form_of(w, item.cue) and not is_form_of(w, item.target)


def choose_control(item: PromptItem, context: FoilContext) -> str:
    """The item's control word, or "" where no acceptable word lies in the frequency window."""
    banned = _banned(item, context) | context.slot_words.get(item.pos, set())
    banned |= context.kin_words.get(item.cue.lower(), set()) | context.kin_words.get(item.target.lower(), set())
    pos = "n" if item.pos in NOUN_CONTROL else item.pos
    for word in _window(context, pos, context.zipf[item.target], f"{item.pair_id}|{item.direction}"):
        if _acceptable(word, item, banned):
            return word
    return ""


def _window(context: FoilContext, pos: str, target_zipf: float, key: str) -> list[str]:
    """The pool's words within the frequency window, in a fixed order per pair and direction, so
    templates agree on the control unless the prompt holds the word."""
    if (pos, target_zipf, key) not in context.windows:
        # sorted by frequency; a user's word of no stated part of speech may be matched by any word
        words = context.pool.get(pos, ()) if pos else sorted({w for ws in context.pool.values() for w in ws})
        lo = bisect.bisect_left(words, (target_zipf - MAX_ZIPF_GAP, ""))
        hi = bisect.bisect_right(words, (target_zipf + MAX_ZIPF_GAP, "\uffff"))
        order = sorted((w for _, w in words[lo:hi]), key=lambda w: hashlib.sha256(f"{key}|{w}".encode()).digest())
        context.windows[pos, target_zipf, key] = order
    return context.windows[pos, target_zipf, key]


def choose_related(item: PromptItem, context: FoilContext) -> str:
    """The item's related word: the acceptable word near the cue's sense closest to it in frequency, or ""."""
    banned = _banned(item, context, cue_family=False)
    near = context.near.get((item.pair_id, item.cue), ())
    candidates = [w for w in near if _acceptable(w, item, banned) and zipf(w) >= MIN_RELATED_ZIPF]
    # the candidate nearest the cue in frequency: the most frequent would favour words that are
    # near only in a minor sense (loud: big; dishonorable: black)
    return min(candidates, key=lambda w: (abs(zipf(w) - zipf(item.cue)), w), default="")

"""Tag WordNet antonym pairs with what they are: affix pairs, multiword, proper, sets, and how common.

The tags let the dataset report morphological antonyms (aware/unaware) apart from lexical ones
(hot/cold), and pick a "core" of pairs an ordinary English reader knows: single-word, lower-case
pairs whose rarer word has a Zipf frequency (wordfreq; log10 of uses per billion words) of at
least `CORE_MIN_ZIPF`.

Choices made here:

- `affix`: one word is exactly the other plus a negating, privative or reversing prefix (un-,
  in-/im-/il-/ir-/ig-, non-, dis-, dys-, a-/an-, ab-, anti-/ant-, contra-, counter-, de-, mis-,
  mal-, ex-/e-, no-), or the two share a stem and one carries -less where the other has nothing
  or an adjective suffix (careful/careless, armed/armless, hairy/hairless). The bare word must
  appear whole, so prefix *swaps* (increase/decrease, include/exclude, ascend/descend,
  abaxial/adaxial) are not affix pairs, nor are non-negating prefixes (ordinary/extraordinary,
  sonic/supersonic, man/woman). Hyphens are ignored (non-engagement/engagement); phrases count
  when they differ in one word that is an affix pair (synchronous/asynchronous operation).
- `multiword`: either word contains a space. Hyphenated compounds (left-handed, part-time,
  well-being) are single dictionary words and stay single; wordfreq scores them from their parts.
- `proper`: either word has an upper-case letter (Heaven, CISC, anti-American).
- `set`: either word has more than one antonym among the rows tagged together.
- `rare-sense`: the antonymy links a rare sense of either word (`pairs.senses.rare_sense`):
  magnetic/geographic, sink/source, full/thin.
- `british`: either word is a British spelling whose American form is also in the table
  (maximise/minimise beside maximize/minimize); the core uses American spelling.
- `zipf`: the rarer word's Zipf frequency.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from duality_bench.data.pairs.senses import SenseCounts, rare_sense


class WordNetRow(Protocol):
    """A row of the WordNet pairs table (`pairs.wordnet.WordNetRow`), as far as tagging needs it."""

    a: str
    b: str
    pos: str
    counts_a: SenseCounts
    counts_b: SenseCounts


# Measured on the 3555 WordNet pairs (`zipf_report`, `near_threshold`): among single-word, lower-case,
# non-affix pairs, the share with a technical or obscure word (rotor/stator, exon/intron) is about 1 in
# 10 at Zipf 2.5-3.25, 1 in 6 at 2.25-2.5, 1 in 3 at 2.0-2.25 and most pairs below 2.0 (valgus/varus,
# monoclinic/triclinic). 3.0 would drop pairs everyone knows (attach/detach 2.99, kind/unkind 2.99,
# optimist/pessimist 2.67, accelerate/decelerate 2.28).
CORE_MIN_ZIPF = 2.5
CORE_THRESHOLD_REASON = (
    "The core keeps pairs whose rarer word has a Zipf frequency of at least 2.5 (about 3 uses per 10 million "
    "words), because reading the pairs near each candidate threshold showed that this is where technical words "
    "take over: about 1 pair in 10 just above 2.5 has a word an ordinary reader would not know, against 1 in 3 "
    "at 2.0-2.25 and most below 2.0 (valgus/varus, monoclinic/triclinic)."
)
THRESHOLDS = (2.5, 3.0, 3.5, 4.0)

# Negating or reversing prefixes, each with the stems it may attach to: the assimilated forms of
# in- only before the letters they assimilate to, ant- only before a vowel.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("counter", ""),
    ("contra", ""),
    ("anti", ""),
    ("ant", "aeiou"),
    ("non", ""),
    ("dis", ""),
    ("dys", ""),
    ("mis", ""),
    ("mal", ""),
    ("un", ""),
    ("in", ""),
    ("im", "bmp"),
    ("il", "l"),
    ("ir", "r"),
    ("ig", "n"),
    ("de", ""),
    ("ab", ""),
    ("ex", ""),
    ("an", ""),
    ("a", ""),
    ("e", ""),  # Latin privative e-: ebracteate, without bracts
    ("no-", ""),  # go/no-go; matched before hyphens are dropped
)
# What may follow a shared stem in the word without -less (armed, hairy, careful, odorous, ...),
# then an optional ending that -less words take too (-ly, -ness).
_LESS_PARTNER = re.compile(r"(?:|ful|ed|d|s?y|s?i|ied|ous|ish|ing|able|ate)(?:ly|ness)?")
_MIN_STEM = 2  # do/undo; shorter "stems" (in/out, a/an) are not words


def _norm(word: str) -> str:
    # Hyphens are spelling, not morphology: non-engagement/engagement, self-conscious/unselfconscious.
    return word.lower().replace("-", "")


def _prefixed(longer: str, shorter: str) -> bool:
    """Whether `longer` is `shorter` with one negating prefix (both lower-case, hyphens kept)."""
    bare, whole = _norm(shorter), _norm(longer)
    if len(bare) < _MIN_STEM:
        return False
    for prefix, before in _PREFIXES:
        if "-" in prefix:
            if longer == prefix + shorter:
                return True
        elif whole == prefix + bare and (not before or bare[0] in before):
            return True
    return False


def _less_pair(x: str, y: str) -> bool:
    """Whether `x` is stem+less(+ly/ness) and `y` is the same stem bare or with an adjective suffix."""
    i = x.find("less", 3)
    if i < 0 or x[i + 4 :] not in ("", "ly", "ness"):
        return False
    stem = x[:i]
    # The partner may drop a final e or y (bony, bellied) or double the last consonant (rimmed, starry).
    for cut in (stem, stem[:-1] if stem[-1] in "ey" else None):
        if cut is None or not y.startswith(cut):
            continue
        rest = y[len(cut) :]
        if _LESS_PARTNER.fullmatch(rest) or (rest[:1] == stem[-1] and _LESS_PARTNER.fullmatch(rest[1:])):
            return True
    return False


def _affix_words(x: str, y: str) -> bool:
    nx, ny = _norm(x), _norm(y)
    return _prefixed(x, y) or _prefixed(y, x) or _less_pair(nx, ny) or _less_pair(ny, nx)


def is_affix_pair(a: str, b: str) -> bool:
    """Whether one word is the other with a negating affix (aware/unaware, careful/careless).

    Phrases count when they differ in exactly one word and those words are an affix pair
    (synchronous operation/asynchronous operation). Symmetric in its arguments.
    """
    x, y = a.lower().split(), b.lower().split()
    if len(x) != len(y):
        return False
    differing = [(p, q) for p, q in zip(x, y, strict=True) if p != q]
    return len(differing) == 1 and _affix_words(*differing[0])


@cache
def zipf(word: str) -> float:
    """wordfreq's Zipf frequency of `word` in English; phrases are scored from their words by wordfreq."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


@dataclass(frozen=True)
class PairTags:
    """What one antonym pair is; `names` lists the boolean tags that hold."""

    affix: bool  # one word is the other with a negating affix
    multiword: bool  # either word contains a space
    proper: bool  # either word has an upper-case letter
    set: bool  # either word has more than one antonym in the table
    zipf: float  # Zipf frequency of the rarer word
    rare_sense: bool = False  # the antonymy links a rare sense of either word
    british: bool = False  # a British spelling of a pair the table also holds in American spelling

    @property
    def names(self) -> tuple[str, ...]:
        """The tags that hold, in the order affix, multiword, proper, set, rare-sense, british."""
        flags = (
            ("affix", self.affix),
            ("multiword", self.multiword),
            ("proper", self.proper),
            ("set", self.set),
            ("rare-sense", self.rare_sense),
            ("british", self.british),
        )
        return tuple(name for name, on in flags if on)


def tag_pairs(rows: Sequence[WordNetRow]) -> list[PairTags]:
    """Tag each row, in order; `set` counts antonyms among these rows (pass the whole table)."""
    degree: Counter[str] = Counter()
    for r in rows:
        degree[r.a] += 1
        degree[r.b] += 1
    words = set(degree)
    return [
        PairTags(
            affix=is_affix_pair(r.a, r.b),
            multiword=" " in r.a or " " in r.b,
            proper=any(c.isupper() for c in r.a + r.b),
            set=degree[r.a] > 1 or degree[r.b] > 1,
            zipf=min(zipf(r.a), zipf(r.b)),
            rare_sense=rare_sense(r.counts_a, r.counts_b),
            british=any(american(w) != w and american(w) in words for w in (r.a, r.b)),
        )
        for r in rows
    ]


_BRITISH = (
    (re.compile(r"is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"our"), "or"),
    (re.compile(r"tre$"), "ter"),
)


def american(word: str) -> str:
    """The American spelling of a British one (maximise -> maximize, colourful -> colorful);
    other words come back unchanged, as do words that only look British (wise, rise: the table
    decides, by holding the American form or not)."""
    for pattern, replacement in _BRITISH:
        changed = pattern.sub(replacement, word)
        if changed != word:
            return changed
    return word


def in_core(tags: PairTags, min_zipf: float = CORE_MIN_ZIPF) -> bool:
    """Whether a pair is common enough to be known: single-word, lower-case, American spelling,
    antonyms in a common sense of both words, rarer word at Zipf >= min_zipf.

    Affix pairs are in the core; they are reported as a category of their own.
    """
    return in_core_by_names(tags.names, tags.zipf, min_zipf)


def in_core_by_names(names: Sequence[str], zipf: float | None, min_zipf: float = CORE_MIN_ZIPF) -> bool:
    """`in_core` from a pair's tag names and Zipf frequency, as a `DualPair` carries them."""
    out = {"multiword", "proper", "rare-sense", "british", "not-everyday"}
    return not out.intersection(names) and (zipf or 0.0) >= min_zipf


def zipf_report(
    rows: Sequence[WordNetRow], tags: Sequence[PairTags] | None = None, thresholds: Iterable[float] = THRESHOLDS
) -> dict[float, Counter[tuple[str, str]]]:
    """Core sizes at each candidate threshold, counted by (pos, "affix" or "lexical") and ("all", "all").

    This is the measurement behind `CORE_MIN_ZIPF`; `near_threshold` gives the pairs to read.
    """
    tags = tag_pairs(rows) if tags is None else tags
    report: dict[float, Counter[tuple[str, str]]] = {}
    for threshold in thresholds:
        counts: Counter[tuple[str, str]] = Counter()
        for r, t in zip(rows, tags, strict=True):
            if in_core(t, threshold):
                kind = "affix" if t.affix else "lexical"
                counts[(r.pos, kind)] += 1
                counts[("all", kind)] += 1
                counts[(r.pos, "all")] += 1
                counts[("all", "all")] += 1
        report[threshold] = counts
    return report


def near_threshold(
    rows: Sequence[WordNetRow], tags: Sequence[PairTags], threshold: float, width: float = 0.25
) -> tuple[list[tuple[WordNetRow, float]], list[tuple[WordNetRow, float]]]:
    """Single-word lower-case pairs whose rarer word is within `width` below / at-or-above `threshold`."""
    below: list[tuple[WordNetRow, float]] = []
    above: list[tuple[WordNetRow, float]] = []
    for r, t in zip(rows, tags, strict=True):
        if t.multiword or t.proper:
            continue
        if threshold - width <= t.zipf < threshold:
            below.append((r, t.zipf))
        elif threshold <= t.zipf < threshold + width:
            above.append((r, t.zipf))
    return below, above

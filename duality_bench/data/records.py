"""The dataset's records: dual pairs and the prompt items rendered from them.

Scores and run results, the evaluation's records, are in `duality_bench.results`.

All are frozen dataclasses so a record is a value: it can be hashed, compared and written out
without surprises. Targets and cues are stored without the leading word-boundary space; the
scorer adds it, once, in one place (`duality_bench.data.vocabulary`).
"""

from __future__ import annotations

from dataclasses import dataclass

DIRECTIONS = ("a->b", "b->a")


@dataclass(frozen=True)
class DualPair:
    """Two words that are each other's dual, e.g. left/right."""

    a: str
    b: str
    category: str  # spatial, pronoun, ... for curated pairs; wordnet-<pos> or wordnet-affix for WordNet pairs
    source: str  # "curated" | "wordnet" | "user" (bring-your-own pairs)
    pos: str  # n, v, a, r (WordNet's letters); the part of speech the templates use
    a_other_duals: tuple[str, ...] = ()  # right -> ("wrong",) when a/b is right/left
    b_other_duals: tuple[str, ...] = ()
    synset_a: str = ""  # WordNet synset names, empty for curated pairs
    synset_b: str = ""
    tags: tuple[str, ...] = ()  # WordNet pairs: affix, multiword, proper, set (see pairs.tags)
    zipf: float | None = None  # wordfreq Zipf frequency of the rarer word

    @property
    def id(self) -> str:
        base = _readable(self.a, self.b) or f"{_escaped(self.a)}-{_escaped(self.b)}"
        if self.source == "curated":
            return base
        return f"user.{base}" if self.source == "user" else f"wn.{self.pos}.{base}"


# A pair's id is `a-b` with spaces as `_` (left-right, wn.a.full-time-part-time) where that string
# reads back as the pair; otherwise every character of either word but letters, digits, `'` and
# spaces is percent-encoded (very_big: very%5Fbig). A readable id holds no `%` and reads back to one
# pair; an encoded one always holds a `%` and decodes to one pair: no two pairs share an id. Item
# ids are `pair id|template.vN|direction`, and no pair id holds a `|`.


def _readable(a: str, b: str) -> str | None:
    if not all(c.isalnum() or c in " -'" for c in a + b):
        return None
    text = f"{a}-{b}".replace(" ", "_")
    return text if _read(text) == (a, b) else None


def _read(text: str) -> tuple[str, str]:
    """The pair a readable id names: split at the hyphen nearest its middle (on a tie, the first)."""
    cut = min((i for i, c in enumerate(text) if c == "-"), key=lambda i: (abs(2 * i + 1 - len(text)), i))
    return text[:cut].replace("_", " "), text[cut + 1 :].replace("_", " ")


def _escaped(word: str) -> str:
    return "".join(
        c if c.isalnum() or c == "'" else "_" if c == " " else "".join(f"%{b:02X}" for b in c.encode()) for c in word
    )


@dataclass(frozen=True)
class PromptItem:
    """One dataset row: a clean prompt whose next word should be `target`, and its corruption."""

    id: str
    pair_id: str
    template_id: str
    category: str
    source: str
    pos: str
    cue: str  # the word in the prompt
    target: str  # its dual: the right answer
    distractor: str  # what the model should not say; the cue itself by default
    other_duals: tuple[str, ...]  # the cue's other duals (right: wrong), never used as distractors
    prompt: str  # clean text, ends right before the target (no trailing space)
    corrupted_prompt: str  # the cue slot holds the target instead, so the answer flips
    direction: str  # "a->b" | "b->a"
    target_other_duals: tuple[str, ...] = ()  # the target's other duals: also right after the corrupted prompt
    control: str = ""  # same part of speech and frequency as the target, a dual of neither word
    family: str = "zero-shot"  # "zero-shot" | "few-shot"
    tags: tuple[str, ...] = ()  # the pair's tags (WordNet: affix, multiword, proper, set)
    related: str = ""  # close in meaning to the cue, not a dual (hot: warm); empty where none exists
    neutral_prompt: str = ""  # the prompt with the cue slot neutral: the context for calibrated scores

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
        base = f"{self.a}-{self.b}".replace(" ", "_")
        if self.source == "curated":
            return base
        return f"user.{base}" if self.source == "user" else f"wn.{self.pos}.{base}"


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

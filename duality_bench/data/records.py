"""The records that flow through duality-bench: pairs, prompt items, scores and run results.

All are frozen dataclasses so a record is a value: it can be hashed, compared and written out
without surprises. Targets and cues are stored without the leading word-boundary space; the
scorer adds it, once, in one place (`duality_bench.data.vocabulary`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DIRECTIONS = ("a->b", "b->a")


@dataclass(frozen=True)
class DualPair:
    """Two words that are each other's dual, e.g. left/right."""

    a: str
    b: str
    category: str  # spatial, pronoun, ... for curated pairs; wordnet-<pos> or wordnet-affix for WordNet pairs
    source: str  # "curated" | "wordnet"
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
        return base if self.source == "curated" else f"wn.{self.pos}.{base}"


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


@dataclass(frozen=True)
class ItemScore:
    """What one model did on one item.

    Log-probs are of the whole continuation (`" " + word` after the prompt): for a one-token
    word that is the next token's log-prob, for a longer word the sum over its tokens. Logits
    are the first token's. For single-token items logit_diff is the logit difference, which
    equals the log-prob difference; otherwise it is the log-prob difference.
    """

    item_id: str
    target_logit: float
    distractor_logit: float
    target_logprob: float
    distractor_logprob: float
    logit_diff: float  # target - distractor
    target_rank: int | None  # 0 = the model's argmax next token; None unless single_token
    top1: bool | None  # target is the argmax next token; None unless single_token
    single_token: bool  # target and distractor are one token each for this tokenizer
    control_logprob: float | None = None  # the item's control word
    control_diff: float | None = None  # target - control, log-probs
    other_dual: str | None = None  # the cue's best-scoring other dual, if it has any
    other_dual_logprob: float | None = None


@dataclass(frozen=True)
class RunResult:
    """A whole evaluation: provenance, aggregate metrics, breakdowns and the item scores."""

    model: dict[str, Any]  # id, spec, revision, dtype, device, n_params, architecture
    dataset: dict[str, Any]  # id, config, sha256, version, n_items
    package_version: str
    git_hash: str | None
    config: dict[str, Any]
    date: str
    metrics: dict[str, Any]
    breakdowns: dict[str, Any]
    excluded: dict[str, Any]
    scores: tuple[ItemScore, ...] = field(default=(), repr=False)

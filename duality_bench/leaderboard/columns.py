"""The leaderboard's columns: what each means and how its cells read, for both pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from duality_bench.display import number
from duality_bench.leaderboard.entries import Entry
from duality_bench.leaderboard.headline import CHOICE_ACCURACY, DUALITY_SCORE, HEADLINE
from duality_bench.models.registry import OFFLINE_MODELS
from duality_bench.results import Metrics


def params(n: Any) -> str:
    if not isinstance(n, int) or n <= 0:
        return "–"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def weights(e: Entry) -> str:
    """What an offline alias's weights are (tuning, quantisation); "–" for hub models, folders and reference rows."""
    model = OFFLINE_MODELS.get(e.model_id)
    return model.note if model is not None and model.note and not e.reference else "–"


def score_ci_cell(m: Metrics) -> str:
    """The headline's 95% interval (pairs resampled within categories), or "–" for older files."""
    ci = HEADLINE.interval(m)
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci is not None else "–"


def logit_diff_cell(m: Metrics) -> str:
    ci = m.logit_diff_ci95
    if ci is not None:
        return f"{number(m.logit_diff, 2)} [{ci[0]:.2f}, {ci[1]:.2f}]"
    return number(m.logit_diff, 2)


def category_accuracy(e: Entry, category: str) -> float | None:
    row = e.result.breakdowns.get("category", {}).get(category)
    return row.duality_accuracy if row else None


def scored(e: Entry) -> str:
    return f"{e.metrics.n} / {e.result.excluded.count}"


def items_note(section: tuple[Entry, ...]) -> str:
    """What a section's heading says of its items (number, choice chance), each where its rows agree on it.

    The chance of the every-foil column depends on the items alone (how many foils each has), so
    the rows of one dataset build share it; results files older than that column lack it.
    """
    n_items = {e.result.dataset.n_items for e in section}
    chance = {number(e.metrics.choice_chance) for e in section}
    note = f", {n_items.pop()} items" if len(n_items) == 1 else ""
    return note + (f", choice chance {chance.pop()}" if len(chance) == 1 and "–" not in chance else "")


# The metric columns of both pages, in order: (name, what it means, where it is in the metrics).
# The headline comes first; the other columns follow in this order.
_COLUMNS: tuple[tuple[str, str, Callable[[Metrics], float | None]], ...] = (
    (DUALITY_SCORE.name, DUALITY_SCORE.text, DUALITY_SCORE.value),
    ("curated", "the duality score over the curated categories", lambda m: m.curated_score),
    (
        "WordNet",
        "the duality score over the WordNet core's parts of speech (affix pairs apart)",
        lambda m: m.wordnet_score,
    ),
    (
        "affix",
        "accuracy on WordNet's affix pairs (aware/unaware), which test morphology",
        lambda m: m.affix_accuracy,
    ),
    (
        "vs control",
        "like the duality score, with a control word (same part of speech and frequency, no dual) in place of "
        "the cue: what the model knows about the dual beyond not copying the word it just read",
        lambda m: m.control_score,
    ),
    (
        "vs related",
        "like the duality score, with a related word (close in meaning to the cue, no dual: hot, warm) in place "
        "of the cue, over the items that have one: is the dual preferred to a mere associate",
        lambda m: m.related_score,
    ),
    (CHOICE_ACCURACY.name, CHOICE_ACCURACY.text, CHOICE_ACCURACY.value),
    (
        "calibrated",
        "like the duality score, on calibrated scores (domain-conditional PMI): each word's log-likelihood "
        "after the prompt less that after the item's neutral prompt, whose cue slot holds a neutral filler; "
        "it discounts what a word gets in any such context (its length, its frequency) from what the cue adds",
        lambda m: m.calibrated_score,
    ),
    (
        "per item",
        "the share of all items where the model rates the dual above the cue, every item weighing alike",
        lambda m: m.duality_accuracy,
    ),
    (
        "strict pairs",
        "the share of pairs answered right in both directions on most (over half) of their templates",
        lambda m: m.strict_pair_accuracy,
    ),
    ("zero-shot", "the duality score on zero-shot templates", lambda m: m.family_score.get("zero-shot")),
    (
        "few-shot",
        "the duality score on few-shot templates (hot -> cold, big -> small, fast -> slow, then the cue)",
        lambda m: m.family_score.get("few-shot"),
    ),
    (
        "top-1",
        "over items whose dual is one token: share where it is the model's most likely next token",
        lambda m: m.top1_accuracy,
    ),
    (
        "asymmetry",
        "mean over pairs of |accuracy a->b - accuracy b->a| (0: symmetric, 1: one direction only)",
        lambda m: m.asymmetry.mean_abs_acc_asym,
    ),
    (
        "other dual",
        "where the cue has a second dual (right: left and wrong), the share of items where the model rates "
        "that second dual above the target: the right/wrong effect",
        lambda m: m.other_duals.prefers_other_dual,
    ),
)

METRIC_COLUMNS = (
    (HEADLINE.name, f"the headline, by which rows are ranked: {HEADLINE.text}", HEADLINE.value),
    *(c for c in _COLUMNS if c[0] != HEADLINE.name),
)

COLUMNS_HELP = (
    ("#", "rank; a range (1–2) where a paired bootstrap over pairs cannot separate the row from its neighbours"),
    (
        "weights",
        "what the offline models' weights are: how they were tuned and how their GGUF files are quantised "
        "(scored de-quantised to float32)",
    ),
    ("95% CI", f"the {HEADLINE.name}'s 95% bootstrap interval, resampling pairs within categories (seed 0)"),
    *((name, text) for name, text, _ in METRIC_COLUMNS),
    (
        "logit diff",
        "mean logit(dual) - logit(cue) (log-likelihood difference for words of several tokens), with a "
        "bootstrap 95% interval",
    ),
    ("scored / excluded", "items scored, and items left out (only under --scoring next-token)"),
)

# The columns of a breakdown row (per category, per pair) in the page's drill-down and comparison:
# (name, the Row field, what it means, digits shown).
BREAKDOWN_COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("n", "n", "items scored", 0),
    ("accuracy", "duality_accuracy", "share of items where the model rates the dual above the cue", 3),
    (
        "vs control",
        "control_accuracy",
        "share of items where the model rates the dual above a control word (same part of speech and frequency, "
        "no dual)",
        3,
    ),
    (
        "vs related",
        "related_accuracy",
        "over items with a related word (close in meaning to the cue, no dual): share where the model rates the "
        "dual above it",
        3,
    ),
    (
        "every foil",
        "choice_accuracy",
        "share of items where the model rates the dual above the cue, the related word and the control word at once",
        3,
    ),
    (
        "calibrated",
        "calibrated_accuracy",
        "share of items where the dual beats the cue on calibrated scores (log-likelihood after the prompt less "
        "that after the neutral prompt)",
        3,
    ),
    (
        "top-1",
        "top1_accuracy",
        "over items whose dual is one token: share where it is the model's most likely next token",
        3,
    ),
    (
        "logit diff",
        "logit_diff",
        "mean logit(dual) - logit(cue) (log-likelihood difference for words of several tokens)",
        2,
    ),
)

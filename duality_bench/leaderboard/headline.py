"""The number the leaderboard ranks rows by, and how its uncertainty is read.

Which one heads the board was chosen by `duality_bench.headlines`: of the candidate summaries of
the same per-item results, the one whose order of the committed rows (four real models, three
reference rows) holds best on halves of the items that share none. The dataset card and the
pages show that comparison, so a reader can see whether the choice still holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from duality_bench.results import Metrics


@dataclass(frozen=True)
class Headline:
    name: str
    gist: str  # a phrase for the pages' introductions
    text: str  # its definition, shown on hover and under Columns
    metric: str  # its field in the results' metrics
    interval_field: str  # the metrics field of its 95% interval
    pair_field: str  # the per-pair breakdown field that the paired bootstrap resamples
    by: str  # "category" or "item": what weighs alike (see `duality_bench.statistics`)
    candidate: str  # its name among `duality_bench.headlines.CANDIDATES`

    def value(self, m: Metrics) -> float | None:
        return getattr(m, self.metric)

    def interval(self, m: Metrics) -> tuple[float, float] | None:
        return getattr(m, self.interval_field)


DUALITY_SCORE = Headline(
    "duality score",
    "the mean of per-category accuracies, so every category weighs alike",
    "the mean over categories of the share of items where the model rates the cue's dual above the cue itself; "
    "every curated category and every WordNet part of speech weighs alike",
    "duality_score",
    "duality_score_ci95",
    "duality_accuracy",
    "category",
    "macro",
)

CHOICE_ACCURACY = Headline(
    "choice accuracy",
    "the share of items where the model rates the dual above the cue, the related word and the control word at once",
    "the share of items where the model rates the dual above every foil at once (the cue, the related word and "
    "the control word, those the item has; a tie with the best foils earns 1/(1 + number tied)), every item "
    "weighing alike; chance, given in each config's heading, is the mean over items of 1/(1 + number of foils)",
    "choice_accuracy",
    "choice_accuracy_ci95",
    "choice_accuracy",
    "item",
    "choice",
)

# On the committed rows of config `all`, the choice accuracy's order holds best on halves of the items and
# is the only candidate that puts every real model above every reference row on every half (see the card).
HEADLINE = CHOICE_ACCURACY

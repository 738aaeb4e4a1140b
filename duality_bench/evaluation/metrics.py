"""The benchmark's metrics: pure functions of item records and scores (numpy and pandas, no torch).

- duality score (the headline): the mean of per-category accuracies, so every curated category
  and every WordNet part of speech weighs alike, however many items it has
- duality accuracy: share of items with score(target) > score(distractor), the distractor being
  the cue; a tie counts half
- control accuracy: share of items with score(target) > score(control), a word of the target's
  part of speech and frequency that is no dual: what the model knows beyond not copying the cue
- any-dual accuracy: the target or any other dual of the cue above the cue (right: left or wrong)
- related accuracy: share of the items with a related word (hot: warm, close in meaning to the
  cue, no dual) whose target scores above it; a tie counts half
- choice accuracy: the target against every foil the item has at once (the cue, the related word
  if any, the control word if any); see `choice`. Its chance level is the mean over items of
  1 / (1 + number of foils)
- calibrated accuracy: share of the items with a neutral prompt whose calibrated difference
  (domain-conditional PMI: each word's log-likelihood after the prompt minus that after the
  neutral prompt, target minus cue) is positive; a tie counts half. It discounts what a word
  gets in any context of the template (its length, its frequency there) from what the cue adds
- top-1 accuracy: share of single-token items whose target is the model's argmax next token
- logit difference: mean logit(target) - logit(distractor) (log-prob difference for words of
  several tokens), with a bootstrap 95% CI
- asymmetry: per pair, metric(a->b) - metric(b->a) over the templates both directions share
- other-dual preference: where the cue has another dual (right: wrong), how often the model
  rates that other dual above the target, the study's explanation of the left/right asymmetry
- normalised recovery, for activation patching
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from duality_bench.data.records import PromptItem
from duality_bench.results import ItemScore

AFFIX_CATEGORY = "wordnet-affix"


def score_frame(items: Sequence[PromptItem], scores: Sequence[ItemScore]) -> pd.DataFrame:
    """One row per scored item: the item's fields joined with its score, and what it got right."""
    by_id = {s.item_id: s for s in scores}
    rows = [{**asdict(i), **asdict(by_id[i.id])} for i in items if i.id in by_id]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["correct"] = _wins(frame["logit_diff"])
    control = pd.to_numeric(frame["control_diff"], errors="coerce")
    frame["control_correct"] = _wins(control).where(control.notna())
    other = pd.to_numeric(frame["other_dual_logprob"], errors="coerce")
    best = np.fmax(frame["target_logprob"].astype(float), other)
    frame["any_dual_correct"] = _wins(best - frame["distractor_logprob"].astype(float))
    for diff, correct in (("related_diff", "related_correct"), ("calibrated_diff", "calibrated_correct")):
        values = pd.to_numeric(frame[diff], errors="coerce")  # None where the item has no such word/prompt
        frame[correct] = _wins(values).where(values.notna())
    frame["choice_correct"], frame["choice_chance"] = choice(frame)
    frame["top1"] = pd.to_numeric(frame["top1"], errors="coerce")  # None (several tokens) -> NaN
    frame["target_rank"] = pd.to_numeric(frame["target_rank"], errors="coerce")
    return frame


def _wins(diff: pd.Series) -> pd.Series:
    """1 where the first score is higher, 0.5 on a tie (a model that cannot tell), 0 otherwise."""
    return (diff > 0).astype(float) + 0.5 * (diff == 0)


def choice(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per item: credit for the target against all its foils at once, and the chance of that credit.

    The foils are the cue, and the related and control words where the item has them (the cue's
    other duals are right answers, not foils). Credit is 1 where the target's log-likelihood is
    above every foil's, 0 where some foil is above it, and on a tie with the best foils
    1 / (1 + number tied): a model that cannot tell them apart gets what picking among them at
    random would (half for a tie with one foil, like the pairwise metrics). Chance is
    1 / (1 + number of foils).
    """
    target = frame["target_logprob"].astype(float).to_numpy()
    foils = np.column_stack(
        [pd.to_numeric(frame[c], errors="coerce") for c in ("distractor_logprob", "related_logprob", "control_logprob")]
    ).astype(float)  # [items, 3], NaN where the item lacks that foil
    best = np.nanmax(foils, axis=1)  # the cue is always there, so never all NaN
    tied = (foils == best[:, None]).sum(axis=1)
    credit = np.where(target > best, 1.0, np.where(target == best, 1.0 / (1 + tied), 0.0))
    return credit, 1.0 / (1 + (~np.isnan(foils)).sum(axis=1))


def bootstrap_ci(
    values: Sequence[float], *, seed: int = 0, n_boot: int = 1000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean, resampled in chunks to bound memory."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    chunk = max(1, 2_000_000 // len(x))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, len(x), size=(stop - start, len(x)))
        means[start:stop] = x[idx].mean(axis=1)
    alpha = (1 - level) / 2
    return (float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def headline(frame: pd.DataFrame, *, seed: int = 0, n_boot: int = 1000) -> dict[str, Any]:
    """The headline numbers of one set of scored items."""
    if frame.empty:
        return {"n": 0}
    lo, hi = bootstrap_ci(frame["logit_diff"], seed=seed, n_boot=n_boot)
    single = frame[frame["single_token"]]
    is_curated, is_wordnet = frame["source"] == "curated", frame["source"] == "wordnet"
    is_affix = frame["category"] == AFFIX_CATEGORY
    return {
        "n": int(len(frame)),
        "duality_score": category_mean(frame),
        "curated_score": category_mean(frame[is_curated]),
        "wordnet_score": category_mean(frame[is_wordnet & ~is_affix]),
        "affix_accuracy": _mean(frame.loc[is_affix, "correct"]),
        "control_score": category_mean(frame, "control_correct"),
        "any_dual_score": category_mean(frame, "any_dual_correct"),
        "family_score": {str(f): category_mean(g) for f, g in frame.groupby("family", sort=True)},
        "duality_accuracy": float(frame["correct"].mean()),
        "control_accuracy": _mean(frame["control_correct"]),
        "any_dual_accuracy": float(frame["any_dual_correct"].mean()),
        "logit_diff": float(frame["logit_diff"].mean()),
        "logit_diff_ci95": [lo, hi],
        "control_logit_diff": _mean(pd.to_numeric(frame["control_diff"], errors="coerce")),
        "related_score": category_mean(frame, "related_correct"),
        "related_accuracy": _mean(frame["related_correct"]),
        "choice_accuracy": float(frame["choice_correct"].mean()),
        "choice_chance": float(frame["choice_chance"].mean()),
        "calibrated_score": category_mean(frame, "calibrated_correct"),
        "calibrated_accuracy": _mean(frame["calibrated_correct"]),
        "n_single_token": int(len(single)),
        "top1_accuracy": _mean(single["top1"]),  # over single-token items only
        "median_target_rank": _mean(single["target_rank"].median()) if len(single) else None,
    }


def category_mean(frame: pd.DataFrame, column: str = "correct") -> float | None:
    """The mean over categories of each category's mean `column`: categories weigh alike."""
    if frame.empty or frame[column].notna().sum() == 0:
        return None
    return float(frame.groupby("category")[column].mean().dropna().mean())


def breakdown(frame: pd.DataFrame, by: str) -> dict[str, dict[str, float]]:
    """Accuracy (vs the cue, the control and the related word; choice among all foils, with its
    chance; calibrated), top-1 (single-token items) and mean logit difference per value of `by`."""
    if frame.empty:
        return {}
    grouped = frame.groupby(by, sort=True).agg(
        n=("correct", "size"),
        duality_accuracy=("correct", "mean"),
        control_accuracy=("control_correct", "mean"),
        any_dual_accuracy=("any_dual_correct", "mean"),
        top1_accuracy=("top1", "mean"),
        logit_diff=("logit_diff", "mean"),
        related_accuracy=("related_correct", "mean"),
        choice_accuracy=("choice_correct", "mean"),
        choice_chance=("choice_chance", "mean"),
        calibrated_accuracy=("calibrated_correct", "mean"),
    )
    grouped["n"] = grouped["n"].astype(int)
    return {
        str(k): {c: _plain(v) for c, v in row.items()}
        for k, row in grouped.astype(object).where(grouped.notna(), None).iterrows()
    }


def _mean(values: Any) -> float | None:
    """A float, or None where there is nothing to average (JSON has no NaN)."""
    value = float(values.mean()) if isinstance(values, pd.Series) else float(values)
    return None if np.isnan(value) else value


def pair_asymmetry(frame: pd.DataFrame) -> pd.DataFrame:
    """Per pair: accuracy and logit difference of a->b minus b->a, on the templates both share."""
    cols = ["pair_id", "source", "category", "a", "b", "n_templates", "acc_ab", "acc_ba", "acc_asym", "ld_ab", "ld_ba"]
    if frame.empty:
        return pd.DataFrame(columns=[*cols, "ld_asym"])
    ab = frame[frame["direction"] == "a->b"].set_index(["pair_id", "template_id"])
    ba = frame[frame["direction"] == "b->a"].set_index(["pair_id", "template_id"])
    both = ab.join(ba, how="inner", lsuffix="_ab", rsuffix="_ba")
    if both.empty:
        return pd.DataFrame(columns=[*cols, "ld_asym"])
    per_pair = both.groupby(level="pair_id", sort=True).agg(
        source=("source_ab", "first"),
        category=("category_ab", "first"),
        a=("cue_ab", "first"),
        b=("cue_ba", "first"),
        n_templates=("correct_ab", "size"),
        acc_ab=("correct_ab", "mean"),
        acc_ba=("correct_ba", "mean"),
        ld_ab=("logit_diff_ab", "mean"),
        ld_ba=("logit_diff_ba", "mean"),
    )
    per_pair["acc_asym"] = per_pair["acc_ab"] - per_pair["acc_ba"]
    per_pair["ld_asym"] = per_pair["ld_ab"] - per_pair["ld_ba"]
    return per_pair.reset_index()


def summarize_asymmetry(frame: pd.DataFrame, top: int = 10) -> dict[str, Any]:
    """Mean absolute asymmetry over pairs, and the most asymmetric pairs by logit difference."""
    per_pair = pair_asymmetry(frame)
    if per_pair.empty:
        return {"pairs": 0, "mean_abs_acc_asym": None, "mean_abs_ld_asym": None, "most_asymmetric": []}
    order = per_pair["ld_asym"].abs().sort_values(ascending=False, kind="stable").index
    most = per_pair.loc[order[:top]]
    return {
        "pairs": int(len(per_pair)),
        "mean_abs_acc_asym": float(per_pair["acc_asym"].abs().mean()),
        "mean_abs_ld_asym": float(per_pair["ld_asym"].abs().mean()),
        "most_asymmetric": [{k: _plain(v) for k, v in row.items()} for _, row in most.iterrows()],
    }


def other_dual_preference(frame: pd.DataFrame) -> dict[str, Any]:
    """Where the cue has another dual, the share of items rating it above the target, per cue."""
    if frame.empty or "other_dual_logprob" not in frame:
        return {"n": 0, "prefers_other_dual": None, "by_cue": {}}
    has = frame[frame["other_dual_logprob"].notna()]
    if has.empty:
        return {"n": 0, "prefers_other_dual": None, "by_cue": {}}
    prefers = has["other_dual_logprob"].astype(float) > has["target_logprob"]
    by_cue = (
        has.assign(prefers=prefers)
        .groupby("cue", sort=True)
        .agg(n=("prefers", "size"), prefers_other_dual=("prefers", "mean"), other_dual=("other_dual", "first"))
    )
    return {
        "n": int(len(has)),
        "prefers_other_dual": float(prefers.mean()),
        "by_cue": {str(k): {c: _plain(v) for c, v in row.items()} for k, row in by_cue.astype(object).iterrows()},
    }


def _plain(v: Any) -> Any:
    """numpy scalars to Python ones, so results serialize as plain JSON."""
    if isinstance(v, np.generic):
        return v.item()
    return v

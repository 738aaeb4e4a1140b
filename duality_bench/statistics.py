"""Uncertainty of a score: bootstrap over pairs within categories, paired between rows.

Items of one pair are not independent (one pair, many templates), so intervals resample pairs,
not items, and within each category, so every category keeps its size. A score weighs either
categories alike (`by="category"`: the mean over categories of per-category accuracy, as the
duality score does) or items alike (`by="item"`: the share over all items, as the choice accuracy
does). Two rows scored on the same items are compared by a paired bootstrap that draws the same
pairs for both: their ranks are separable when the interval of the difference excludes 0. Pure
numpy and pandas, seeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and pandas load on first use, so importing the leaderboard stays light
    import numpy as np
    import pandas as pd

LEVEL = 0.95


def pair_sums(frame: pd.DataFrame, column: str = "correct") -> pd.DataFrame:
    """Per (category, pair): the sum of `column` over the pair's items and their count."""
    import pandas as pd

    grouped = frame.groupby(["category", "pair_id"], sort=True)[column]
    return pd.DataFrame({"sum": grouped.sum(), "n": grouped.size()}).reset_index()


def duality_score(sums: pd.DataFrame, by: str = "category") -> float:
    """The score of a `pair_sums` table: the mean over categories of per-category accuracy, or
    (`by="item"`) the share over all items."""
    if by == "item":
        return float(sums["sum"].sum() / sums["n"].sum())
    per_category = sums.groupby("category")[["sum", "n"]].sum()
    return float((per_category["sum"] / per_category["n"]).mean())


def _draws(sums: pd.DataFrame, seed: int, n_boot: int) -> list[np.ndarray]:
    """Per category, the resampled pair indices [n_boot, pairs of the category]."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [rng.integers(0, len(g), size=(n_boot, len(g))) for _, g in sums.groupby("category", sort=True)]


def _scores(sums: pd.DataFrame, draws: list[np.ndarray], by: str = "category") -> np.ndarray:
    """The score of each bootstrap draw [n_boot] (see `duality_score` for `by`)."""
    import numpy as np

    totals, counts = [], []
    for (_, g), idx in zip(sums.groupby("category", sort=True), draws, strict=True):
        s, n = g["sum"].to_numpy(float), g["n"].to_numpy(float)
        totals.append(s[idx].sum(1))
        counts.append(n[idx].sum(1))
    if by == "item":
        return np.sum(totals, axis=0) / np.sum(counts, axis=0)
    return np.mean([t / c for t, c in zip(totals, counts, strict=True)], axis=0)


def score_interval(
    sums: pd.DataFrame, *, seed: int = 0, n_boot: int = 1000, by: str = "category"
) -> tuple[float, float]:
    """95% percentile interval of the score, resampling pairs within categories."""
    import numpy as np

    if sums.empty:
        return (float("nan"), float("nan"))
    scores = _scores(sums, _draws(sums, seed, n_boot), by)
    alpha = (1 - LEVEL) / 2
    return (float(np.quantile(scores, alpha)), float(np.quantile(scores, 1 - alpha)))


def paired_interval(
    a: pd.DataFrame, b: pd.DataFrame, *, seed: int = 0, n_boot: int = 1000, by: str = "category"
) -> tuple[float, float, float]:
    """(score a - score b, and its 95% interval) with the same pairs drawn for both rows.

    `a` and `b` are `pair_sums` tables of two rows scored on the same items."""
    import numpy as np

    merged = a.merge(b, on=["category", "pair_id"], suffixes=("_a", "_b"), validate="one_to_one")
    if len(merged) != len(a) or len(merged) != len(b) or (merged["n_a"] != merged["n_b"]).any():
        raise ValueError("paired comparison needs two rows scored on the same items")
    sa = merged[["category", "pair_id", "sum_a", "n_a"]].set_axis(["category", "pair_id", "sum", "n"], axis=1)
    sb = merged[["category", "pair_id", "sum_b", "n_b"]].set_axis(["category", "pair_id", "sum", "n"], axis=1)
    draws = _draws(sa, seed, n_boot)
    diff = _scores(sa, draws, by) - _scores(sb, draws, by)
    point = duality_score(sa, by) - duality_score(sb, by)
    alpha = (1 - LEVEL) / 2
    return point, float(np.quantile(diff, alpha)), float(np.quantile(diff, 1 - alpha))


def rank_ranges(
    rows: Mapping[str, pd.DataFrame], *, seed: int = 0, n_boot: int = 1000, by: str = "category"
) -> dict[str, tuple[int, int]]:
    """Each row's best and worst rank: 1 + the rows separably above it, n - the rows separably below."""
    names = list(rows)
    above = dict.fromkeys(names, 0)
    below = dict.fromkeys(names, 0)
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            _, lo, hi = paired_interval(rows[x], rows[y], seed=seed, n_boot=n_boot, by=by)
            if lo > 0:
                above[y] += 1
                below[x] += 1
            elif hi < 0:
                above[x] += 1
                below[y] += 1
    return {n: (1 + above[n], len(names) - below[n]) for n in names}


def strict_pair_accuracy(frame: pd.DataFrame) -> float | None:
    """The share of pairs right in both directions on most (over half) of their templates."""
    if frame.empty:
        return None
    per_direction = frame.groupby(["pair_id", "direction"])["correct"].mean()
    both = (per_direction > 0.5).groupby(level="pair_id").agg(lambda s: len(s) == 2 and bool(s.all()))
    return float(both.mean())

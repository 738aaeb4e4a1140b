"""Bootstrap over pairs within categories, and the paired comparison of two rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from duality_bench.statistics import (
    duality_score,
    pair_sums,
    paired_interval,
    rank_ranges,
    score_interval,
    strict_pair_accuracy,
)


def frame(seed: int, p: float = 0.6, n_pairs: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for cat in ("a", "b", "c"):
        for pair in range(n_pairs):
            for direction in ("a->b", "b->a"):
                for t in range(4):
                    rows.append((cat, f"{cat}{pair}", direction, t, float(rng.random() < p)))
    return pd.DataFrame(rows, columns=["category", "pair_id", "direction", "template_id", "correct"])


def test_interval_is_deterministic_for_a_seed_and_holds_the_score() -> None:
    sums = pair_sums(frame(0))
    first, again = score_interval(sums, seed=3), score_interval(sums, seed=3)
    assert first == again
    assert first != score_interval(sums, seed=4)
    assert first[0] < duality_score(sums) < first[1]


def test_a_row_compared_with_itself_is_never_separable() -> None:
    sums = pair_sums(frame(1))
    point, lo, hi = paired_interval(sums, sums, seed=0)
    assert point == lo == hi == 0
    assert not (lo > 0 or hi < 0)  # the interval of the difference holds 0: not separable


def test_rows_that_differ_by_a_constant_on_every_item_are_separable() -> None:
    base = frame(2, p=0.5)
    worse = base.assign(correct=base["correct"] * 0.0 + 0.2)  # every item 0.2
    better = base.assign(correct=0.7)  # every item 0.7: 0.5 above on each
    a, b = pair_sums(better), pair_sums(worse)
    point, lo, hi = paired_interval(a, b)
    assert point == pytest.approx(0.5) and lo == pytest.approx(0.5) and hi == pytest.approx(0.5)
    assert lo > 0 or hi < 0  # separable
    ranks = rank_ranges({"better": a, "worse": b, "same": pair_sums(worse)})
    assert ranks["better"] == (1, 1) and ranks["worse"] == (2, 3) and ranks["same"] == (2, 3)


def test_paired_comparison_refuses_different_items() -> None:
    with pytest.raises(ValueError, match="same items"):
        paired_interval(pair_sums(frame(0)), pair_sums(frame(0, n_pairs=10)))


def test_strict_pair_accuracy_needs_both_directions_on_most_templates() -> None:
    rows = [("x", "p", "a->b", t, c) for t, c in enumerate((1, 1, 0))]  # 2 of 3: most
    rows += [("x", "p", "b->a", t, c) for t, c in enumerate((1, 0, 0))]  # 1 of 3: not most
    rows += [("x", "q", d, t, 1.0) for d in ("a->b", "b->a") for t in range(3)]
    rows += [("x", "r", "a->b", 0, 1.0)]  # one direction only
    df = pd.DataFrame(rows, columns=["category", "pair_id", "direction", "template_id", "correct"])
    assert strict_pair_accuracy(df) == pytest.approx(1 / 3)


def test_items_or_categories_weigh_alike() -> None:
    sums = pd.DataFrame(
        [("big", "b1", 9.0, 10), ("big", "b2", 9.0, 10), ("small", "s1", 0.0, 2)],
        columns=["category", "pair_id", "sum", "n"],
    )
    assert duality_score(sums) == pytest.approx((0.9 + 0.0) / 2)
    assert duality_score(sums, by="item") == pytest.approx(18 / 22)
    lo, hi = score_interval(sums, by="item")
    assert lo <= 18 / 22 <= hi and (lo, hi) != score_interval(sums)
    shifted = sums.assign(sum=[10.0, 10.0, 1.0])
    point, lo, hi = paired_interval(shifted, sums, by="item")
    assert point == pytest.approx(3 / 22) and lo > 0

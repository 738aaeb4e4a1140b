"""Headline candidates compared by how stable the order of the rows is on halves of the items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from duality_bench.headlines import CANDIDATES, choose, compare, headline_rows, markdown_table


def frame(correct: np.ndarray) -> pd.DataFrame:
    """40 pairs x 2 directions x 2 templates (one zero-shot, one few-shot); the first 10 pairs curated."""
    rows = []
    for n in range(len(correct)):
        pair = n // 4
        rows.append(
            {
                "id": f"item{n}",
                "pair_id": f"p{pair}",
                "category": "curated-a" if pair < 10 else "wordnet-noun",
                "source": "curated" if pair < 10 else "wordnet",
                "family": "zero-shot" if n % 2 == 0 else "few-shot",
            }
        )
    out = pd.DataFrame(rows)
    for column in ("correct", "choice_correct", "calibrated_correct"):
        out[column] = correct.astype(float)
    return out


def test_a_row_that_wins_everywhere_is_ordered_alike_on_every_half() -> None:
    rng = np.random.default_rng(1)
    weak = rng.random(160) < 0.3
    strong = weak | (rng.random(160) < 0.6)  # right wherever the weak row is, and more
    frames = {"strong": frame(strong), "weak": frame(weak), "copy": frame(np.zeros(160, bool))}
    stabilities = compare(frames, {"copy"})
    assert [s.candidate for s in stabilities] == list(CANDIDATES)
    for s in stabilities:
        assert s.order() == ["strong", "weak", "copy"]
        assert all(k == n == 3 for k, n in s.agreement.values()), s.candidate.name
        assert s.mean_agreement == 1.0 and all(s.real_first.values())


def test_an_order_that_flips_between_halves_loses_agreement() -> None:
    # a is right on every zero-shot item, b on most few-shot ones; a more often overall
    n = 160
    k = np.arange(n)
    zero = k % 2 == 0
    a = zero | (k % 8 == 3)  # 100 items: 80 zero-shot, 20 few-shot
    b = (~zero & (k % 8 != 1)) | (k % 8 == 0)  # 80 items: 20 zero-shot, 60 few-shot
    frames = {"a": frame(a), "b": frame(b), "copy": frame(np.zeros(n, bool))}
    per_item = compare(frames, {"copy"})[1]
    assert per_item.candidate.name == "per item" and per_item.order()[0] == "a"
    assert per_item.agreement["zero-/few-shot"] == (2, 3)  # a > copy and b > copy hold, a > b flips
    assert per_item.real_agreement[0] < per_item.real_agreement[1]


def test_rows_on_different_items_are_not_compared() -> None:
    with pytest.raises(ValueError, match="same items"):
        compare({"a": frame(np.ones(160, bool)), "b": frame(np.ones(80, bool))}, set())


def test_the_chosen_candidate_is_the_most_stable_and_marked_in_the_table() -> None:
    rng = np.random.default_rng(2)
    frames = {f"m{k}": frame(rng.random(160) < 0.5) for k in range(3)} | {"copy": frame(np.zeros(160, bool))}
    stabilities = compare(frames, {"copy"})
    best = choose(stabilities)
    assert best.mean_agreement == max(s.mean_agreement for s in stabilities)
    rows = headline_rows(stabilities, {"copy": "copy (ref)"})
    assert rows[0][:5] == ["headline", "m0", "m1", "m2", "copy (ref)"]
    assert [r[0] for r in rows[1:]].count(f"{best.candidate.name} (chosen)") == 1
    table = markdown_table(rows)
    assert len(table) == len(rows) + 1 and all(line.count("|") == len(rows[0]) + 1 for line in table)

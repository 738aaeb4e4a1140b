"""Headline candidates compared by how stable the order of the rows is on halves of the items."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from duality_bench.headlines import CANDIDATES, SPLITS, choose, compare, headline_rows, markdown_table

N = 160  # 40 pairs x 2 directions x 2 templates


def frame(correct: np.ndarray, choice: np.ndarray | None = None, calibrated: np.ndarray | None = None) -> pd.DataFrame:
    """One row per item; the first 10 pairs curated; even items zero-shot, odd ones few-shot."""
    k = np.arange(len(correct))
    out = pd.DataFrame(
        {
            "id": [f"item{n:03d}" for n in k],
            "pair_id": [f"p{n // 4}" for n in k],
            "category": np.where(k // 4 < 10, "curated-a", "wordnet-noun"),
            "source": np.where(k // 4 < 10, "curated", "wordnet"),
            "family": np.where(k % 2 == 0, "zero-shot", "few-shot"),
        }
    )
    out["correct"] = correct.astype(float)
    out["choice_correct"] = (correct if choice is None else choice).astype(float)
    out["calibrated_correct"] = (correct if calibrated is None else calibrated).astype(float)
    return out


def by_name(stabilities, name: str):
    return next(s for s in stabilities if s.candidate.name == name)


def test_a_row_that_wins_everywhere_is_ordered_alike_on_every_half() -> None:
    rng = np.random.default_rng(1)
    weak = rng.random(N) < 0.3
    strong = weak | (rng.random(N) < 0.6)  # right wherever the weak row is, and more
    frames = {"strong": frame(strong), "weak": frame(weak), "copy": frame(np.zeros(N, bool))}
    stabilities = compare(frames, {"copy"})
    assert [s.candidate for s in stabilities] == list(CANDIDATES)
    for s in stabilities:
        assert s.order() == ["strong", "weak", "copy"]
        assert s.agreement == {split: 1.0 for split, _, _ in SPLITS}, s.candidate.name
        assert s.real_agreement == 1.0 and all(s.real_first.values()) and len(s.real_first) == 7


def test_each_candidate_reads_its_own_column() -> None:
    k = np.arange(N)
    frames = {
        "a": frame(k % 2 == 0, choice=k % 4 == 0, calibrated=k % 8 == 0),
        "copy": frame(np.zeros(N, bool)),
    }
    scores = {s.candidate.name: s.scores["a"] for s in compare(frames, {"copy"})}
    assert scores == {"macro": 0.5, "per item": 0.5, "curated = WordNet": 0.5, "choice": 0.25, "calibrated": 0.125}


def test_an_order_that_flips_between_halves_loses_agreement() -> None:
    k = np.arange(N)
    zero = k % 2 == 0
    a = zero | (k % 8 == 3)  # 100 items: 80 zero-shot, 20 few-shot
    b = (~zero & (k % 8 != 1)) | (k % 8 == 0)  # 80 items: 20 zero-shot, 60 few-shot
    per_item = by_name(compare({"a": frame(a), "b": frame(b), "copy": frame(np.zeros(N, bool))}, {"copy"}), "per item")
    assert per_item.order()[0] == "a"
    assert per_item.agreement["zero-/few-shot"] == pytest.approx(2 / 3)  # a > copy, b > copy hold; a > b flips
    assert per_item.real_agreement < 1


def test_a_candidate_some_row_lacks_is_shown_but_never_chosen() -> None:
    rng = np.random.default_rng(3)
    frames = {f"m{n}": frame(rng.random(N) < 0.5) for n in range(2)} | {"copy": frame(np.zeros(N, bool))}
    frames["m0"]["calibrated_correct"] = np.nan  # a results file from before calibration
    stabilities = compare(frames, {"copy"})
    calibrated = by_name(stabilities, "calibrated")
    assert not calibrated.available and math.isnan(calibrated.scores["m0"])
    assert choose(stabilities) is not calibrated and choose(stabilities).available
    _, rows = headline_rows(stabilities)
    row = next(r for r in rows if r[0] == "calibrated")
    assert row[1] == "–" and set(row[4:]) == {"–"}


def test_ties_go_to_the_earlier_candidate() -> None:
    rng = np.random.default_rng(4)
    correct = rng.random(N) < 0.6
    frames = {"a": frame(correct), "b": frame(correct & (rng.random(N) < 0.8)), "copy": frame(np.zeros(N, bool))}
    stabilities = compare(frames, {"copy"})  # every column the same: every candidate equally stable
    assert len({(s.mean_agreement, s.real_agreement) for s in stabilities[1:]}) == 1
    best = choose(stabilities)
    tied = [
        s for s in stabilities if (s.mean_agreement, s.real_agreement) == (best.mean_agreement, best.real_agreement)
    ]
    assert best is tied[0]


def test_rows_are_compared_on_the_items_they_share() -> None:
    stabilities = compare({"a": frame(np.ones(N, bool)), "b": frame(np.zeros(N // 2, bool))}, set())
    assert stabilities[0].scores == {"a": 1.0, "b": 0.0}
    with pytest.raises(ValueError, match="two rows"):
        compare({"a": frame(np.ones(N, bool))}, set())


def test_the_table_marks_one_choice_and_aligns_by_kind() -> None:
    rng = np.random.default_rng(2)
    frames = {f"m{k}": frame(rng.random(N) < 0.5) for k in range(3)} | {"copy": frame(np.zeros(N, bool))}
    stabilities = compare(frames, {"copy"})
    kinds, rows = headline_rows(stabilities, {"copy": "copy (ref)"})
    assert rows[0][:5] == ["headline", "m0", "m1", "m2", "copy (ref)"]
    assert [r[0] for r in rows[1:]].count(f"{choose(stabilities).candidate.name} (chosen)") == 1
    assert kinds[0] == kinds[5] == "text" and kinds.count("text") == 2 and len(kinds) == len(rows[0])
    table = markdown_table(kinds, rows)
    assert table[1].split("|")[1:-1] == ["---:" if k == "num" else "---" for k in kinds]
    assert all(line.count("|") == len(rows[0]) + 1 for line in table)


def test_the_leaderboard_headline_is_the_most_stable_candidate_on_the_committed_rows() -> None:
    from duality_bench.headlines import frames_from_results
    from duality_bench.leaderboard.headline import HEADLINE

    results = Path(__file__).resolve().parents[1] / "leaderboard" / "results"
    paths = {p.parent.parent.name: p for p in sorted(results.glob("*/default/all.json"))}
    assert len([r for r in paths if not r.startswith("baseline__")]) >= 2 and "baseline__copy" in paths
    stabilities = compare(frames_from_results(paths), {r for r in paths if r.startswith("baseline__")})
    best = choose(stabilities)
    assert best.candidate.name == HEADLINE.candidate
    assert all(best.real_first.values())  # every real model above every reference row, on every half

"""Candidate headlines: summaries of the same scored items, compared by how stable the order of
the rows they give is.

A candidate is one way to reduce a row's per-item results to a number. For each candidate, every
row (real models and reference rows, all scored on the same items) is scored on the whole set
and on the two halves of three splits that share no items: zero-shot vs few-shot templates,
curated vs WordNet pairs, and random halves of the pairs (RANDOM_SPLITS seeded draws). A split's
agreement is the share of all row pairs whose order on the whole set (a tie included) both halves
reproduce; for the random halves, the mean over the draws. The most stable candidate has the
highest mean agreement over the three splits; ties go to the higher agreement over pairs of real
models, then to the one that puts every real model above every reference row on more of the
whole set and the six halves (the first random draw), then to the earlier candidate. A candidate
that some row cannot be scored on (a results file without its field) is shown but not chosen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from duality_bench.errors import DualityBenchError
from duality_bench.models.registry import OFFLINE_MODELS
from duality_bench.results import REFERENCE_PREFIX

if TYPE_CHECKING:  # pandas loads on first use
    import pandas as pd

RANDOM_SPLITS = 10  # seeded draws of random pair halves: one draw's order flips are noise

EXPLAINED = (
    "Candidate headlines for the same per-item results, scored on all items and on the two halves of three "
    "splits that share no items: zero-shot vs few-shot templates, curated vs WordNet pairs, and random halves "
    f"of the pairs ({RANDOM_SPLITS} seeded draws). Agreement: the share of all pairs of rows whose order on "
    "the whole set both halves reproduce (for the random halves, the mean over the draws); mean: over the three "
    "splits; real models: the same share over pairs of real models only, all splits together; real > "
    "references: on how many of the whole set and the six halves (the first random draw) every real model is "
    "above every reference row. The most stable candidate has the highest mean (ties: real models, then "
    "real > references, then the earlier row)."
)


def _macro(frame: pd.DataFrame) -> float:
    return float(frame.groupby("category")["correct"].mean().mean())


def _per_item(frame: pd.DataFrame) -> float:
    return float(frame["correct"].mean())


def _halves_equal(frame: pd.DataFrame) -> float:
    return float(frame.groupby("source")["correct"].mean().mean())


def _choice(frame: pd.DataFrame) -> float:
    return float(frame["choice_correct"].mean())


def _calibrated(frame: pd.DataFrame) -> float:
    return float(frame["calibrated_correct"].mean())


@dataclass(frozen=True)
class Candidate:
    name: str
    meaning: str
    score: Callable[[pd.DataFrame], float]


CANDIDATES = (
    Candidate("macro", "dual above the cue, mean over categories (the duality score)", _macro),
    Candidate("per item", "dual above the cue, mean over items", _per_item),
    Candidate(
        "curated = WordNet", "dual above the cue per item, curated and WordNet halves weighed alike", _halves_equal
    ),
    Candidate("choice", "dual above the cue, the control and the related word at once, mean over items", _choice),
    Candidate("calibrated", "dual above the cue after the neutral-prompt correction, mean over items", _calibrated),
)


def _random_halves(frame: pd.DataFrame, seed: int) -> pd.Series:
    import numpy as np

    pairs = sorted(frame["pair_id"].unique())
    chosen = set(np.random.default_rng(seed).permutation(pairs)[: len(pairs) // 2])
    return frame["pair_id"].isin(chosen)


# split -> (half names, the items of the first half, one mask per draw)
SPLITS: tuple[tuple[str, tuple[str, str], Callable[[pd.DataFrame], list[pd.Series]]], ...] = (
    ("zero-/few-shot", ("zero-shot", "few-shot"), lambda f: [f["family"] == "zero-shot"]),
    ("curated/WordNet", ("curated", "WordNet"), lambda f: [f["source"] == "curated"]),
    ("random pair halves", ("pairs A", "pairs B"), lambda f: [_random_halves(f, s) for s in range(RANDOM_SPLITS)]),
)


@dataclass(frozen=True)
class Stability:
    """One candidate on every row: its scores, and how well the order of the rows holds on halves."""

    candidate: Candidate
    scores: Mapping[str, float]  # row -> score on all items
    halves: Mapping[str, Mapping[str, float]]  # half name -> row -> score (random halves: the first draw)
    agreement: Mapping[str, float]  # split -> share of row pairs ordered as on the whole set on both halves
    # (only the splits whose halves both hold items: curated/WordNet does not apply to config `curated`)
    real_agreement: float  # the same over pairs of real models, every split (and draw) alike
    real_first: Mapping[str, bool] = field(default_factory=dict)  # "all" and each half -> real models above refs

    @property
    def available(self) -> bool:
        """Every row has a score on the whole set and on every half."""
        values = [*self.scores.values(), *(v for h in self.halves.values() for v in h.values())]
        return all(math.isfinite(v) for v in values)

    @property
    def mean_agreement(self) -> float:
        """The mean over the splits that apply (both halves hold items)."""
        return sum(self.agreement.values()) / len(self.agreement) if self.agreement else math.nan

    def order(self) -> list[str]:
        return sorted(self.scores, key=lambda r: -self.scores[r])


def compare(frames: Mapping[str, pd.DataFrame], references: set[str]) -> list[Stability]:
    """Every candidate on every row's `score_frame`, in CANDIDATES order, on the items all rows have."""
    if len(frames) < 2:
        raise ValueError("headline candidates are compared on two rows or more")
    common = set.intersection(*(set(f["id"]) for f in frames.values()))
    if not common:
        raise ValueError("headline candidates are compared on items the rows share; these share none")
    frames = {row: f[f["id"].isin(common)].sort_values("id", ignore_index=True) for row, f in frames.items()}
    first = next(iter(frames.values()))
    draws = []
    for split, names, masks in SPLITS:
        id_sets = [set(first.loc[m, "id"]) for m in masks(first)]
        if all(0 < len(ids) < len(first) for ids in id_sets):  # a split with an empty half does not apply
            draws.append((split, names, id_sets))
    real = [r for r in frames if r not in references]
    out = []
    for cand in CANDIDATES:
        scores = {row: cand.score(f) for row, f in frames.items()}
        halves: dict[str, dict[str, float]] = {}
        agreement: dict[str, float] = {}
        real_shares = []
        for split, (a, b), id_sets in draws:
            shares = []
            for n, ids in enumerate(id_sets):
                in_a = {row: cand.score(f[f["id"].isin(ids)]) for row, f in frames.items()}
                in_b = {row: cand.score(f[~f["id"].isin(ids)]) for row, f in frames.items()}
                if n == 0:
                    halves[a], halves[b] = in_a, in_b
                shares.append(_agreement(scores, in_a, in_b, list(frames)))
                real_shares.append(_agreement(scores, in_a, in_b, real))
            agreement[split] = sum(shares) / len(shares)
        real_first = {name: _real_first(s, references) for name, s in {"all": scores, **halves}.items()}
        real_agreement = sum(real_shares) / len(real_shares)
        out.append(Stability(cand, scores, halves, agreement, real_agreement, real_first))
    return out


def _agreement(whole: Mapping[str, float], a: Mapping[str, float], b: Mapping[str, float], rows: list[str]) -> float:
    """The share of pairs of `rows` that both halves order as the whole set does (a tie is an order
    too; a pair with a missing score is not reproduced)."""
    pairs = [(x, y) for i, x in enumerate(rows) for y in rows[i + 1 :]]
    if not pairs:
        return float("nan")
    same = 0
    for x, y in pairs:
        diffs = [s[x] - s[y] for s in (whole, a, b)]
        same += all(math.isfinite(d) for d in diffs) and len({_sign(d) for d in diffs}) == 1
    return same / len(pairs)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _real_first(scores: Mapping[str, float], references: set[str]) -> bool:
    real = [v for r, v in scores.items() if r not in references]
    refs = [v for r, v in scores.items() if r in references]
    if not real or not refs or not all(math.isfinite(v) for v in real + refs):
        return False
    return min(real) > max(refs)


def choose(stabilities: list[Stability]) -> Stability | None:
    """The most stable candidate that every row has (see the module docstring for the tie-breaks)."""
    ranked = [
        (_finite(round(s.mean_agreement, 9)), _finite(s.real_agreement), sum(s.real_first.values()), -n, s)
        for n, s in enumerate(stabilities)
        if s.available
    ]
    return max(ranked, key=lambda t: t[:4])[4] if ranked else None


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -1.0


def headline_rows(
    stabilities: list[Stability], short: Mapping[str, str] | None = None
) -> tuple[list[str], list[list[str]]]:
    """The comparison as text cells: each column's kind ("text" or "num") and the rows, header first.

    Per candidate: its score on every row, its order of the rows, the agreement on each split and
    their mean, the agreement over pairs of real models, and on how many of the whole set and the
    six halves every real model is above every reference row ("–" where some row has no score)."""
    short = dict(short or {})
    rows = list(stabilities[0].scores)
    head = ["headline", *(short.get(r, r) for r in rows), "order (best first)", *(s for s, _, _ in SPLITS)]
    head += ["mean", "real models", "real > references"]
    kinds = ["text", *(["num"] * len(rows)), "text", *(["num"] * (len(SPLITS) + 3))]
    out = [head]
    best = choose(stabilities)
    for s in stabilities:
        label = f"{s.candidate.name} (chosen)" if s is best else s.candidate.name
        cells = [_cell(s.scores[r], 3) for r in rows]
        if not s.available:
            out.append([label, *cells, *(["–"] * (len(head) - len(cells) - 1))])
            continue
        order = " > ".join(short.get(r, r) for r in s.order())
        agree = [_cell(s.agreement.get(split, math.nan), 2) for split, _, _ in SPLITS]
        first = f"{sum(s.real_first.values())}/{len(s.real_first)}"
        out.append([label, *cells, order, *agree, _cell(s.mean_agreement, 2), _cell(s.real_agreement, 2), first])
    return kinds, out


def _cell(x: float, digits: int) -> str:
    return f"{x:.{digits}f}" if math.isfinite(x) else "–"


def markdown_table(kinds: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table of `headline_rows`: text columns left, numbers right."""
    align = ["---:" if k == "num" else "---" for k in kinds]
    return [
        "| " + " | ".join(rows[0]) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(r) + " |" for r in rows[1:]),
    ]


def frames_from_results(
    paths: Mapping[str, Path], config: str = "all", dataset: Path | None = None
) -> dict[str, pd.DataFrame]:
    """Row name -> `score_frame` of the results file at each path, read from its items file and the
    items of `config` (in the dataset folder `dataset`, by default the packaged one)."""
    from duality_bench.data.dataset import load_items
    from duality_bench.evaluation.items import items_path, read_items_file
    from duality_bench.evaluation.metrics import score_frame

    items = load_items(config, dataset)
    frames = {}
    for row, path in paths.items():
        _, scores = read_items_file(items_path(path))
        frames[row] = score_frame(items, scores)
    return frames


def compare_runs(paths: Mapping[str, Path], config: str = "all", dataset: Path | None = None) -> list[Stability]:
    """The candidates compared on the runs at `paths` (row name -> results file); none where they lack
    two real models and a reference row, or some run has no readable items file."""
    references = {m for m in paths if m.startswith(REFERENCE_PREFIX)}
    if len(paths) - len(references) < 2 or not references:
        return []
    try:
        return compare(frames_from_results(paths, config, dataset), references)
    except (DualityBenchError, OSError, KeyError, ValueError):  # an unreadable or foreign items file
        return []


def card_section(paths: Mapping[str, Path], dataset: Path) -> list[str]:
    """The dataset card's section: the candidates compared on the runs of `all` at `paths` (scored on
    the build in the folder `dataset`); nothing without two real models and a reference row."""
    stabilities = compare_runs(paths, "all", dataset)
    if not stabilities:
        return []
    short = {m: m.removeprefix(REFERENCE_PREFIX).replace("|", "\\|") for m in paths}  # ids from results files
    weights = [
        f"- {short[m]}: {OFFLINE_MODELS[m].note}" for m in paths if m in OFFLINE_MODELS and OFFLINE_MODELS[m].note
    ]
    lines = ["", "## Which headline", "", EXPLAINED, "", *markdown_table(*headline_rows(stabilities, short))]
    return lines + (["", "The real models' weights (scored de-quantised to float32):", "", *weights] if weights else [])

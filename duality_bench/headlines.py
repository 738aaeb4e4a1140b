"""Which number heads the leaderboard: candidate summaries of the same scored items, compared by
how stable the order of the rows they give is.

A candidate is one way to reduce a row's per-item results to a number. For each candidate, every
row (real models and reference rows, all scored on the same items) is scored on the whole set
and on the two halves of three splits that share no items: zero-shot vs few-shot templates,
curated vs WordNet pairs, and two random halves of the pairs (seeded). A split's agreement is the
share of row pairs, among those the whole set orders strictly, that both halves order the same
way. The chosen headline is the candidate with the highest mean agreement; ties go to the one
that puts every real model above every reference row on more of the halves, then to the earlier
candidate (today's headline first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas loads on first use
    import pandas as pd

SEED = 0  # the random halves of the pairs

EXPLAINED = (
    "Candidate headlines for the same per-item results, scored on all items and on the two halves of three "
    "splits that share no items (zero-shot vs few-shot templates, curated vs WordNet pairs, two random halves "
    "of the pairs, seed 0). Agreement: of the row pairs the whole set orders, how many both halves order the "
    "same way; real models: the same over pairs of real models only, all splits together; real > references: "
    "on how many of the whole set and the six halves every real model is above every reference row. The "
    "chosen candidate has the highest mean agreement (ties: more of real > references, then the earlier row)."
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


def _random_halves(frame: pd.DataFrame) -> tuple[pd.Series, str, str]:
    import numpy as np

    pairs = sorted(frame["pair_id"].unique())
    chosen = set(np.random.default_rng(SEED).permutation(pairs)[: len(pairs) // 2])
    return frame["pair_id"].isin(chosen), "pairs A", "pairs B"


SPLITS: tuple[tuple[str, Callable[[pd.DataFrame], tuple[pd.Series, str, str]]], ...] = (
    ("zero-/few-shot", lambda f: (f["family"] == "zero-shot", "zero-shot", "few-shot")),
    ("curated/WordNet", lambda f: (f["source"] == "curated", "curated", "WordNet")),
    ("random pair halves", _random_halves),
)


@dataclass(frozen=True)
class Stability:
    """One candidate on every row: its scores, and how well the order of the rows holds on halves."""

    candidate: Candidate
    scores: dict[str, float]  # row -> score on all items
    halves: dict[str, dict[str, float]]  # half name -> row -> score
    agreement: dict[str, tuple[int, int]]  # split -> (row pairs ordered alike on both halves, pairs ordered)
    real_agreement: tuple[int, int]  # the same over every split, pairs of real models only
    real_first: dict[str, bool]  # "all" and each half -> every real model above every reference row

    @property
    def mean_agreement(self) -> float:
        shares = [k / n for k, n in self.agreement.values() if n]
        return sum(shares) / len(shares) if shares else float("nan")

    def order(self) -> list[str]:
        return sorted(self.scores, key=lambda r: -self.scores[r])


def compare(frames: Mapping[str, pd.DataFrame], references: set[str]) -> list[Stability]:
    """Every candidate on every row's `score_frame` (all rows on the same items), in CANDIDATES order."""
    first = next(iter(frames.values()))
    if any(set(f["id"]) != set(first["id"]) for f in frames.values()):
        raise ValueError("headline candidates are compared on rows scored on the same items")
    cuts = []
    for split, cut in SPLITS:
        mask, a, b = cut(first)
        ids = set(first.loc[mask, "id"])
        cuts.append((split, a, b, ids))
    out = []
    for cand in CANDIDATES:
        scores = {row: cand.score(f) for row, f in frames.items()}
        halves: dict[str, dict[str, float]] = {}
        agreement = {}
        real_same = real_ordered = 0
        for split, a, b, ids in cuts:
            halves[a] = {row: cand.score(f[f["id"].isin(ids)]) for row, f in frames.items()}
            halves[b] = {row: cand.score(f[~f["id"].isin(ids)]) for row, f in frames.items()}
            agreement[split] = _agreement(scores, halves[a], halves[b])
            same, ordered = _agreement(
                *({r: v for r, v in s.items() if r not in references} for s in (scores, halves[a], halves[b]))
            )
            real_same, real_ordered = real_same + same, real_ordered + ordered
        real_first = {name: _real_first(s, references) for name, s in {"all": scores, **halves}.items()}
        out.append(Stability(cand, scores, halves, agreement, (real_same, real_ordered), real_first))
    return out


def _agreement(whole: dict[str, float], a: dict[str, float], b: dict[str, float]) -> tuple[int, int]:
    rows = list(whole)
    same = ordered = 0
    for i, x in enumerate(rows):
        for y in rows[i + 1 :]:
            sign = _sign(whole[x] - whole[y])
            if sign:
                ordered += 1
                same += _sign(a[x] - a[y]) == sign and _sign(b[x] - b[y]) == sign
    return same, ordered


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _real_first(scores: dict[str, float], references: set[str]) -> bool:
    real = [v for r, v in scores.items() if r not in references]
    refs = [v for r, v in scores.items() if r in references]
    return bool(real and refs) and min(real) > max(refs)


def choose(stabilities: list[Stability]) -> Stability:
    """The most stable candidate (see the module docstring for the tie-breaks)."""
    return max(
        stabilities, key=lambda s: (round(s.mean_agreement, 9), sum(s.real_first.values()), -stabilities.index(s))
    )


def headline_rows(stabilities: list[Stability], short: Mapping[str, str] | None = None) -> list[list[str]]:
    """The comparison as text cells, header first: each candidate's score per row, its order, the
    agreement on every split and overall, the same over pairs of real models only, and on how many
    of the whole set and the six halves every real model is above every reference row."""
    short = dict(short or {})
    rows = list(stabilities[0].scores)
    head = ["headline", *(short.get(r, r) for r in rows), "order (best first)", *(s for s, _ in SPLITS)]
    out = [[*head, "mean agreement", "real models", "real > references"]]
    best = choose(stabilities)
    for s in stabilities:
        label = f"{s.candidate.name} (chosen)" if s is best else s.candidate.name
        cells = [f"{s.scores[r]:.3f}" for r in rows]
        order = " > ".join(short.get(r, r) for r in s.order())
        agree = [f"{k}/{n}" for k, n in s.agreement.values()]
        real = "{}/{}".format(*s.real_agreement)
        first = f"{sum(s.real_first.values())}/{len(s.real_first)}"
        out.append([label, *cells, order, *agree, f"{s.mean_agreement:.2f}", real, first])
    return out


def markdown_table(rows: list[list[str]]) -> list[str]:
    """A markdown table of `headline_rows`: text columns left, numbers right."""
    head, *body = rows
    align = ["---" if not c[:1].isdigit() else "---:" for c in body[0]] if body else ["---"] * len(head)
    return (
        ["| " + " | ".join(r) + " |" for r in [head]]
        + ["|" + "|".join(align) + "|"]
        + ["| " + " | ".join(r) + " |" for r in body]
    )


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

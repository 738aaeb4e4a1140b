"""Read the hand-curated pairs table (`data/curated_pairs.csv`).

Columns: a, b, category, pos, a_other_duals, b_other_duals, note. Other duals are separated
by `;` (right's other dual is wrong). Every problem is one line naming the file and the line.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

from duality_bench.data.pairs.table import PairsError, check_words, other_duals, read_rows
from duality_bench.data.records import DualPair

COLUMNS = ("a", "b", "category", "pos", "a_other_duals", "b_other_duals", "note")
WORDS = COLUMNS[:-1]  # every column but the note holds words, checked by `check_word`
POS = ("n", "v", "a", "r", "pron", "prep", "det")


def read_curated(path: str | Path, categories: Iterable[str] | None = None) -> list[DualPair]:
    """Parse the curated table. `categories` (if given) are the only ones allowed."""
    allowed = tuple(categories) if categories is not None else None
    pairs: list[DualPair] = []
    seen: dict[frozenset[str], str] = {}
    for where, (a, b, category, pos, a_other, b_other, _note) in read_rows(path, COLUMNS, "pairs table", WORDS):
        key = check_words(where, a, b)
        if allowed is not None and category not in allowed:
            raise PairsError(f"{where}: unknown category {category!r}; known: {', '.join(allowed)}")
        if pos not in POS:
            raise PairsError(f"{where}: unknown part of speech {pos!r}; use one of {', '.join(POS)}")
        if key in seen:
            first = seen[key].rsplit(":", 1)[1]
            warnings.warn(
                f"{where}: duplicate pair {a}/{b} (first on line {first}); keeping the first, delete this row",
                stacklevel=2,
            )
            continue
        seen[key] = where
        a_others, b_others = other_duals(where, a, b, a_other), other_duals(where, b, a, b_other)
        pairs.append(DualPair(a, b, category, "curated", pos, a_others, b_others))
    return pairs

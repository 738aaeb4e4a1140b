"""Read the hand-curated pairs table (`data/curated_pairs.csv`).

Columns: a, b, category, pos, a_other_duals, b_other_duals, note. Other duals are separated
by `;` (right's other dual is wrong). Every problem is one line naming the file and the line.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterable
from pathlib import Path

from duality_bench.data.records import DualPair
from duality_bench.errors import DualityBenchError

COLUMNS = ("a", "b", "category", "pos", "a_other_duals", "b_other_duals", "note")
POS = ("n", "v", "a", "r", "pron", "prep", "det")


class PairsError(DualityBenchError, ValueError):
    """A pairs table that cannot be read; the message names the file and line."""


def read_curated(path: str | Path, categories: Iterable[str] | None = None) -> list[DualPair]:
    """Parse the curated table. `categories` (if given) are the only ones allowed."""
    path = Path(path)
    allowed = tuple(categories) if categories is not None else None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PairsError(f"{path}: cannot read the pairs table ({e.strerror})") from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise PairsError(f"{path}:1: header must be {','.join(COLUMNS)}, found {header}")
    pairs: list[DualPair] = []
    seen: dict[frozenset[str], int] = {}
    for line, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}:{line}"
        if len(row) != len(COLUMNS):
            raise PairsError(f"{where}: expected {len(COLUMNS)} columns ({','.join(COLUMNS)}), found {len(row)}")
        a, b, category, pos, a_other, b_other, _note = (c.strip() for c in row)
        if not a or not b:
            raise PairsError(f"{where}: both words are required, found a={a!r} b={b!r}")
        if a.lower() == b.lower():
            raise PairsError(f"{where}: a pair needs two different words, found {a!r} twice")
        if allowed is not None and category not in allowed:
            raise PairsError(f"{where}: unknown category {category!r}; known: {', '.join(allowed)}")
        if pos not in POS:
            raise PairsError(f"{where}: unknown part of speech {pos!r}; use one of {', '.join(POS)}")
        key = frozenset((a, b))
        if key in seen:
            warnings.warn(
                f"{where}: duplicate pair {a}/{b} (first on line {seen[key]}); keeping the first", stacklevel=2
            )
            continue
        seen[key] = line
        pairs.append(
            DualPair(
                a=a,
                b=b,
                category=category,
                source="curated",
                pos=pos,
                a_other_duals=_split(a_other),
                b_other_duals=_split(b_other),
            )
        )
    return pairs


def _split(cell: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in cell.split(";") if w.strip())

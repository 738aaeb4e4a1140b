"""Bring your own pairs: a CSV table (`a,b` required; `category`, `pos`, `a_other_duals`,
`b_other_duals`, `note` optional, in any order) or a JSON list of `{"input": ..., "output": ...}`
objects (the format of common antonym sets), read into `DualPair`s with source `user`.

A pair with a curated category takes that category's templates; one without takes its part of
speech's generic templates (n, v, a, r), and every pair takes the few-shot templates. Problems
are one line naming the file and the line (CSV) or the entry (JSON), as for the curated table.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from duality_bench.data.pairs.curated import POS, WORDS
from duality_bench.data.pairs.table import PairsError, check_word, check_words, other_duals, read_records, read_text
from duality_bench.data.records import DualPair

COLUMNS = ("a", "b", "category", "pos", "a_other_duals", "b_other_duals", "note")
REQUIRED = ("a", "b")
CATEGORY = "user"  # the category of a pair that names none


def read_user_pairs(path: str | Path, categories: tuple[str, ...] = ()) -> list[DualPair]:
    """The pairs of a user's CSV or JSON file; `categories` are the curated ones a row may name."""
    path = Path(path)
    is_json = path.suffix.lower() == ".json"
    rows = _json_rows(path) if is_json else read_records(path, COLUMNS, REQUIRED, "pairs file", WORDS)
    pairs: list[DualPair] = []
    seen: dict[frozenset[str], str] = {}
    for where, row in rows:
        a, b = row.get("a", ""), row.get("b", "")
        key = check_words(where, a, b)
        category, pos = row.get("category") or CATEGORY, row.get("pos", "")
        if category != CATEGORY and category not in categories:
            raise PairsError(
                f"{where}: unknown category {category!r}; leave it empty or use one of {', '.join(categories)}"
            )
        if pos and pos not in POS:
            raise PairsError(f"{where}: unknown part of speech {pos!r}; leave it empty or use one of {', '.join(POS)}")
        if key in seen:
            warnings.warn(
                f"{where}: duplicate pair {a}/{b} (first at {seen[key]}); keeping the first, delete this row",
                stacklevel=2,
            )
            continue
        seen[key] = where.rsplit(":", 1)[-1]
        others = tuple(
            other_duals(where, w, d, row.get(f"{side}_other_duals", "")) for w, d, side in ((a, b, "a"), (b, a, "b"))
        )
        pairs.append(DualPair(a, b, category, "user", pos, *others))
    if not pairs:
        raise PairsError(f"{path}: no pairs; give at least one row with both words")
    return pairs


def _json_rows(path: Path) -> list[tuple[str, dict[str, str]]]:
    try:
        data = json.loads(read_text(path, "pairs file"))
    except json.JSONDecodeError as e:
        raise PairsError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(data, list):
        raise PairsError(f'{path}: expected a JSON list of {{"input": ..., "output": ...}} objects')
    rows = []
    for n, entry in enumerate(data):
        where = f"{path}:entry {n}"
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("input", "output")):
            raise PairsError(f'{where}: expected {{"input": "word", "output": "its dual"}}, found {str(entry)[:60]}')
        rows.append(
            (
                where,
                {"a": check_word(where, "input", entry["input"]), "b": check_word(where, "output", entry["output"])},
            )
        )
    return rows

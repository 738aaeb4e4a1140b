"""The items file: per-item scores (jsonl) beside the results JSON, and the resume file.

It starts with a header line naming what the run is (model, dataset digest, scoring), then one
line per scored item, appended and flushed batch by batch, so a run that dies keeps everything
it scored. When the run ends it is rewritten in dataset order.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, fields
from pathlib import Path
from typing import Any

from duality_bench.results import ItemScore, ResultsError, atomic_write

SCORE_FIELDS = tuple(f.name for f in fields(ItemScore))
# Fields with a default came later (control, related, calibrated): older files' lines lack them.
REQUIRED_FIELDS = frozenset(f.name for f in fields(ItemScore) if f.default is MISSING)


def items_path(result_path: str | Path) -> Path:
    p = Path(result_path)
    return p.with_name(p.stem + ".items.jsonl")


def read_items_file(path: str | Path) -> tuple[dict[str, Any], list[ItemScore]]:
    """(header, scores) of an items file. A torn last line (a crash mid-write) is dropped;
    any other bad line is an error naming the file and line."""
    path = Path(path)
    try:
        # JSON Lines end at \n alone: a U+2028 inside a string is not a line end (str.splitlines says it is)
        lines = path.read_text(encoding="utf-8").removesuffix("\n").split("\n")
        lines = [] if lines == [""] else [line.removesuffix("\r") for line in lines]
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not an items file (not UTF-8 text); delete it or run without --resume") from None
    if not lines:
        raise ResultsError(f"{path}: empty items file; delete it or run without --resume")
    try:
        header = json.loads(lines[0])
        if not isinstance(header, dict) or "fingerprint" not in header:
            raise ValueError("no fingerprint")
    except ValueError:
        raise ResultsError(f"{path}:1: not a duality-bench items file header; delete it to start over") from None
    scores = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            row = json.loads(line)
            scores.append(ItemScore(**{k: row[k] for k in SCORE_FIELDS if k in row or k in REQUIRED_FIELDS}))
        except (ValueError, KeyError, TypeError) as e:
            if n == len(lines) and not line.endswith("}"):
                break  # torn final write: the batch is simply scored again
            raise ResultsError(f"{path}:{n}: corrupt score line ({type(e).__name__}); fix or delete the line") from None
    return header, scores


def score_line(score: ItemScore) -> str:
    return json.dumps(asdict(score)) + "\n"


def write_items_file(path: str | Path, header: dict[str, Any], scores: list[ItemScore]) -> None:
    atomic_write({Path(path): json.dumps(header) + "\n" + "".join(score_line(s) for s in scores)})

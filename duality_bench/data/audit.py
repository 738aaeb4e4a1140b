"""The hand audit: a seeded sample of items, each read by a fluent speaker and given a verdict.

`data/hand_audit.csv` (columns: id, group, verdict, note) is written by hand from the sample that
`scripts/audit_sample.py` draws (`audit_sample`); the dataset card counts its verdicts and a
test checks that every id it names exists.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from duality_bench.data.pairs.table import PairsError, read_rows
from duality_bench.data.records import PromptItem

COLUMNS = ("id", "group", "verdict", "note")
SEED = 2026  # the committed sample's seed: 40 curated and 60 WordNet core items of `all`
VERDICTS = ("good", "questionable", "bad")


@dataclass(frozen=True)
class AuditEntry:
    id: str  # an item id of config `all`
    group: str  # the sample it was drawn for: "curated" or "wordnet"
    verdict: str  # good | questionable | bad
    note: str  # why, for anything but good


def read_audit(path: str | Path) -> list[AuditEntry]:
    """The audit file's entries; a bad verdict or a repeated id is one line naming the file and line."""
    entries, seen = [], set()
    for where, (item_id, group, verdict, note) in read_rows(path, COLUMNS, "hand audit"):
        if verdict not in VERDICTS:
            raise PairsError(f"{where}: verdict {verdict!r}; use one of {', '.join(VERDICTS)}")
        if item_id in seen:
            raise PairsError(f"{where}: item {item_id!r} is audited twice")
        seen.add(item_id)
        entries.append(AuditEntry(item_id, group, verdict, note))
    return entries


def audit_sample(items: Sequence[PromptItem], source: str, n: int, seed: int) -> list[PromptItem]:
    """`n` items of `source` (curated or wordnet), drawn with `seed`, in id order."""
    pool = sorted((i for i in items if i.source == source), key=lambda i: i.id)
    return sorted(random.Random(seed).sample(pool, min(n, len(pool))), key=lambda i: i.id)

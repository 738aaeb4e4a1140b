"""Which items of a dataset config a run takes: the one selection `evaluate`, `analyze` and
`find_circuit` share (categories, pair ids, directions, template ids, then the first `limit`).

A filter left empty keeps everything; a filter that names something the config does not hold is
a one-line error with the close matches, and so is a selection that keeps nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duality_bench.data.dataset import first_items, load_items
from duality_bench.data.records import DIRECTIONS, PromptItem
from duality_bench.errors import DualityBenchError


@dataclass(frozen=True)
class Selection:
    config: str = "curated"  # the dataset config: curated, wordnet, wordnet-full or all
    dataset_dir: Path | None = None  # default: the packaged dataset
    categories: tuple[str, ...] = ()  # empty: every category
    pairs: tuple[str, ...] = ()  # pair ids ("left-right"), kept in this order; empty: every pair
    directions: tuple[str, ...] = DIRECTIONS
    templates: tuple[str, ...] = ()  # template ids; empty: all
    limit: int | None = None  # at most this many items (after the filters above)


def select_items(selection: Selection | Any, items: Sequence[PromptItem] | None = None) -> list[PromptItem]:
    """The items `selection` asks for, from `items` (default: its dataset config's). A run's config
    (`EvalConfig`, `AnalysisConfig`, `CircuitConfig`) stands for the `Selection` it holds."""
    selection = getattr(selection, "selection", selection)
    pool = list(items) if items is not None else load_items(selection.config, selection.dataset_dir)
    bad = [d for d in selection.directions if d not in DIRECTIONS]
    if bad:
        raise DualityBenchError(f"unknown direction {bad[0]!r}; choose from {', '.join(DIRECTIONS)}")
    if selection.categories:
        known = sorted({i.category for i in pool})
        unknown = [c for c in selection.categories if c not in known]
        if unknown:
            raise DualityBenchError(
                f"unknown categories {unknown} in dataset config {selection.config!r}; known: {', '.join(known)}"
            )
        pool = [i for i in pool if i.category in selection.categories]
    if selection.pairs:
        pool = _by_pair(pool, selection)
    pool = [i for i in pool if i.direction in selection.directions]
    if selection.templates:
        pool = [i for i in pool if i.template_id in selection.templates]
    pool = first_items(pool, selection.limit)
    if not pool:
        raise DualityBenchError(
            "no items selected: no dataset items match the chosen categories, pairs, directions and templates; "
            "loosen --limit or the filters"
        )
    return pool


def _by_pair(pool: list[PromptItem], selection: Selection) -> list[PromptItem]:
    known = {i.pair_id for i in pool}
    for pair in selection.pairs:
        if pair not in known:
            close = difflib.get_close_matches(pair, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; pair ids look like 'left-right'"
            raise DualityBenchError(f"no pair {pair!r} in the {selection.config!r} dataset{hint}")
    order = {p: n for n, p in enumerate(selection.pairs)}
    return sorted((i for i in pool if i.pair_id in order), key=lambda i: order[i.pair_id])


@dataclass(frozen=True)
class PairFilters:
    """The item fields `analyze` and `find_circuit` share (their configs extend it): which prompt pairs."""

    pairs: tuple[str, ...] = ("left-right",)  # pair ids ("left-right"); empty: every pair of the dataset
    dataset: str = "curated"  # the dataset config: curated, wordnet or all
    dataset_dir: Path | None = None  # default: the packaged dataset
    directions: tuple[str, ...] = DIRECTIONS
    templates: tuple[str, ...] = ()  # template ids; empty: all
    limit: int | None = None  # at most this many items (after the filters above)

    @property
    def selection(self) -> Selection:
        return Selection(self.dataset, self.dataset_dir, (), self.pairs, self.directions, self.templates, self.limit)

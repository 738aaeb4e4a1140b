"""Circuits over several models and pair sets: one folder per run, `OUT/<model>/<set>-<method>`,
then one comparison of them all (`comparison.md`, `curves.png`) in OUT.

Each model is loaded once. A run whose folder already holds a `metrics.json` of the same pairs,
dataset, method, steps, selection and fractions is kept, not recomputed, so an interrupted sweep
resumes where it stopped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from duality_bench.circuits.comparison import compare_circuits
from duality_bench.circuits.faithfulness import check_fractions
from duality_bench.circuits.metrics import MetricsError, read_metrics
from duality_bench.circuits.pipeline import find_circuit
from duality_bench.circuits.result import CircuitConfig
from duality_bench.data.selection import select_items
from duality_bench.errors import DualityBenchError
from duality_bench.models.loading import as_loaded

NAME = re.compile(r"[A-Za-z0-9._+-]+")


@dataclass(frozen=True)
class PairSet:
    """Pairs studied together under one folder name."""

    name: str
    pairs: tuple[str, ...]  # empty: every pair


def parse_pair_set(spec: str) -> PairSet:
    """`left-right`, `four=left-right,up-down,me-you,right-wrong` or `all`."""
    name, _, ids = spec.rpartition("=") if "=" in spec else ("", "", spec)
    pairs = tuple(x.strip() for x in ids.split(",") if x.strip())
    if not pairs:
        raise DualityBenchError(f"pair set {spec!r} names no pair; write ids such as left-right,up-down")
    pairs = () if pairs == ("all",) else pairs
    name = name.strip() or "+".join(pairs) or "all"
    if not NAME.fullmatch(name) or name in (".", ".."):
        raise DualityBenchError(f"pair set name {name!r} is not a folder name; use letters, digits, '.', '_', '+', '-'")
    return PairSet(name, pairs)


def run_folder(out: Path, model: str, pair_set: PairSet, config: CircuitConfig) -> Path:
    name = model.rstrip("/").replace("\\", "/").split("/")[-1]
    return out / name / f"{pair_set.name}-{config.method}{'-greedy' if config.greedy else ''}"


def sweep_circuits(
    models: Sequence[str], pair_sets: Sequence[PairSet], config: CircuitConfig, out: str | Path
) -> tuple[list[Path], Path | None]:
    """Run `find_circuit` for every model and pair set; returns the run folders and the
    comparison report (None when there is only one run). Every pair set is checked, and the run
    folders shown distinct, before any model loads."""
    out = Path(out)
    plan = [(m, s, run_folder(out, m, s, config)) for m in models for s in pair_sets]
    seen: dict[Path, str] = {}
    for model, pair_set, folder in plan:
        if folder in seen:
            raise DualityBenchError(
                f"{seen[folder]} and {model} {pair_set.name} would share the folder {folder}; "
                "give models with different folder names and pair sets different names"
            )
        seen[folder] = f"{model} {pair_set.name}"
    for pair_set in pair_sets:
        select_items(replace(config, pairs=pair_set.pairs).selection)
    folders = []
    for model in models:
        loaded = None
        for pair_set in pair_sets:
            folder = run_folder(out, model, pair_set, config)
            run = replace(config, pairs=pair_set.pairs, out=folder)
            if not _done(folder, run):
                (folder / "metrics.json").unlink(missing_ok=True)  # the folder is complete again only when rewritten
                loaded = loaded or as_loaded(model, device=config.device, dtype=config.dtype)
                find_circuit(loaded, run)
            folders.append(folder)
    report = compare_circuits(folders, out, figures=config.figures) if len(folders) > 1 else None
    return folders, report


def _done(folder: Path, config: CircuitConfig) -> bool:
    """The folder holds a finished run of this config (its metrics.json is written last)."""
    try:
        m = read_metrics(folder / "metrics.json")
    except (MetricsError, FileNotFoundError):
        return False
    return (
        tuple(m.pairs) == config.pairs
        and m.dataset == config.dataset
        and m.method == config.method
        and (m.steps == config.steps or m.method != "eap-ig")
        and m.greedy == config.greedy
        and m.level == config.level
        and (m.spearman is not None) == config.exact_nodes
        and tuple(p.percent for p in m.by_score) == check_fractions(config.fractions)
        and m.limit == config.limit
    )

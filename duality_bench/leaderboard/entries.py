"""Results files -> leaderboard entries: collect and validate them, then rank them.

`collect` reads every `*.json` results file under the results folder
(`<org__model>/<dataset config>.json`; the `*.items.jsonl` score files beside them are not
results). A file that cannot be used is reported in one line and skipped; a result scored on
another build of the dataset, on part of it, or on items outside it is listed apart with the
reason, never mixed into the ranking.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from duality_bench.data.dataset import DatasetError, load_items
from duality_bench.data.dataset import dataset_dir as packaged_dataset
from duality_bench.display import visible
from duality_bench.errors import DualityBenchError
from duality_bench.headlines import Stability
from duality_bench.leaderboard.headline import HEADLINE
from duality_bench.results import REFERENCE_PREFIX, Metrics, ResultsError, RunResult, load_result
from duality_bench.statistics import rank_ranges

CONFIG_ORDER = ("all", "curated", "wordnet", "wordnet-full")  # the order config sections appear in

# Rank ranges bootstrap every two real rows of a section (about 30 ms each): 190 comparisons at 20
# rows, 500,000 at 1,000. Above this many rows the rank cells are plain positions, and the pages say so.
RANK_RANGE_MAX_ROWS = 20

# Reference rows: what they are and why they are there. Made by `duality-bench baselines`.
REFERENCES = {
    "baseline/random-gpt2-small": (
        "Chance: GPT-2 Small's architecture (transformers' GPT2Config(), 124M parameters) with random "
        "weights from a fixed seed and GPT-2's real tokenizer, evaluated exactly like every other model. "
        "It knows nothing about language, so it shows what the metrics read when nothing is known; "
        "a model near this row has learned nothing about duality."
    ),
    "baseline/frequency": (
        "Word frequency: a unigram model that scores each word by its English frequency (the wordfreq "
        "package) and never looks at the prompt, so it always prefers the more frequent word of a pair. "
        "It scores every pair right in one direction and wrong in the other, so its accuracy is about "
        "0.5 and its asymmetry is as large as it gets: a model whose asymmetry approaches this row's "
        "is answering from word frequency rather than from the cue. Calibration (less each word's score after "
        "the neutral prompt) leaves it nothing: its calibrated comparisons are all ties (0.5)."
    ),
    "baseline/copy": (
        "Copy: always prefers the cue, the word it just read, and has no preference among other words. "
        "It scores 0 on the dual above the cue and a tie (0.5) on the dual above the control and the related "
        "word: the gap between a model's numbers shows how much of its score is knowing the dual rather than "
        "not copying."
    ),
}


class LeaderboardError(DualityBenchError):
    """A results folder or output folder the leaderboard cannot use."""


@dataclass(frozen=True)
class Entry:
    """One usable results file."""

    result: RunResult
    link: str  # the results file, relative to the output folder (posix)
    status: str  # current | stale | partial | unverified
    note: str = ""  # why a non-current entry is not ranked
    path: Path | None = None  # the results file as found; its items file is beside it

    @property
    def model_id(self) -> str:
        return self.result.model.id

    @property
    def dataset(self) -> str:
        """The dataset config the result was scored on."""
        return self.result.dataset.config

    @property
    def reference(self) -> str | None:
        """The explanation of a reference row, or None for a real model."""
        if not self.model_id.startswith(REFERENCE_PREFIX):
            return None
        return REFERENCES.get(self.model_id, "A reference row (not a trained model's result).")

    @property
    def metrics(self) -> Metrics:
        return self.result.metrics


@dataclass(frozen=True)
class Leaderboard:
    """What a build read and wrote."""

    entries: tuple[Entry, ...]  # ranked entries first (per config), then the others
    problems: tuple[str, ...]  # one line per skipped file
    current: dict[str, str]  # dataset config -> sha256 of its current parquet file
    markdown: Path
    html: Path
    sections: dict[str, tuple[Entry, ...]] = field(default_factory=dict)  # config -> ranked entries
    headlines: dict[str, list[Stability]] = field(default_factory=dict)  # config -> the candidates compared
    headline_notes: dict[str, str] = field(default_factory=dict)  # config -> why its candidates were not compared
    # config -> `ranks` of its section, made once by the build (the bootstrap is too slow to repeat per page)
    rank_cells: dict[str, list[str]] = field(default_factory=dict)

    @property
    def unranked(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.status != "current")

    @property
    def references(self) -> list[tuple[str, str]]:
        """(model id, explanation) of each reference row, sorted; the same in both pages."""
        return sorted({(e.model_id, e.reference) for e in self.entries if e.reference})


def current_dataset(dataset_dir: Path | None = None) -> dict[str, str]:
    """Dataset config -> sha256 of its parquet file, from the dataset folder's sha256sums.txt."""
    folder = Path(dataset_dir) if dataset_dir else packaged_dataset()
    sums = folder / "sha256sums.txt"
    try:
        lines = sums.read_text(encoding="utf-8").split("\n")
    except OSError as e:
        raise LeaderboardError(
            f"cannot read {sums} ({e.strerror}); rebuild the dataset with `duality-bench build`"
        ) from None
    known = {}
    for line in lines:
        digest, _, rel = line.strip().partition("  ")
        if rel.endswith("/test.parquet"):
            known[rel.split("/")[0]] = digest
    if not known:
        raise LeaderboardError(
            f"{sums} lists no dataset files; rebuild the dataset with `duality-bench build`"
        ) from None
    return known


def collect(results_dir: Path, out: Path, current: dict[str, str]) -> tuple[list[Entry], list[str]]:
    """Every results file under `results_dir` as an Entry, and one line per file that is not usable."""
    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[tuple[str, ...], str] = {}
    for path in sorted(results_dir.rglob("*.json")):
        if not path.is_file():
            continue
        shown = _one_line(path.relative_to(results_dir).as_posix())
        try:
            result = load_result(path)
            check_rankable(result)
        except ResultsError as e:
            problems.append(f"skipped {shown}: {_one_line(str(e).removeprefix(f'{path}: '))}")
            continue
        model, ds = result.model, result.dataset
        key = (model.id, str(model.revision), ds.config, str(ds.sha256))
        if key in seen:
            problems.append(f"skipped {shown}: same model, revision and dataset build as {seen[key]}")
            continue
        seen[key] = shown
        status, note = dataset_status(result, current)
        link = Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()
        entries.append(Entry(result=result, link=link, status=status, note=note, path=path))
    return entries, problems


def check_rankable(result: RunResult) -> None:
    """The numbers a ranked row shows must be there (the file's types and ranges are already checked)."""
    for name in sorted({"duality_score", "duality_accuracy", "logit_diff", HEADLINE.metric}):
        if getattr(result.metrics, name) is None:
            raise ResultsError(f"results file has no number for metrics.{name}")
    if result.metrics.n < 1:
        raise ResultsError("results file has no scored items (metrics.n)")


def dataset_status(result: RunResult, current: dict[str, str]) -> tuple[str, str]:
    """(current | stale | partial | unverified, why it is not ranked)."""
    ds, run = result.dataset, result.options
    name, sha = ds.config, ds.sha256
    if ds.name != "duality-pairs" or name not in current:
        return "unverified", f"dataset {ds.name}:{name} is not a config of this dataset"
    if not sha:
        return "unverified", "scored on items given directly, not on a dataset file (no dataset sha256)"
    if sha != current[name]:
        return "stale", f"scored on an older dataset build (sha256 {str(sha)[:12]}, current {current[name][:12]})"
    if run.limit or run.categories:
        return "partial", "scored on part of the dataset (--limit or --category)"
    return "current", ""


def rank(entries: list[Entry]) -> dict[str, tuple[Entry, ...]]:
    """Current entries per dataset config, best headline first (then duality score, logit difference)."""
    by_config: dict[str, list[Entry]] = {}
    for e in entries:
        if e.status == "current":
            by_config.setdefault(e.dataset, []).append(e)
    order = sorted(by_config, key=lambda c: (CONFIG_ORDER.index(c) if c in CONFIG_ORDER else len(CONFIG_ORDER), c))

    def key(e: Entry) -> tuple:
        m = e.metrics
        return (-HEADLINE.value(m), -m.duality_score, -m.logit_diff, e.model_id, str(e.result.model.revision))

    return {c: tuple(sorted(by_config[c], key=key)) for c in order}


def ranks(section: tuple[Entry, ...]) -> list[str]:
    """Rank cells for a ranked section, best first; reference rows get none ("ref").

    A rank is a range ("1–2") where a paired bootstrap over pairs within categories cannot tell
    the row from its neighbours (`evaluation.statistics.rank_ranges`), so ranks the data do not
    separate show as shared; a single number where it can (and, past RANK_RANGE_MAX_ROWS real
    rows, everywhere: see `rank_note`)."""
    real = [e for e in section if e.reference is None]
    ranges = _rank_ranges(real) if len(real) <= RANK_RANGE_MAX_ROWS else {}
    out, n = [], 0
    for e in section:
        if e.reference is not None:
            out.append("ref")
            continue
        n += 1
        lo, hi = ranges.get(id(e), (n, n))
        out.append(str(lo) if lo == hi else f"{lo}–{hi}")
    return out


def _rank_ranges(real: list[Entry]) -> dict[int, tuple[int, int]]:
    """Entry id -> (best, worst) rank, from each row's per-pair scores; empty where they cannot be read."""
    if len(real) < 2:
        return {}
    import pandas as pd

    try:
        category = {i.pair_id: i.category for i in load_items(real[0].result.dataset.config)}
    except DatasetError:
        return {}
    tables = {}
    for e in real:
        rows = [
            (category.get(pair), pair, getattr(r, HEADLINE.pair_field) * r.n, r.n)
            for pair, r in e.result.breakdowns.get("pair", {}).items()
            if getattr(r, HEADLINE.pair_field) is not None
        ]
        if not rows or any(c is None for c, *_ in rows):
            return {}
        tables[id(e)] = pd.DataFrame(rows, columns=["category", "pair_id", "sum", "n"]).sort_values(
            ["category", "pair_id"], ignore_index=True
        )
    try:
        return rank_ranges(tables, seed=0, by=HEADLINE.by)
    except ValueError:  # rows scored on different items: no paired comparison
        return {}


def rank_note(section: tuple[Entry, ...]) -> str:
    """What the pages say under a section whose ranks are positions only; "" where ranges were sought."""
    real = sum(e.reference is None for e in section)
    if real <= RANK_RANGE_MAX_ROWS:
        return ""
    return (
        f"Ranks are positions: with {real} ranked models (more than {RANK_RANGE_MAX_ROWS}) the paired bootstrap "
        "between every two rows, which shows ranks the data cannot separate as shared, is not run."
    )


def short_name(model_id: str) -> str:
    """A row's name in narrow places (a plot label, a table column): reference rows lose their prefix;
    hidden characters show as escapes."""
    return visible(model_id.removeprefix(REFERENCE_PREFIX))


def categories(section: tuple[Entry, ...]) -> list[str]:
    return sorted({c for e in section for c in e.result.breakdowns.get("category", {})})


def _one_line(text: str) -> str:
    return " ".join(text.split())

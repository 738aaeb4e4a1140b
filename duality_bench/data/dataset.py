"""Build the Hugging Face dataset folder (parquet + card) and load it back, offline.

The folder `data/duality-pairs/` holds one parquet file per config (`curated`; `wordnet`, the
vetted core; `wordnet-full`; `all` = curated + the core), a README.md dataset card whose YAML
`configs:` lets `datasets.load_dataset(folder, config)` read it, and `sha256sums.txt`. The same
folder ships inside the wheel, so evaluation never needs the hub. Files are written with
pyarrow directly: same input, same bytes.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from duality_bench.data.fewshot import FEW_SHOT_TEMPLATES, FewShotTemplate
from duality_bench.data.records import PromptItem
from duality_bench.data.templates import TEMPLATES, Template
from duality_bench.errors import DualityBenchError
from duality_bench.provenance import file_sha256

DATASET_NAME = "duality-pairs"
HUB_REPO_ID = "duality-bench/duality-pairs"
CONFIGS = ("curated", "wordnet", "wordnet-full", "all")
USER_CONFIG = "user"  # the one config of a dataset built from a user's pairs (`build --pairs`)
DEFAULT_CONFIG = "all"
SPLIT = "test"
LIST_FIELDS = ("other_duals", "target_other_duals", "tags")
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "_data"  # where the wheel puts the built dataset
CHECKOUT_DATA = Path(__file__).resolve().parents[2] / "data"  # a source checkout's copy


class DatasetError(DualityBenchError, ValueError):
    """A dataset that cannot be built or loaded."""


@dataclass(frozen=True)
class BuildConfig:
    """Inputs and output of `build_dataset`; paths are relative to the working directory (a checkout)."""

    curated_path: Path = Path("data/curated_pairs.csv")
    wordnet_path: Path = Path("data/wordnet_pairs.csv")
    relations_path: Path = Path("data/wordnet_relations.csv")  # WordNet's relatives of every word: the foils
    excluded_path: Path = Path("data/wordnet_excluded.csv")  # pairs a reader found no everyday opposites
    out_dir: Path = Path("data") / DATASET_NAME
    # a tokenizer whose fit is reported in the card: GPT-2's, which the checkout carries
    tokenizer: str | None = "data/gpt2-tokenizer"
    templates: tuple[Template, ...] = field(default=TEMPLATES, repr=False)
    few_shot: tuple[FewShotTemplate, ...] = field(default=FEW_SHOT_TEMPLATES, repr=False)
    # a results folder whose per-template numbers the card lists (`build --audit`); none by default,
    # so a build reads no results
    audit: Path | None = None
    pairs_path: Path | None = None  # a user's pairs (CSV or JSON): build only those, as config `user`
    hand_audit: Path | None = Path("data/hand_audit.csv")  # the committed hand audit the card summarises
    # The card's comparison of headline candidates, made above this stage from per-item results:
    # (row -> results file scored on this build of `all`, the built folder) -> markdown lines.
    headline_table: Callable[[Mapping[str, Path], Path], list[str]] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class BuildSummary:
    out_dir: Path
    pairs: dict[str, int]  # per config
    items: dict[str, int]  # per config
    categories: dict[str, tuple[int, int, int]]  # category -> (pairs, templates, items)
    sha256: dict[str, str]  # relative file -> digest
    tags: dict[str, int] = field(default_factory=dict)  # WordNet tag -> pairs of the full table
    tokenizer_report: dict[str, dict[str, int]] | None = None
    foils: dict[str, tuple[int, int]] = field(
        default_factory=dict
    )  # config -> items with a control, with a related word
    near_sense_rule: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # core pairs kept / dropped closest to the rule

    def table(self) -> str:
        rows = [f"{'category':<20} {'pairs':>6} {'templates':>9} {'items':>7}"]
        for cat, (p, t, i) in self.categories.items():
            rows.append(f"{cat:<20} {p:>6} {t:>9} {i:>7}")
        rows.append("")
        rows.append("  ".join(f"{c}: {n} items" for c, n in self.items.items()))
        return "\n".join(rows)


# --- files -------------------------------------------------------------------------------


def features() -> Any:
    """The dataset's `datasets.Features`, one column per PromptItem field."""
    from datasets import Features, List, Value

    cols = {f.name: Value("string") for f in fields(PromptItem)}
    for name in LIST_FIELDS:
        cols[name] = List(Value("string"))
    return Features(cols)


def write_parquet(items: list[PromptItem], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{**asdict(i), **{name: list(getattr(i, name)) for name in LIST_FIELDS}} for i in items]
    table = pa.Table.from_pylist(rows, schema=features().arrow_schema)
    pq.write_table(table, path, compression="zstd")


def first_items(items: list[PromptItem], limit: int | None) -> list[PromptItem]:
    """The first `limit` items (all of them when None): what `--limit` selects, everywhere."""
    if limit is None:
        return items
    if limit < 1:
        raise DatasetError(f"--limit must be at least 1, got {limit}")
    return items[:limit]


def items_digest(items: list[PromptItem]) -> str:
    """sha256 of the items themselves: what a run scored, whatever file they came from."""
    h = hashlib.sha256()
    for item in items:
        h.update(json.dumps(asdict(item), sort_keys=True).encode())
    return h.hexdigest()


def dataset_sha256(config: str = DEFAULT_CONFIG, folder: str | Path | None = None) -> str:
    """sha256 of one config's parquet file: which build of the dataset a run scored."""
    path = parquet_path(config, folder)
    try:
        return file_sha256(path)
    except OSError as e:
        raise DatasetError(
            f"cannot read dataset file {path} ({e.strerror}); rebuild with `duality-bench build`"
        ) from None


def dataset_dir() -> Path:
    """The dataset folder that ships with the package (or the checkout's `data/` copy)."""
    for candidate in (PACKAGE_DATA / DATASET_NAME, CHECKOUT_DATA / DATASET_NAME):
        if (candidate / "README.md").exists():
            return candidate
    raise DatasetError(f"no built dataset found next to the package; run `duality-bench build` (looked in {candidate})")


def pair_table(name: str) -> Path:
    """A pair table (`curated_pairs.csv`, `wordnet_pairs.csv`) that ships with the package (or the checkout's)."""
    for candidate in (PACKAGE_DATA / name, CHECKOUT_DATA / name):
        if candidate.is_file():
            return candidate
    raise DatasetError(f"no pair table {name} next to the package (looked in {candidate}); reinstall duality-bench")


def check_config(name: str) -> str:
    known = (*CONFIGS, USER_CONFIG)
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise DatasetError(f"unknown config {name!r}; {hint}choose one of {', '.join(known)}")


def parquet_path(config: str = DEFAULT_CONFIG, folder: str | Path | None = None) -> Path:
    return Path(folder or dataset_dir()) / check_config(config) / f"{SPLIT}.parquet"


def load_items(config: str = DEFAULT_CONFIG, folder: str | Path | None = None) -> list[PromptItem]:
    """The items of one config as PromptItem records, read straight from parquet (fast, offline)."""
    import pyarrow.parquet as pq

    path = parquet_path(config, folder)
    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, ValueError) as e:
        why = e.strerror or "" if isinstance(e, OSError) else str(e)
        why = why or ("no such file" if isinstance(e, FileNotFoundError) else type(e).__name__)
        raise DatasetError(f"cannot read dataset file {path} ({why}); rebuild with `duality-bench build`") from None
    return [PromptItem(**{**r, **{name: tuple(r[name]) for name in LIST_FIELDS}}) for r in rows]


def load(config: str = DEFAULT_CONFIG, repo_id: str | None = None) -> Any:
    """The test split as a `datasets.Dataset`: the packaged copy, or `repo_id` from the hub."""
    from datasets import load_dataset

    if repo_id:
        return load_dataset(repo_id, check_config(config), split=SPLIT)
    # The parquet builder keys its cache on the file itself; a dataset folder's cache is keyed on
    # its name and config only, so after a rebuild it would hand back the previous build.
    path = str(parquet_path(config))
    return load_dataset("parquet", data_files={SPLIT: path}, split=SPLIT, features=features())

"""Build the Hugging Face dataset folder (parquet + card) and load it back, offline.

The folder `data/duality-pairs/` holds one parquet file per config (`curated`; `wordnet`, the
vetted core; `wordnet-full`; `all` = curated + the core), a README.md dataset card whose YAML
`configs:` lets `datasets.load_dataset(folder, config)` read it, and `sha256sums.txt`. The same
folder ships inside the wheel, so evaluation never needs the hub. Files are written with
pyarrow directly: same input, same bytes.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from duality_bench.errors import DualityBenchError
from duality_bench.fewshot import FEW_SHOT_TEMPLATES, FewShotTemplate, demonstration_pool, render_few_shot
from duality_bench.pairs.curated import read_curated
from duality_bench.records import DualPair, PromptItem
from duality_bench.templates import TEMPLATES, Template, TemplateError, categories, check_template, render

DATASET_NAME = "duality-pairs"
HUB_REPO_ID = "duality-bench/duality-pairs"
CONFIGS = ("curated", "wordnet", "wordnet-full", "all")
DEFAULT_CONFIG = "all"
SPLIT = "test"
LIST_FIELDS = ("other_duals", "target_other_duals", "tags")
REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"


class DatasetError(DualityBenchError, ValueError):
    """A dataset that cannot be built or loaded."""


@dataclass(frozen=True)
class BuildConfig:
    curated_path: Path = DATA_DIR / "curated_pairs.csv"
    wordnet_path: Path = DATA_DIR / "wordnet_pairs.csv"
    out_dir: Path = DATA_DIR / DATASET_NAME
    # a tokenizer whose fit is reported in the card: GPT-2's, which the checkout carries
    tokenizer: str | None = str(DATA_DIR / "gpt2-tokenizer") if (DATA_DIR / "gpt2-tokenizer").is_dir() else None
    templates: tuple[Template, ...] = field(default=TEMPLATES, repr=False)
    few_shot: tuple[FewShotTemplate, ...] = field(default=FEW_SHOT_TEMPLATES, repr=False)
    audit: Path | None = REPO_ROOT / "leaderboard" / "results"  # results whose per-template numbers the card lists


@dataclass(frozen=True)
class BuildSummary:
    out_dir: Path
    pairs: dict[str, int]  # per config
    items: dict[str, int]  # per config
    categories: dict[str, tuple[int, int, int]]  # category -> (pairs, templates, items)
    sha256: dict[str, str]  # relative file -> digest
    tags: dict[str, int] = field(default_factory=dict)  # WordNet tag -> pairs of the full table
    tokenizer_report: dict[str, dict[str, int]] | None = None

    def table(self) -> str:
        rows = [f"{'category':<20} {'pairs':>6} {'templates':>9} {'items':>7}"]
        for cat, (p, t, i) in self.categories.items():
            rows.append(f"{cat:<20} {p:>6} {t:>9} {i:>7}")
        rows.append("")
        rows.append("  ".join(f"{c}: {n} items" for c, n in self.items.items()))
        return "\n".join(rows)


def build_dataset(config: BuildConfig | None = None) -> BuildSummary:
    """Read the pair tables, render every template in both directions, write the folder."""
    from duality_bench.controls import add_controls, dual_sets, word_pool
    from duality_bench.pairs.tags import in_core_by_names, is_affix_pair

    config = config or BuildConfig()
    for t in config.templates:
        check_template(t)
    curated = read_curated(config.curated_path, categories=categories(config.templates))
    full = _read_wordnet(config.wordnet_path)
    _check_named_pairs(config.templates, curated + full)
    core = [p for p in full if in_core_by_names(p.tags, p.zipf)]
    curated_words = {frozenset((p.a.lower(), p.b.lower())) for p in curated}
    pairs = {
        "curated": curated,
        "wordnet": core,
        "wordnet-full": full,
        # a pair both tables hold is the curated one, in its curated category
        "all": curated + [p for p in core if frozenset((p.a.lower(), p.b.lower())) not in curated_words],
    }
    zipf = word_frequencies(curated + full)
    demos = demonstration_pool(curated, is_affix_pair)
    pool, duals = word_pool(curated + core, zipf), dual_sets(curated + full)
    by_config = {
        name: add_controls(
            merge_duplicates(render_items(ps, config.templates, demos, config.few_shot, duals), zipf), pool, duals, zipf
        )
        for name, ps in pairs.items()
    }
    for name, items in by_config.items():
        check_unique_prompts(items, name)

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name, items in by_config.items():
        rel = f"{name}/{SPLIT}.parquet"
        (out / name).mkdir(exist_ok=True)
        _write_parquet(items, out / rel)
        digests[rel] = file_sha256(out / rel)
    report = None
    if config.tokenizer:
        from duality_bench.vocabulary import load_tokenizer, report_tokenizer

        tok = load_tokenizer(config.tokenizer)
        report = {name: report_tokenizer(tok, items).as_row() for name, items in by_config.items()}
    summary = BuildSummary(
        out_dir=out,
        pairs={name: len(ps) for name, ps in pairs.items()},
        items={name: len(items) for name, items in by_config.items()},
        categories=_category_counts(pairs["all"], by_config["all"], config),
        tags=Counter(t for p in full for t in p.tags),
        sha256=digests,
        tokenizer_report=report,
    )
    (out / "sha256sums.txt").write_text("".join(f"{d}  {f}\n" for f, d in digests.items()))
    from duality_bench.card import write_card

    write_card(out, summary, config)
    return summary


def render_items(
    pairs: list[DualPair],
    templates: tuple[Template, ...] = TEMPLATES,
    demos: dict[str, list[DualPair]] | None = None,
    few_shot: tuple[FewShotTemplate, ...] = FEW_SHOT_TEMPLATES,
    duals: dict[str, set[str]] | None = None,
) -> list[PromptItem]:
    """Every applicable template for every pair, both directions; a pair with none is an error.

    Few-shot templates apply to every pair when `demos` (curated pairs per part of speech) is
    given; `duals` (see `controls.dual_sets`) keeps every dual of an item's words out of them.
    """
    items: list[PromptItem] = []
    seen: set[str] = set()
    for pair in pairs:
        chosen = [t for t in templates if t.applies_to(pair)]
        if not chosen:
            raise TemplateError(f"pair {pair.id!r} (category {pair.category!r}) has no template; add one")
        rendered = [item for t in chosen for item in render(t, pair)]
        if demos is not None:
            rendered += [item for t in few_shot for item in render_few_shot(t, pair, demos, duals)]
        for item in rendered:
            if item.id in seen:
                warnings.warn(f"duplicate item {item.id}; keeping the first", stacklevel=2)
                continue
            seen.add(item.id)
            items.append(item)
    return items


def word_frequencies(pairs: list[DualPair]) -> dict[str, float]:
    """wordfreq's Zipf frequency of every word the pairs name, other duals included."""
    from duality_bench.pairs.tags import zipf

    words = {w for p in pairs for w in (p.a, p.b, *p.a_other_duals, *p.b_other_duals)}
    return {w: zipf(w) for w in sorted(words)}


def merge_duplicates(items: list[PromptItem], zipf: dict[str, float]) -> list[PromptItem]:
    """One item per cue and template, and per prompt: where a cue has several duals (admit: deny,
    exclude, reject), the item whose target is most frequent stays and lists the other targets as
    other duals; a curated item beats a WordNet one. Exact duplicates go."""
    for key in (lambda i: (i.template_id, i.cue), lambda i: i.prompt):
        groups: dict[Any, list[PromptItem]] = {}
        for item in items:
            groups.setdefault(key(item), []).append(item)
        kept = []
        for group in groups.values():
            best = min(group, key=lambda i: (i.source != "curated", -zipf.get(i.target, 0.0), i.target, i.id))
            extra = sorted({i.target for i in group} - {best.target, best.cue, *best.other_duals})
            kept.append(replace(best, other_duals=best.other_duals + tuple(extra)) if extra else best)
        items = kept
    return items


def check_unique_prompts(items: list[PromptItem], config: str) -> None:
    """No two items of a config share a prompt: one prompt, one target."""
    seen: dict[str, str] = {}
    for item in items:
        if item.prompt in seen:
            raise DatasetError(f"config {config!r}: items {seen[item.prompt]!r} and {item.id!r} share a prompt")
        seen[item.prompt] = item.id


def _check_named_pairs(templates: tuple[Template, ...], pairs: list[DualPair]) -> None:
    known = {p.id for p in pairs}
    for t in templates:
        missing = [pid for pid in t.pairs if pid not in known]
        if missing:
            raise TemplateError(f"template {t.id!r} names unknown pairs {missing}; pair ids look like 'left-right'")


def _read_wordnet(path: Path) -> list[DualPair]:
    from duality_bench.pairs.wordnet import read_wordnet

    return read_wordnet(path)


def _category_counts(pairs, items, config) -> dict[str, tuple[int, int, int]]:
    """category -> (pairs, templates a pair of it gets, items)."""
    n_pairs, n_items = Counter(p.category for p in pairs), Counter(i.category for i in items)
    n_templates: Counter[str] = Counter()
    for p in pairs:
        if p.category not in n_templates:
            n_templates[p.category] = sum(t.applies_to(p) for t in config.templates if not t.pairs)
    few = len(config.few_shot)
    return {c: (n_pairs[c], n_templates[c] + few, n_items[c]) for c in n_pairs}


# --- files -------------------------------------------------------------------------------


def features() -> Any:
    """The dataset's `datasets.Features`, one column per PromptItem field."""
    from datasets import Features, List, Value

    cols = {f.name: Value("string") for f in fields(PromptItem)}
    for name in LIST_FIELDS:
        cols[name] = List(Value("string"))
    return Features(cols)


def _write_parquet(items: list[PromptItem], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{**asdict(i), **{name: list(getattr(i, name)) for name in LIST_FIELDS}} for i in items]
    table = pa.Table.from_pylist(rows, schema=features().arrow_schema)
    pq.write_table(table, path, compression="zstd")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dataset_dir() -> Path:
    """The dataset folder that ships with the package (or the checkout's `data/` copy)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / DATASET_NAME, DATA_DIR / DATASET_NAME):
        if (candidate / "README.md").exists():
            return candidate
    raise DatasetError(f"no built dataset found next to the package; run `duality-bench build` (looked in {candidate})")


def check_config(name: str) -> str:
    if name in CONFIGS:
        return name
    import difflib

    close = difflib.get_close_matches(name, CONFIGS, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise DatasetError(f"unknown config {name!r}; {hint}choose one of {', '.join(CONFIGS)}")


def parquet_path(config: str = DEFAULT_CONFIG, folder: str | Path | None = None) -> Path:
    return Path(folder or dataset_dir()) / check_config(config) / f"{SPLIT}.parquet"


def load_items(config: str = DEFAULT_CONFIG, folder: str | Path | None = None) -> list[PromptItem]:
    """The items of one config as PromptItem records, read straight from parquet (fast, offline)."""
    import pyarrow.parquet as pq

    path = parquet_path(config, folder)
    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, ValueError) as e:
        raise DatasetError(f"cannot read dataset file {path}: {e}; rebuild with `duality-bench build`") from None
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

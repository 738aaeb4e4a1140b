"""Build the dataset folder from the pair tables: render every template in both directions,
pick foils, write one parquet file per config, `sha256sums.txt` and the dataset card.

The folder is written into a temporary sibling and renamed into place only when everything
succeeded, so a failed build leaves the previous one untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from duality_bench.data.card import write_card
from duality_bench.data.dataset import (
    SPLIT,
    USER_CONFIG,
    BuildConfig,
    BuildSummary,
    DatasetError,
    file_sha256,
    pair_table,
    write_parquet,
)
from duality_bench.data.fewshot import FEW_SHOT_TEMPLATES, FewShotTemplate, demonstration_pool, render_few_shot
from duality_bench.data.foils import add_foils, foil_context
from duality_bench.data.pairs.curated import read_curated
from duality_bench.data.pairs.senses import near_rule, read_excluded, read_relations
from duality_bench.data.pairs.tags import in_core_by_names, is_affix_pair, tag_pairs, zipf
from duality_bench.data.pairs.user import read_user_pairs
from duality_bench.data.pairs.wordnet import read_table, read_wordnet
from duality_bench.data.records import DualPair, PromptItem
from duality_bench.data.templates import TEMPLATES, Template, TemplateError, categories, check_template, render
from duality_bench.data.vocabulary import load_tokenizer, report_tokenizer


def build_dataset(config: BuildConfig | None = None) -> BuildSummary:
    """Read the pair tables, render every template in both directions, write the folder."""
    config = default_tables(config or BuildConfig())
    out = Path(config.out_dir)
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} is a file; name a folder (default: data/duality-pairs)")
    tok = load_tokenizer(config.tokenizer) if config.tokenizer else None  # a bad one fails before any work
    if config.pairs_path:
        pairs = {USER_CONFIG: read_user_pairs(config.pairs_path, curated_categories(config.templates))}
        by_config = render_configs(pairs, config, read_pairs(packaged_tables(config)))
    else:
        pairs = read_pairs(config)
        by_config = render_configs(pairs, config)
    main = "all" if "all" in pairs else USER_CONFIG
    report = None
    if tok is not None:
        report = {name: report_tokenizer(tok, items).as_row() for name, items in by_config.items()}
    summary = BuildSummary(
        out_dir=out,
        pairs={name: len(ps) for name, ps in pairs.items()},
        items={name: len(items) for name, items in by_config.items()},
        categories=_category_counts(pairs[main], by_config[main], config),
        tags=Counter(t for p in pairs.get("wordnet-full", ()) for t in p.tags),
        sha256={},
        tokenizer_report=report,
        foils={
            name: (sum(bool(i.control) for i in its), sum(bool(i.related) for i in its))
            for name, its in by_config.items()
        },
        near_sense_rule=((), ()) if config.pairs_path else sense_rule_margin(config),
    )
    with _replacing(out) as tmp:
        digests = {}
        for name, items in by_config.items():
            rel = f"{name}/{SPLIT}.parquet"
            (tmp / name).mkdir()
            write_parquet(items, tmp / rel)
            digests[rel] = file_sha256(tmp / rel)
        (tmp / "sha256sums.txt").write_text("".join(f"{d}  {f}\n" for f, d in digests.items()))
        summary = replace(summary, sha256=digests)
        write_card(tmp, summary, config)
    return summary


def sense_rule_margin(config: BuildConfig) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The WordNet pairs closest to the sense rule on each side, among those the other core rules keep."""
    rows = read_table(config.wordnet_path)
    eligible = [in_core_by_names(tuple(n for n in t.names if n != "rare-sense"), t.zipf) for t in tag_pairs(rows)]
    kept, dropped = near_rule(rows, eligible)
    return tuple(kept), tuple(dropped)


def read_pairs(config: BuildConfig) -> dict[str, list[DualPair]]:
    """The pairs of each dataset config."""
    for t in config.templates:
        check_template(t)
    curated = read_curated(config.curated_path, categories=categories(config.templates))
    full = read_wordnet(config.wordnet_path)
    excluded = read_excluded(packaged_tables(config).excluded_path, ((p.a, p.b) for p in full))
    full = [replace(p, tags=(*p.tags, "not-everyday")) if (p.a, p.b) in excluded else p for p in full]
    _check_named_pairs(config.templates, curated + full)
    core = [p for p in full if in_core_by_names(p.tags, p.zipf)]
    curated_words = {frozenset((p.a.lower(), p.b.lower())) for p in curated}
    return {
        "curated": curated,
        "wordnet": core,
        "wordnet-full": full,
        # a pair both tables hold is the curated one, in its curated category
        "all": curated + [p for p in core if frozenset((p.a.lower(), p.b.lower())) not in curated_words],
    }


def render_configs(
    pairs: dict[str, list[DualPair]], config: BuildConfig, context: dict[str, list[DualPair]] | None = None
) -> dict[str, list[PromptItem]]:
    """The items of each dataset config, with foils; no two items of a config share a prompt.

    `context` (the curated, WordNet core and full pairs; default: `pairs` itself) gives the
    few-shot demonstrations, the foils and every word's duals. `all` takes its items from
    `curated` and `wordnet` unchanged: an item of `all` is the item of its source config."""
    context = context or pairs
    curated, core, full = context["curated"], context["wordnet"], context["wordnet-full"]
    user = [p for ps in pairs.values() for p in ps if p.source == "user"]
    freqs = word_frequencies(curated + full + user)
    demos = demonstration_pool(curated, is_affix_pair)
    relations = read_relations(packaged_tables(config).relations_path)
    foils = foil_context(curated + core, curated + full + user, freqs, relations)
    rare_links = {frozenset((p.a, p.b)) for p in full if "rare-sense" in p.tags}
    by_config = {}
    for name, ps in pairs.items():
        if name == "all":
            continue
        items = merge_duplicates(render_items(ps, config.templates, demos, config.few_shot, foils.duals), freqs)
        items = drop_lesser_duals(items, freqs, rare_links)
        by_config[name] = add_foils(items, foils)
        check_unique_prompts(by_config[name], name)
    if "all" in pairs:
        by_config["all"] = combine(by_config["curated"], by_config["wordnet"], {p.id for p in pairs["all"]})
        check_unique_prompts(by_config["all"], "all")
    return {name: by_config[name] for name in pairs}


def combine(curated: list[PromptItem], core: list[PromptItem], pair_ids: set[str]) -> list[PromptItem]:
    """`all`: every curated item, then the core's items of the pairs `all` holds whose prompt no
    curated item has (a pair both tables hold, and a prompt both render, count once, as curated)."""
    prompts = {i.prompt for i in curated}
    return curated + [i for i in core if i.pair_id in pair_ids and i.prompt not in prompts]


def user_items(path: str | Path, config: BuildConfig | None = None) -> list[PromptItem]:
    """A user's pairs file rendered into items on the fly (`duality-bench eval --pairs FILE`)."""
    config = config or BuildConfig()
    pairs = {USER_CONFIG: read_user_pairs(path, curated_categories(config.templates))}
    return render_configs(pairs, config, read_pairs(packaged_tables(config)))[USER_CONFIG]


def packaged_tables(config: BuildConfig) -> BuildConfig:
    """`config` with the package's own pair tables wherever its tables are not at hand (outside a checkout)."""
    curated = config.curated_path if Path(config.curated_path).is_file() else pair_table("curated_pairs.csv")
    wordnet = config.wordnet_path if Path(config.wordnet_path).is_file() else pair_table("wordnet_pairs.csv")
    relations = config.relations_path
    relations = relations if Path(relations).is_file() else pair_table("wordnet_relations.csv")
    excluded = config.excluded_path if Path(config.excluded_path).is_file() else pair_table("wordnet_excluded.csv")
    return replace(config, curated_path=curated, wordnet_path=wordnet, relations_path=relations, excluded_path=excluded)


def default_tables(config: BuildConfig) -> BuildConfig:
    """`config` with the package's own curated and WordNet tables in place of the default paths when
    the working directory has none, so a build runs from any folder; a table named on purpose must exist."""
    defaults, packaged = BuildConfig(), packaged_tables(config)
    curated = packaged.curated_path if config.curated_path == defaults.curated_path else config.curated_path
    wordnet = packaged.wordnet_path if config.wordnet_path == defaults.wordnet_path else config.wordnet_path
    return replace(config, curated_path=curated, wordnet_path=wordnet)


def curated_categories(templates: tuple[Template, ...]) -> tuple[str, ...]:
    return tuple(c for c in categories(templates) if not c.startswith("wordnet-"))


@contextlib.contextmanager
def _replacing(out: Path) -> Iterator[Path]:
    """A temporary sibling of `out` to write into; it replaces `out` only if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as e:
        raise DatasetError(f"cannot write in {out.parent} ({e.strerror}); choose another --out") from None
    try:
        yield tmp
        old = out.with_name(tmp.name.replace(".tmp-", ".old-"))
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def render_items(
    pairs: list[DualPair],
    templates: tuple[Template, ...] = TEMPLATES,
    demos: dict[str, list[DualPair]] | None = None,
    few_shot: tuple[FewShotTemplate, ...] = FEW_SHOT_TEMPLATES,
    duals: dict[str, set[str]] | None = None,
) -> list[PromptItem]:
    """Every applicable template for every pair, both directions; a pair with none is an error.

    Few-shot templates apply to every pair when `demos` (curated pairs per part of speech) is
    given; `duals` (see `foils.dual_sets`) keeps every dual of an item's words out of them.
    """
    items: list[PromptItem] = []
    seen: set[str] = set()
    check_unique_ids(pairs)
    for pair in pairs:
        chosen = [t for t in templates if t.applies_to(pair)]
        if not chosen and (demos is None or not few_shot):  # a user's pair of no part of speech: few-shot only
            raise TemplateError(f"pair {pair.id!r} (category {pair.category!r}) has no template; add one")
        rendered = [item for t in chosen for item in render(t, pair)]
        if demos is not None:
            rendered += [item for t in few_shot for item in render_few_shot(t, pair, demos, duals)]
        for item in rendered:
            if item.id in seen:
                warnings.warn(
                    f"duplicate item {item.id}; keeping the first, give its templates distinct ids", stacklevel=2
                )
                continue
            seen.add(item.id)
            items.append(item)
    return items


def check_unique_ids(pairs: list[DualPair]) -> None:
    """Two different records of one pair id are refused: ids are unique by construction
    (`DualPair.id`), so only two records of the same words can share one."""
    named: dict[str, DualPair] = {}
    for pair in pairs:
        first = named.setdefault(pair.id, pair)
        if first != pair:
            raise DatasetError(f"pairs {_row(first)} and {_row(pair)} share the id {pair.id!r}; keep one of them")


def _row(pair: DualPair) -> str:
    return f"{pair.a}/{pair.b} ({pair.source}, {pair.category}, {pair.pos})"


def word_frequencies(pairs: list[DualPair]) -> dict[str, float]:
    """wordfreq's Zipf frequency of every word the pairs name, other duals included."""
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


def drop_lesser_duals(
    items: list[PromptItem], zipf: dict[str, float], rare_links: set[frozenset[str]]
) -> list[PromptItem]:
    """WordNet items whose cue has a more frequent single-word dual than the target, in a common
    sense, go: in a config without that dual's pair (head/tail is rare-sense, head/rear is not),
    "It was neither head nor" would otherwise expect "rear"."""

    def lesser(item: PromptItem) -> bool:
        others = (o for o in item.other_duals if " " not in o and frozenset((item.cue, o)) not in rare_links)
        return any(zipf.get(o, 0.0) > zipf.get(item.target, 0.0) for o in others)

    return [i for i in items if i.source != "wordnet" or not lesser(i)]


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


def _category_counts(pairs, items, config) -> dict[str, tuple[int, int, int]]:
    """category -> (pairs, templates a pair of it gets, items)."""
    n_pairs, n_items = Counter(p.category for p in pairs), Counter(i.category for i in items)
    n_templates: Counter[str] = Counter()
    for p in pairs:
        if p.category not in n_templates:
            n_templates[p.category] = sum(t.applies_to(p) for t in config.templates if not t.pairs)
    few = len(config.few_shot)
    return {c: (n_pairs[c], n_templates[c] + few, n_items[c]) for c in n_pairs}

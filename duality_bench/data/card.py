"""The dataset card (README.md) of the built folder: YAML configs for `load_dataset`, then prose."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields
from pathlib import Path

from duality_bench.data import foils
from duality_bench.data.audit import SEED as AUDIT_SEED
from duality_bench.data.audit import VERDICTS, read_audit
from duality_bench.data.card_text import (
    CITATION,
    CURATION,
    FIELD_DOCS,
    INTRO,
    LIMITATIONS,
    METHOD,
    REMOVED_TEMPLATES,
    TAG_DOCS,
    USES,
    WORDNET_LICENSE,
    WORDNET_LICENSE_TEXT,
)
from duality_bench.data.dataset import (
    DEFAULT_CONFIG,
    LIST_FIELDS,
    SPLIT,
    USER_CONFIG,
    BuildConfig,
    BuildSummary,
)
from duality_bench.data.pairs.senses import SENSE_RULE
from duality_bench.data.pairs.tags import CORE_MIN_ZIPF, CORE_THRESHOLD_REASON
from duality_bench.data.records import PromptItem
from duality_bench.results import REFERENCE_PREFIX, ResultsError, RunResult, load_result


def write_card(out: Path, summary: BuildSummary, config: BuildConfig) -> None:
    (out / "README.md").write_text(render_card(summary, config, out), encoding="utf-8")


def front_matter(summary: BuildSummary, folder: Path) -> list[str]:
    """The card's YAML header, as the hub reads it: license, provenance, task, `dataset_info`
    (features and split sizes per config) and the `configs:` that `load_dataset` reads."""
    import pyarrow.parquet as pq

    configs = tuple(summary.items)
    yaml = ["---", "license: other", "license_name: wordnet-3.0", f"license_link: {WORDNET_LICENSE}"]
    yaml += ["language:", "- en", "pretty_name: duality-pairs"]
    yaml += ["annotations_creators:", "- expert-generated", "- found"]
    yaml += ["language_creators:", "- expert-generated", "- machine-generated"]
    yaml += ["multilinguality:", "- monolingual", "source_datasets:", "- original", "- extended|wordnet"]
    yaml += ["task_categories:", "- text-generation", "- multiple-choice"]
    yaml += ["task_ids:", "- language-modeling", "- multiple-choice-qa"]
    yaml += ["tags:", "- interpretability", "- antonyms", "- duality", "size_categories:"]
    yaml.append(f"- {_size_category(max(summary.items.values()))}")
    yaml.append("dataset_info:")
    for name in configs:
        path = folder / name / f"{SPLIT}.parquet"
        size, nbytes = path.stat().st_size, pq.read_table(path).nbytes  # on disk; in memory (Arrow)
        yaml += [f"- config_name: {name}", "  features:"]
        for f in fields(PromptItem):
            kind = "sequence: string" if f.name in LIST_FIELDS else "dtype: string"
            yaml += [f"  - name: {f.name}", f"    {kind}"]
        yaml += [
            "  splits:",
            f"  - name: {SPLIT}",
            f"    num_bytes: {nbytes}",
            f"    num_examples: {summary.items[name]}",
        ]
        yaml += [f"  download_size: {size}", f"  dataset_size: {nbytes}"]
    yaml.append("configs:")
    default = DEFAULT_CONFIG if DEFAULT_CONFIG in configs else configs[0]
    for name in configs:
        yaml.append(f"- config_name: {name}")
        if name == default:
            yaml.append("  default: true")
        yaml += ["  data_files:", f"  - split: {SPLIT}", f"    path: {name}/{SPLIT}.parquet"]
    yaml.append("---")
    return yaml


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"


def example_section(folder: Path, config: str) -> list[str]:
    """The config's first row, as `load_dataset` gives it."""
    import pyarrow.parquet as pq

    row = pq.read_table(folder / config / f"{SPLIT}.parquet").slice(0, 1).to_pylist()[0]
    text = json.dumps(row, indent=2, ensure_ascii=False)
    return ["", f"## Example (config `{config}`)", "", "```json", *text.splitlines(), "```"]


def render_card(summary: BuildSummary, config: BuildConfig, folder: Path) -> str:
    """The whole card; `folder` holds the parquet files just written (their sizes, an example row)."""
    configs = tuple(summary.items)
    main = "all" if "all" in configs else configs[0]
    yaml = front_matter(summary, folder)

    body = INTRO + configs_section(summary)
    body += USES + METHOD + CURATION
    body += tags_section(summary)
    body += [
        "",
        f"## Categories (config `{main}`)",
        "",
        "| category | pairs | templates per pair | items |",
        "|---|---:|---:|---:|",
    ]
    body += [f"| {c} | {p} | {t} | {i} |" for c, (p, t, i) in summary.categories.items()]
    body += foils_section(summary)
    body += example_section(folder, main)
    body += hand_audit_section(config)
    body += audit_section(config, summary, folder)
    body += removed_templates_section()
    body += ["", "## Fields", "", "| field | meaning |", "|---|---|"]
    body += [f"| `{k}` | {v} |" for k, v in FIELD_DOCS.items()]
    body += tokenizer_section(config, summary)
    body += LIMITATIONS + CITATION
    body += [
        "",
        "## License",
        "",
        f"Items from WordNet pairs derive from WordNet 3.0 under the [WordNet license]({WORDNET_LICENSE});",
        "the curated table and templates are released under the same terms. Its text, in full:",
        "",
        *(f"> {line}" if line else ">" for line in WORDNET_LICENSE_TEXT),
        "",
        "## Files (sha256)",
        "",
        "| file | sha256 |",
        "|---|---|",
    ]
    body += [f"| `{f}` | `{d}` |" for f, d in summary.sha256.items()]
    return "\n".join(yaml + body) + "\n"


def configs_section(summary: BuildSummary) -> list[str]:
    """One row per config: its pairs, items and what it holds."""
    what = {
        "curated": "hand-made pairs in grammatically uniform categories",
        "wordnet": f"the vetted WordNet core: single-word, lower-case pairs in common senses, Zipf >= {CORE_MIN_ZIPF}",
        "wordnet-full": "every direct antonym pair of WordNet 3.0",
        "all": "curated + the WordNet core, items unchanged (a pair or prompt both hold counts once, as curated)",
        USER_CONFIG: "your own pairs, rendered by `duality-bench build --pairs FILE`",
    }
    lines = ["", "## Configs", "", "| config | pairs | items | what |", "|---|---:|---:|---|"]
    for c in summary.items:
        default = " (default)" if c == DEFAULT_CONFIG else ""
        lines.append(f"| `{c}`{default} | {summary.pairs[c]} | {summary.items[c]} | {what[c]} |")
    return lines


def tags_section(summary: BuildSummary) -> list[str]:
    """The WordNet tags, how many pairs carry each, and what the core keeps."""
    lines = ["", "## WordNet tags", "", "| tag | pairs (of the full table) | meaning |", "|---|---:|---|"]
    lines += [f"| `{t}` | {summary.tags.get(t, 0)} | {doc} |" for t, doc in TAG_DOCS.items()]
    kept, dropped = summary.near_sense_rule
    lines += [
        "",
        "The WordNet core (config `wordnet`) keeps single-word, lower-case pairs in American spelling",
        "(no `multiword`, `proper` or `british`) whose antonymy links a common sense of both words",
        "(no `rare-sense`).",
        CORE_THRESHOLD_REASON,
        "",
        f"**The sense rule:** {SENSE_RULE}. The thresholds were chosen by reading the pairs on both sides",
        "of each candidate: a share threshold alone drops pairs everyone knows (bottom/top, come/go,",
        "hit/miss, whose words have many tagged senses), a count alone keeps compass and physics senses.",
        "Pairs that fail stay in `wordnet-full`. Reading the remaining core list once, as a fluent",
        "speaker, found pairs the counts cannot catch (bony/boneless, linear/cubic, head/rear, and",
        "technical terms such as rotor/stator); they are tagged `not-everyday`, each with its reason",
        "in `data/wordnet_excluded.csv`, and stay out of the core.",
    ]
    if kept or dropped:
        lines += [
            "",
            f"- kept, nearest the rule: {'; '.join(kept)}",
            f"- dropped as `rare-sense`, nearest the rule: {'; '.join(dropped)}",
        ]
    return lines + [
        "",
        "Affix pairs stay in the core as their own category, `wordnet-affix`, because they test",
        "morphology as much as meaning; they are reported apart.",
    ]


def foils_section(summary: BuildSummary) -> list[str]:
    """The foils' rules and how many items of each config have each foil."""
    lines = ["", "## Foils", ""]
    lines += [line.strip() for line in (foils.__doc__ or "").split("\n\n")[1].splitlines()]
    lines += ["", "| config | items | with a control | with a related word |", "|---|---:|---:|---:|"]
    for c, (control, related) in summary.foils.items():
        lines.append(f"| `{c}` | {summary.items[c]} | {control} | {related} |")
    return lines


def hand_audit_section(config: BuildConfig) -> list[str]:
    """The committed hand audit: how many sampled items a fluent reader judged good, questionable or bad."""
    path = Path(config.hand_audit) if config.hand_audit else None
    if path is None or not path.is_file():
        return []
    entries = read_audit(path)
    groups: dict[str, Counter[str]] = {}
    for e in entries:
        groups.setdefault(e.group, Counter())[e.verdict] += 1
    lines = [
        "",
        "## Hand audit",
        "",
        f"A seeded sample of items of `all` (seed {AUDIT_SEED}, `python scripts/audit_sample.py`) read one by "
        f"one as a fluent English speaker would (`{path.name}` holds every id and verdict): *good*: a fluent",
        "speaker answers with the target; *questionable*: another word is at least as natural, or the pair is",
        "no clear opposite; *bad*: the cue or a non-dual word is the natural answer, or the prompt is broken.",
        "An earlier sample (seed 17), read before the `not-everyday` exclusions, found 6 of 60 WordNet core",
        "items bad (bony after boneless, cubic after linear, rear after head); the exclusions were then made",
        "by reading the whole core list, and this sample was drawn afresh.",
        "",
        "| sample | items | good | questionable | bad |",
        "|---|---:|---:|---:|---:|",
    ]
    for group, counts in groups.items():
        n = sum(counts.values())
        cells = " | ".join(f"{counts[v]} ({counts[v] / n:.0%})" for v in VERDICTS)
        lines.append(f"| {group} | {n} | {cells} |")
    return lines


def removed_templates_section() -> list[str]:
    lines = ["", "## Templates taken out", "", "Read as a fluent speaker would, these did not elicit the dual:", ""]
    return lines + [f"- `{t}`: {why}" for t, why in REMOVED_TEMPLATES.items()]


def tokenizer_section(config: BuildConfig, summary: BuildSummary) -> list[str]:
    """How many items are single-token and aligned for the tokenizer the build was given, if any."""
    if not summary.tokenizer_report:
        return []
    lines = [
        "",
        f"## Fit to GPT-2's tokenizer (`{Path(config.tokenizer).name if config.tokenizer else ''}`)",
        "",
        "Single token: target and distractor are each one token after the prompt (with the",
        "word-boundary space); the others are scored by their continuation's log-likelihood.",
        "Aligned: clean and corrupted prompts have the same token count.",
        "",
        "| config | items | single token | aligned | both |",
        "|---|---:|---:|---:|---:|",
    ]
    for src, r in summary.tokenizer_report.items():
        row = (r["items"], r["single_token"], r["aligned"], r["single_token_and_aligned"])
        lines.append(f"| {src} | " + " | ".join(str(x) for x in row) + " |")
    return lines


def audit_section(config: BuildConfig, summary: BuildSummary, folder: Path) -> list[str]:
    """The headline candidates, calibrated scores and per-template accuracy of every results file
    scored on this build of `all` (in `folder`), if any."""
    if not config.audit or not Path(config.audit).is_dir():
        return []
    found: dict[str, tuple[Path, RunResult]] = {}
    for path in sorted(Path(config.audit).rglob("*.json")):
        try:
            result = load_result(path)
        except ResultsError:
            continue
        if result.dataset.config == "all" and result.dataset.sha256 == summary.sha256.get("all/test.parquet"):
            found.setdefault(result.model.id, (path, result))
    if not found:
        return []
    order = sorted(found, key=lambda m: (m.startswith(REFERENCE_PREFIX), m))
    runs = [found[m][1] for m in order]
    headlines = config.headline_table({m: found[m][0] for m in order}, folder) if config.headline_table else []
    return headlines + calibration_table(runs) + template_table(runs)


def calibration_table(runs: list[RunResult]) -> list[str]:
    """How the calibrated scores move accuracy on curated, WordNet (lexical) and affix items, per run."""
    groups = (
        ("curated", "source", "curated"),
        ("WordNet core", "category", None),
        ("affix", "category", "wordnet-affix"),
    )
    lines = [
        "",
        "## Calibrated scores",
        "",
        "Dual above the cue per item, by summed log-likelihood and calibrated (each word's log-likelihood",
        "after the prompt less that after the neutral prompt), on config `all`. A summed log-likelihood",
        "favours the shorter word; affix targets (unaware after aware) are the longer word in one direction.",
        "",
        "| model | curated | calibrated | WordNet core | calibrated | affix | calibrated |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        cells = []
        for _, by, key in groups:
            if key is None:  # the WordNet core's parts of speech, affix pairs apart, weighted by items
                rows = [
                    v for k, v in r.breakdowns.get(by, {}).items() if k.startswith("wordnet-") and k != "wordnet-affix"
                ]
            else:
                rows = [v for k, v in r.breakdowns.get(by, {}).items() if k == key]
            for field in ("duality_accuracy", "calibrated_accuracy"):
                pairs = [(getattr(v, field), v.n) for v in rows if getattr(v, field) is not None]
                n = sum(w for _, w in pairs)
                cells.append(f"{sum(a * w for a, w in pairs) / n:.3f}" if n else "–")
        lines.append(f"| {r.model.id} | " + " | ".join(cells) + " |")
    return lines


def template_table(runs: list[RunResult]) -> list[str]:
    """Per-template accuracy of each run."""
    rows = {t for r in runs for t in r.breakdowns.get("template_id", {})}
    names = [r.model.id for r in runs]
    lines = [
        "",
        "## Template audit",
        "",
        "Accuracy (dual above the cue) per template, on config `all`, of every model scored on this",
        "build; in brackets, dual above the control. A template where real models trail the",
        "reference rows is a candidate defect: judged by its text, it is rewritten when the cue or",
        "another word is the natural continuation, and kept when the models merely copy the cue.",
        "",
        "| template | items | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for t in sorted(rows):
        cells = []
        n = None
        for r in runs:
            row = r.breakdowns.get("template_id", {}).get(t)
            if not row:
                cells.append("–")
                continue
            n = row.n
            ctrl = row.control_accuracy
            cells.append(f"{row.duality_accuracy:.2f}" + (f" ({ctrl:.2f})" if ctrl is not None else ""))
        lines.append(f"| `{t}` | {n} | " + " | ".join(cells) + " |")
    return lines

"""The dataset card (README.md) of the built folder: YAML configs for `load_dataset`, then prose."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duality_bench.dataset import BuildSummary
    from duality_bench.templates import Template

WORDNET_LICENSE = "https://wordnet.princeton.edu/license-and-commercial-use"

FIELD_DOCS = {
    "id": "unique item id: `pair_id|template_id|direction`",
    "pair_id": "the dual pair, e.g. `left-right`; WordNet pairs are `wn.<pos>.<a>-<b>`",
    "template_id": "`category.name.vN`; a template's text changes only with its version",
    "category": "spatial, pronoun_object, ... for curated pairs; `wordnet-<pos>` for WordNet pairs",
    "source": "`curated` or `wordnet`",
    "pos": "part of speech (WordNet letters n/v/a/r; pron, prep, det for curated words)",
    "cue": "the word in the prompt",
    "target": "its dual, the expected next word (stored without the leading space)",
    "distractor": "what the model should not say: the cue itself",
    "other_duals": "the cue's other duals (right: wrong); never used as distractors",
    "prompt": "clean prompt, ending right before the target",
    "corrupted_prompt": "the prompt with the cue slot holding the target, so the answer flips",
    "direction": "`a->b` or `b->a`: every pair is rendered both ways",
}


def write_card(out: Path, summary: BuildSummary, templates: tuple[Template, ...], tokenizer_name: str | None) -> None:
    (out / "README.md").write_text(render_card(summary, templates, tokenizer_name), encoding="utf-8")


def render_card(summary: BuildSummary, templates: tuple[Template, ...], tokenizer_name: str | None) -> str:
    from duality_bench.dataset import CONFIGS, DEFAULT_CONFIG, SPLIT

    yaml = ["---", "license: other", "license_name: wordnet-3.0", f"license_link: {WORDNET_LICENSE}"]
    yaml += ["language:", "- en", "pretty_name: duality-pairs", "task_categories:", "- text-generation"]
    yaml += ["tags:", "- interpretability", "- antonyms", "- duality", "size_categories:", "- 10K<n<100K"]
    yaml.append("configs:")
    for name in CONFIGS:
        yaml.append(f"- config_name: {name}")
        if name == DEFAULT_CONFIG:
            yaml.append("  default: true")
        yaml += ["  data_files:", f"  - split: {SPLIT}", f"    path: {name}/{SPLIT}.parquet"]
    yaml.append("---")

    body = [
        "# duality-pairs",
        "",
        "Clean/corrupted prompt pairs that test whether a causal language model completes a word's",
        "dual opposite: `I have two hands, my right hand and my` -> ` left`. Built by the",
        "duality-bench package with `duality-bench build`.",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("duality-bench/duality-pairs", "curated", split="test")',
        "```",
        "",
        "## Configs",
        "",
        "| config | pairs | items |",
        "|---|---:|---:|",
    ]
    pairs = {**summary.pairs, "all": sum(summary.pairs.values())}
    body += [
        f"| `{c}`{' (default)' if c == DEFAULT_CONFIG else ''} | {pairs[c]} | {summary.items[c]} |" for c in CONFIGS
    ]
    body += [
        "",
        "## How items are made",
        "",
        "- **Pairs.** `curated`: a hand-made table of dual pairs in grammatically uniform categories;",
        "  every word lists its other duals (right: left *and* wrong). `wordnet`: every direct antonym",
        "  pair of WordNet 3.0, read through nltk, deduplicated across parts of speech.",
        "- **Templates.** Named, versioned templates per category (per part of speech for WordNet",
        "  pairs), each plain text with one cue slot, ending right before the expected dual.",
        "- **Items.** Every pair is rendered with every template of its category in both directions",
        "  (a->b and b->a). The distractor is the cue itself. The corrupted prompt holds the target in",
        "  the cue slot and is otherwise identical, so its expected answer is the distractor: the",
        "  clean/corrupted pair activation patching needs.",
        "",
        "## Categories",
        "",
        "| category | pairs | templates | items |",
        "|---|---:|---:|---:|",
    ]
    body += [f"| {c} | {p} | {t} | {i} |" for c, (p, t, i) in summary.categories.items()]
    body += ["", "## Fields", "", "| field | meaning |", "|---|---|"]
    body += [f"| `{k}` | {v} |" for k, v in FIELD_DOCS.items()]
    if summary.tokenizer_report:
        body += [
            "",
            f"## Fit to GPT-2's tokenizer (`{Path(tokenizer_name).name if tokenizer_name else ''}`)",
            "",
            "Single token: target and distractor are each one token after the prompt (with the",
            "word-boundary space). Aligned: clean and corrupted prompts have the same token count.",
            "",
            "| source | items | single token | aligned | both |",
            "|---|---:|---:|---:|---:|",
        ]
        for src, r in summary.tokenizer_report.items():
            row = (r["items"], r["single_token"], r["aligned"], r["single_token_and_aligned"])
            body.append(f"| {src} | " + " | ".join(str(x) for x in row) + " |")
    body += [
        "",
        "## License",
        "",
        f"Items from WordNet pairs derive from WordNet 3.0 under the [WordNet license]({WORDNET_LICENSE})",
        '("WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved."); the curated',
        "table and templates are released under the same terms.",
        "",
        "## Files (sha256)",
        "",
        "| file | sha256 |",
        "|---|---|",
    ]
    body += [f"| `{f}` | `{d}` |" for f, d in summary.sha256.items()]
    return "\n".join(yaml + body) + "\n"

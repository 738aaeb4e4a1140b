"""The dataset card (README.md) of the built folder: YAML configs for `load_dataset`, then prose."""

from __future__ import annotations

from pathlib import Path

from duality_bench.data.dataset import CONFIGS, DEFAULT_CONFIG, SPLIT, BuildConfig, BuildSummary
from duality_bench.data.pairs.tags import CORE_MIN_ZIPF, CORE_THRESHOLD_REASON
from duality_bench.results import ResultsError, RunResult, load_result

WORDNET_LICENSE = "https://wordnet.princeton.edu/license-and-commercial-use"

FIELD_DOCS = {
    "id": "unique item id: `pair_id|template_id|direction`",
    "pair_id": "the dual pair, e.g. `left-right`; WordNet pairs are `wn.<pos>.<a>-<b>`",
    "template_id": "`category.name.vN` (few-shot: `few-shot.name.vN`); a template's text changes only with its version",
    "category": "spatial, pronoun_object, ... for curated pairs; `wordnet-<pos>` or `wordnet-affix` for WordNet pairs",
    "source": "`curated` or `wordnet`",
    "pos": "part of speech (WordNet letters n/v/a/r; pron, prep, det for curated words)",
    "cue": "the word in the prompt",
    "target": "its dual, the expected next word (stored without the leading space)",
    "distractor": "what the model should not say: the cue itself",
    "other_duals": "the cue's other duals (right: wrong); never used as distractors",
    "prompt": "clean prompt, ending right before the target",
    "corrupted_prompt": "the prompt with the cue slot holding the target, so the answer flips",
    "direction": "`a->b` or `b->a`: every pair is rendered both ways",
    "target_other_duals": "the target's other duals: also right answers after the corrupted prompt",
    "control": "a word of the target's part of speech and frequency (within 0.5 Zipf) that is no dual of either word",
    "family": "`zero-shot` or `few-shot`",
    "tags": "WordNet pairs: `affix`, `multiword`, `proper`, `set` (one of several antonyms of a word)",
}

TAG_DOCS = {
    "affix": "one word is the other with a negating affix (aware/unaware, careful/careless)",
    "multiword": "a word of several words (Arabic numeral)",
    "proper": "a capitalised word (Anglican/Nonconformist)",
    "set": "a word with several antonyms (admit: deny, exclude, reject)",
}


def write_card(out: Path, summary: BuildSummary, config: BuildConfig) -> None:
    (out / "README.md").write_text(render_card(summary, config), encoding="utf-8")


# How items are made and scored: the card's fixed prose.
METHOD = [
    "",
    "## How items are made",
    "",
    "- **Pairs.** `curated`: a hand-made table of dual pairs in grammatically uniform categories;",
    "  every word lists its other duals (right: left *and* wrong). WordNet: every direct antonym",
    "  pair of WordNet 3.0, read through nltk, deduplicated across parts of speech, and tagged.",
    "- **Zero-shot templates.** Named, versioned templates per category (per part of speech for",
    "  WordNet pairs), each plain text with one cue slot, ending right before the expected dual.",
    "  A template is kept only where a fluent reader expects the dual next.",
    "- **Few-shot templates.** The standard in-context antonym format: three demonstrations from",
    "  curated pairs of the cue's part of speech (never affix pairs, never a pair sharing a word",
    "  with the item), fixed by a seed, then the cue (`hot -> cold\\nbig -> small\\nfast -> slow\\nup ->`).",
    "  They form their own template family (`family`).",
    "- **Items.** Every pair is rendered with every template in both directions (a->b and b->a).",
    "  The distractor is the cue itself. The corrupted prompt holds the target in the cue slot and",
    "  is otherwise identical, so its expected answer is the distractor: the clean/corrupted pair",
    "  activation patching needs.",
    "- **One prompt, one target.** Where a cue has several duals (admit: deny, exclude, reject),",
    "  one item per template carries the most frequent as its target and lists the others in",
    "  `other_duals`; a model that prefers any listed dual over the cue is not wrong, and results",
    "  report both views. No two items of a config share a prompt.",
    "- **Controls.** Each item names a `control` word: same part of speech, Zipf frequency within",
    "  0.5 of the target's, no dual of the cue or the target, not in the prompt, chosen",
    '  deterministically. "Dual above control" separates knowing the dual from not copying the cue.',
    "",
    "## Scoring protocol",
    "",
    "A model is right on an item when it rates the target above the distractor (the cue): for",
    "words that are one token after the prompt (with the word-boundary space), by the next token's",
    'logits; for longer words, by the log-likelihood of the whole continuation `" " + word`. Every',
    "model is scored on every item. The headline *duality score* is the mean of per-category",
    "accuracies, so each curated category and each WordNet part of speech weighs alike. A summed",
    "log-likelihood favours words of fewer tokens, as in every multiple-choice harness; the cue and the",
    "target are often alike in length, the control and other duals less so.",
]


def front_matter() -> list[str]:
    """The card's YAML header: license, tags and the `configs:` that `load_dataset` reads."""
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
    return yaml


def render_card(summary: BuildSummary, config: BuildConfig) -> str:
    yaml = front_matter()

    what = {
        "curated": "hand-made pairs in grammatically uniform categories",
        "wordnet": f"the vetted WordNet core: single-word, lower-case pairs, rarer word's Zipf >= {CORE_MIN_ZIPF}",
        "wordnet-full": "every direct antonym pair of WordNet 3.0",
        "all": "curated + the WordNet core (a pair both hold counts once, as curated)",
    }
    body = [
        "# duality-pairs",
        "",
        "Clean/corrupted prompt pairs that test whether a causal language model completes a word's",
        "dual opposite: `I have two hands, my right hand and my` -> ` left`. Built by the",
        "duality-bench package with `duality-bench build`.",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("duality-bench/duality-pairs", "all", split="test")',
        "```",
        "",
        "## Configs",
        "",
        "| config | pairs | items | what |",
        "|---|---:|---:|---|",
    ]
    body += [
        f"| `{c}`{' (default)' if c == DEFAULT_CONFIG else ''} | {summary.pairs[c]} | {summary.items[c]} | {what[c]} |"
        for c in CONFIGS
    ]
    body += METHOD
    body += tags_section(summary)
    body += [
        "",
        "## Categories (config `all`)",
        "",
        "| category | pairs | templates per pair | items |",
        "|---|---:|---:|---:|",
    ]
    body += [f"| {c} | {p} | {t} | {i} |" for c, (p, t, i) in summary.categories.items()]
    body += audit_section(config, summary)
    body += ["", "## Fields", "", "| field | meaning |", "|---|---|"]
    body += [f"| `{k}` | {v} |" for k, v in FIELD_DOCS.items()]
    body += tokenizer_section(config, summary)
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


def tags_section(summary: BuildSummary) -> list[str]:
    """The WordNet tags, how many pairs carry each, and what the core keeps."""
    lines = ["", "## WordNet tags", "", "| tag | pairs (of the full table) | meaning |", "|---|---:|---|"]
    lines += [f"| `{t}` | {summary.tags.get(t, 0)} | {doc} |" for t, doc in TAG_DOCS.items()]
    return lines + [
        "",
        "The WordNet core (config `wordnet`) keeps single-word, lower-case pairs (no `multiword`, no `proper`).",
        CORE_THRESHOLD_REASON,
        "Affix pairs stay in the core as their own category, `wordnet-affix`, because they test",
        "morphology as much as meaning; they are reported apart.",
    ]


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


def audit_section(config: BuildConfig, summary: BuildSummary) -> list[str]:
    """Per-template accuracy of every results file scored on this build of `all`, if any."""
    if not config.audit or not Path(config.audit).is_dir():
        return []
    runs: list[RunResult] = []
    for path in sorted(Path(config.audit).rglob("*.json")):
        try:
            result = load_result(path)
        except ResultsError:
            continue
        if result.dataset.config == "all" and result.dataset.sha256 == summary.sha256.get("all/test.parquet"):
            runs.append(result)
    if not runs:
        return []
    runs.sort(key=lambda r: (r.model.id.startswith("baseline/"), r.model.id))
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

"""Results files -> a ranked leaderboard: `LEADERBOARD.md` and a self-contained `index.html`.

`build_leaderboard(LeaderboardConfig(...))` reads every `*.json` results file under the results
folder (`results/<org__model>/<revision-or-config>.json`; the `*.items.jsonl` score files beside
them are not results), validates each, and ranks the ones computed on the current dataset build
within their dataset config. A file that cannot be used is reported in one line and skipped; a
result scored on another build of the dataset, on part of it, or on items outside it is listed
apart with the reason, never mixed into the ranking. Everything taken from a results file is
escaped. Rebuilding from the same results files gives the same bytes.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from duality_bench.data.records import RunResult
from duality_bench.errors import DualityBenchError

CONFIG_ORDER = ("all", "curated", "wordnet", "wordnet-full")  # the order config sections appear in
REFERENCE_PREFIX = "baseline/"

# Reference rows: what they are and why they are there. Made by scripts/make_baselines.py.
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
        "is answering from word frequency rather than from the cue."
    ),
    "baseline/copy": (
        "Copy: always prefers the cue, the word it just read, and has no preference among other words. "
        "It scores 0 on the dual above the cue and a tie (0.5) on the dual above the control: the gap between "
        "a model's two numbers shows how much of its score is knowing the dual rather than not copying."
    ),
}


class LeaderboardError(DualityBenchError):
    """A results folder or output folder the leaderboard cannot use."""


@dataclass(frozen=True)
class LeaderboardConfig:
    results: Path = Path("leaderboard/results")  # searched recursively for *.json results files
    out: Path = Path("leaderboard")  # LEADERBOARD.md and index.html go here
    dataset_dir: Path | None = None  # its sha256sums.txt names the current build; default: the packaged dataset


@dataclass(frozen=True)
class Entry:
    """One usable results file."""

    result: RunResult
    link: str  # the results file, relative to the output folder (posix)
    status: str  # current | stale | partial | unverified
    note: str = ""  # why a non-current entry is not ranked

    @property
    def model_id(self) -> str:
        return str(self.result.model["id"])

    @property
    def config(self) -> str:
        return str(self.result.dataset.get("config"))

    @property
    def reference(self) -> str | None:
        """The explanation of a reference row, or None for a real model."""
        if not self.model_id.startswith(REFERENCE_PREFIX):
            return None
        return REFERENCES.get(self.model_id, "A reference row (not a trained model's result).")

    @property
    def metrics(self) -> dict[str, Any]:
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

    @property
    def unranked(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.status != "current")

    @property
    def references(self) -> list[tuple[str, str]]:
        """(model id, explanation) of each reference row, sorted; the same in both pages."""
        return sorted({(e.model_id, e.reference) for e in self.entries if e.reference})


def build_leaderboard(config: LeaderboardConfig | None = None) -> Leaderboard:
    """Read, validate and rank the results files; write LEADERBOARD.md and index.html."""
    from duality_bench.leaderboard.page import render_html

    config = config or LeaderboardConfig()
    results_dir, out = Path(config.results), Path(config.out)
    if not results_dir.is_dir():
        raise LeaderboardError(f"no results folder {results_dir}; evaluate a model with --output {results_dir}/...")
    current = current_dataset(config.dataset_dir)
    entries, problems = collect(results_dir, out, current)
    if not entries:
        what = f"; skipped {len(problems)} unusable file(s)" if problems else ""
        raise LeaderboardError(f"no usable results files under {results_dir}{what}")
    sections = rank(entries)
    ranked = [e for section in sections.values() for e in section]
    entries = tuple(ranked + [e for e in entries if e.status != "current"])
    board = Leaderboard(
        entries=entries,
        problems=tuple(problems),
        current=current,
        markdown=out / "LEADERBOARD.md",
        html=out / "index.html",
        sections=sections,
    )
    out.mkdir(parents=True, exist_ok=True)
    _write(board.markdown, render_markdown(board))
    _write(board.html, render_html(board))
    return board


def current_dataset(dataset_dir: Path | None = None) -> dict[str, str]:
    """Dataset config -> sha256 of its parquet file, from the dataset folder's sha256sums.txt."""
    from duality_bench.data.dataset import dataset_dir as packaged

    folder = Path(dataset_dir) if dataset_dir else packaged()
    sums = folder / "sha256sums.txt"
    try:
        lines = sums.read_text(encoding="utf-8").splitlines()
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
    from duality_bench.results import ResultsError, load_result

    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[tuple[str, ...], str] = {}
    for path in sorted(results_dir.rglob("*.json")):
        if not path.is_file():
            continue
        shown = _one_line(path.relative_to(results_dir).as_posix())
        try:
            result = load_result(path)
            check_result(result)
        except (ResultsError, UnicodeDecodeError) as e:
            reason = str(e).removeprefix(f"{path}: ") if isinstance(e, ResultsError) else "not UTF-8 text"
            problems.append(f"skipped {shown}: {_one_line(reason)}")
            continue
        model, ds = result.model, result.dataset
        key = (str(model["id"]), str(model.get("revision")), str(ds.get("config")), str(ds.get("sha256")))
        if key in seen:
            problems.append(f"skipped {shown}: same model, revision and dataset build as {seen[key]}")
            continue
        seen[key] = shown
        status, note = dataset_status(result, current)
        link = Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()
        entries.append(Entry(result=result, link=link, status=status, note=note))
    return entries, problems


def check_result(result: RunResult) -> None:
    """The fields the leaderboard shows must be there and be of the right kind."""
    from duality_bench.results import ResultsError

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ResultsError(f"results file has {what}")

    need(isinstance(result.model, dict) and isinstance(result.model.get("id"), str), "no model id")
    need(isinstance(result.dataset, dict) and isinstance(result.dataset.get("config"), str), "no dataset config")
    need(isinstance(result.metrics, dict), "no metrics")
    for key in ("duality_score", "duality_accuracy", "logit_diff"):
        value = result.metrics.get(key)
        need(_is_number(value) and math.isfinite(value), f"no finite number for metrics.{key}")
    for key in ("duality_score", "duality_accuracy"):
        need(0 <= result.metrics[key] <= 1, f"metrics.{key} outside [0, 1]")
    need(isinstance(result.metrics.get("n"), int) and result.metrics["n"] > 0, "no scored items (metrics.n)")
    n_params = result.model.get("n_params")
    need(n_params is None or (isinstance(n_params, int) and n_params >= 0), "a bad model.n_params")
    need(
        isinstance(result.breakdowns, dict) and isinstance(result.breakdowns.get("category", {}), dict),
        "bad breakdowns",
    )
    need(isinstance(result.excluded, dict), "a bad excluded section")
    need(isinstance(result.config, dict), "a bad config section")
    for by in ("category", "pair"):
        rows = result.breakdowns.get(by, {})
        need(all(isinstance(r, dict) for r in rows.values()), f"a bad breakdowns.{by}")
    asym, other = result.metrics.get("asymmetry") or {}, result.metrics.get("other_duals") or {}
    need(isinstance(asym, dict) and isinstance(other, dict), "a bad metrics.asymmetry or metrics.other_duals")
    most, by_cue = asym.get("most_asymmetric") or [], other.get("by_cue") or {}
    need(isinstance(most, list) and all(isinstance(r, dict) for r in most), "a bad metrics.asymmetry.most_asymmetric")
    need(isinstance(by_cue, dict) and all(isinstance(r, dict) for r in by_cue.values()), "a bad other_duals.by_cue")


def dataset_status(result: RunResult, current: dict[str, str]) -> tuple[str, str]:
    """(current | stale | partial | unverified, why it is not ranked)."""
    ds, run = result.dataset, result.config
    name, sha = ds.get("config"), ds.get("sha256")
    if ds.get("name", "duality-pairs") != "duality-pairs" or name not in current:
        return "unverified", f"dataset {ds.get('name')!s}:{name} is not a config of this dataset"
    if not sha:
        return "unverified", "scored on items given directly, not on a dataset file (no dataset sha256)"
    if sha != current[name]:
        return "stale", f"scored on an older dataset build (sha256 {str(sha)[:12]}, current {current[name][:12]})"
    if run.get("limit") or run.get("categories"):
        return "partial", "scored on part of the dataset (--limit or --category)"
    return "current", ""


def rank(entries: list[Entry]) -> dict[str, tuple[Entry, ...]]:
    """Current entries per dataset config, best duality score first (then logit difference)."""
    by_config: dict[str, list[Entry]] = {}
    for e in entries:
        if e.status == "current":
            by_config.setdefault(e.config, []).append(e)
    order = sorted(by_config, key=lambda c: (CONFIG_ORDER.index(c) if c in CONFIG_ORDER else len(CONFIG_ORDER), c))

    def key(e: Entry) -> tuple:
        m = e.metrics
        return (-m["duality_score"], -m["logit_diff"], e.model_id, str(e.result.model.get("revision")))

    return {c: tuple(sorted(by_config[c], key=key)) for c in order}


def ranks(section: tuple[Entry, ...]) -> list[str]:
    """Rank numbers for a ranked section; reference rows get none."""
    out, n = [], 0
    for e in section:
        if e.reference is None:
            n += 1
            out.append(str(n))
        else:
            out.append("ref")
    return out


def categories(section: tuple[Entry, ...]) -> list[str]:
    return sorted({str(c) for e in section for c in e.result.breakdowns.get("category", {})})


# --- numbers as shown ---------------------------------------------------------------------


def number(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if _is_number(value) and math.isfinite(value) else "–"


def params(n: Any) -> str:
    if not isinstance(n, int) or n <= 0:
        return "–"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def logit_diff_cell(m: dict[str, Any]) -> str:
    ci = m.get("logit_diff_ci95")
    if isinstance(ci, list) and len(ci) == 2 and all(_is_number(v) and math.isfinite(v) for v in ci):
        return f"{number(m['logit_diff'], 2)} [{ci[0]:.2f}, {ci[1]:.2f}]"
    return number(m["logit_diff"], 2)


def asymmetry(m: dict[str, Any]) -> Any:
    return (m.get("asymmetry") or {}).get("mean_abs_acc_asym")


def other_dual(m: dict[str, Any]) -> Any:
    return (m.get("other_duals") or {}).get("prefers_other_dual")


def category_accuracy(e: Entry, category: str) -> Any:
    row = e.result.breakdowns.get("category", {}).get(category)
    return row.get("duality_accuracy") if isinstance(row, dict) else None


def scored(e: Entry) -> str:
    excluded = e.result.excluded.get("count")
    return f"{e.metrics['n']} / {excluded if isinstance(excluded, int) else '–'}"


# --- markdown -----------------------------------------------------------------------------

# The metric columns of both pages, in order: (name, what it means, where it is in the metrics).
METRIC_COLUMNS: tuple[tuple[str, str, Callable[[dict[str, Any]], Any]], ...] = (
    (
        "duality score",
        "the headline, by which rows are ranked: the mean over categories of the share of items where the "
        "model rates the cue's dual above the cue itself; every curated category and every WordNet part of "
        "speech weighs alike",
        lambda m: m.get("duality_score"),
    ),
    ("curated", "the duality score over the curated categories", lambda m: m.get("curated_score")),
    (
        "WordNet",
        "the duality score over the WordNet core's parts of speech (affix pairs apart)",
        lambda m: m.get("wordnet_score"),
    ),
    (
        "affix",
        "accuracy on WordNet's affix pairs (aware/unaware), which test morphology",
        lambda m: m.get("affix_accuracy"),
    ),
    (
        "vs control",
        "like the duality score, with a control word (same part of speech and frequency, no dual) in place of "
        "the cue: what the model knows about the dual beyond not copying the word it just read",
        lambda m: m.get("control_score"),
    ),
    ("zero-shot", "the duality score on zero-shot templates", lambda m: (m.get("family_score") or {}).get("zero-shot")),
    (
        "few-shot",
        "the duality score on few-shot templates (hot -> cold, big -> small, fast -> slow, then the cue)",
        lambda m: (m.get("family_score") or {}).get("few-shot"),
    ),
    (
        "top-1",
        "over items whose dual is one token: share where it is the model's most likely next token",
        lambda m: m.get("top1_accuracy"),
    ),
    (
        "asymmetry",
        "mean over pairs of |accuracy a->b - accuracy b->a| (0: symmetric, 1: one direction only)",
        lambda m: asymmetry(m),
    ),
    (
        "other dual",
        "where the cue has a second dual (right: left and wrong), the share of items where the model rates "
        "that second dual above the target: the right/wrong effect",
        lambda m: other_dual(m),
    ),
)

COLUMNS_HELP = (
    *((name, text) for name, text, _ in METRIC_COLUMNS),
    (
        "logit diff",
        "mean logit(dual) - logit(cue) (log-likelihood difference for words of several tokens), with a "
        "bootstrap 95% interval",
    ),
    ("scored / excluded", "items scored, and items left out (only under --scoring next-token)"),
)


def md(text: Any) -> str:
    """Text from a results file, safe in a markdown table cell: no markup, no HTML, one line."""
    s = " ".join(str(text).split())
    s = re.sub(r"([\\`*_\[\]|~#!])", r"\\\1", s)
    return html.escape(s, quote=False)


def render_markdown(board: Leaderboard) -> str:
    lines = [
        "# duality-bench leaderboard",
        "",
        "How well causal language models complete dual opposites (left/right, up/down, me/you). Built by "
        "`duality-bench leaderboard` from the results files in this folder; the page with plots is `index.html`.",
        "",
    ]
    for config, section in board.sections.items():
        cats = categories(section)
        n_items = {e.result.dataset.get("n_items") for e in section}
        items = f", {n_items.pop()} items" if len(n_items) == 1 else ""
        lines += [f"## Dataset config `{md(config)}` (sha256 `{board.current[config][:12]}`{items})", ""]
        head = ["#", "model", "revision", "params", *(name for name, _, _ in METRIC_COLUMNS), "logit diff [95% CI]"]
        head += [*(f"{md(c)} acc." for c in cats), "scored / excluded", "results"]
        lines += ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        for r, e in zip(ranks(section), section, strict=True):
            m = e.metrics
            name = md(e.model_id) + (" (reference)" if e.reference else "")
            row = [r, name, md(e.result.model.get("revision") or "–"), params(e.result.model.get("n_params"))]
            row += [number(get(m)) for _, _, get in METRIC_COLUMNS] + [logit_diff_cell(m)]
            row += [number(category_accuracy(e, c)) for c in cats]
            row += [scored(e), f"[json]({md_link(e.link)})"]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    if board.references:
        lines += ["## Reference rows", ""]
        lines += [f"- **{md(model_id)}**: {md(text)}" for model_id, text in board.references]
        lines.append("")
    if board.unranked:
        lines += ["## Not ranked", "", "| model | revision | dataset config | why | results |", "|---|---|---|---|---|"]
        for e in board.unranked:
            revision = md(e.result.model.get("revision") or "–")
            lines.append(
                f"| {md(e.model_id)} | {revision} | {md(e.config)} | {md(e.note)} | [json]({md_link(e.link)}) |"
            )
        lines.append("")
    lines += ["## Columns", ""]
    lines += [f"- **{name}**: {text}." for name, text in COLUMNS_HELP]
    lines += ["", ADD_A_MODEL, ""]
    return "\n".join(lines)


ADD_A_MODEL = (
    "To add a model: `duality-bench eval MODEL --output leaderboard/results/ORG__MODEL/CONFIG.json`, then "
    "`duality-bench leaderboard`, and submit the results file in a pull request."
)


def md_link(link: str) -> str:
    from urllib.parse import quote

    return quote(link, safe="/._-~")


# --- helpers ------------------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)

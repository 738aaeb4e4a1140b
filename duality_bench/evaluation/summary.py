"""A scored run as a `RunResult` (metrics, breakdowns, provenance), and its printed summary."""

from __future__ import annotations

import datetime as dt

from duality_bench.data.dataset import DATASET_NAME, HUB_REPO_ID, items_digest
from duality_bench.data.records import PromptItem
from duality_bench.evaluation import metrics
from duality_bench.provenance import git_hash, package_version
from duality_bench.results import (
    DatasetInfo,
    Excluded,
    ItemScore,
    Metrics,
    ModelInfo,
    Row,
    RunOptions,
    RunResult,
    number,
    parse,
)

BREAKDOWNS = ("source", "category", "family", "template_id", "pos", "direction")
EXCLUDED_REASON = "target or distractor is several tokens"


def summarize_run(
    model: ModelInfo,
    options: RunOptions,
    items: list[PromptItem],
    scores: list[ItemScore],
    excluded: list[str],
    dataset_sha: str | None,
) -> RunResult:
    """Metrics and breakdowns of `scores` over `items`, with where they came from."""
    frame = metrics.score_frame(items, scores)
    headline = metrics.headline(frame, seed=options.seed, n_boot=options.n_bootstrap)
    headline["asymmetry"] = metrics.summarize_asymmetry(frame)
    headline["other_duals"] = metrics.other_dual_preference(frame)
    breakdowns = {by: metrics.breakdown(frame, by) for by in BREAKDOWNS}
    breakdowns["pair"] = metrics.breakdown(frame, "pair_id")
    return RunResult(
        model=model,
        dataset=DatasetInfo(
            id=HUB_REPO_ID,
            name=DATASET_NAME,
            config=options.dataset,
            sha256=dataset_sha,
            items_sha256=items_digest(items),
            n_items=len(items),
        ),
        package_version=package_version(),
        git_hash=git_hash(),
        options=options,
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        metrics=parse(Metrics, headline, "metrics"),
        breakdowns={
            by: {k: parse(Row, row, f"breakdowns.{by}") for k, row in b.items()} for by, b in breakdowns.items()
        },
        excluded=Excluded(count=len(excluded), reason=EXCLUDED_REASON, ids=tuple(excluded)),
        scores=tuple(scores),
    )


def summary_table(result: RunResult) -> str:
    """The printed summary of a run: headline metrics, then one row per category."""
    m, model = result.metrics, result.model
    lo, hi = m.logit_diff_ci95 or (float("nan"), float("nan"))
    families = "   ".join(f"{f} {v:.3f}" for f, v in m.family_score.items() if v is not None)
    n_params = f"{model.n_params / 1e6:.0f}M params, " if model.n_params else ""
    lines = [
        f"model      {model.id}  ({n_params}{model.dtype}, {model.device})",
        f"dataset    {result.dataset.name}:{result.dataset.config}  "
        f"{m.n} items scored ({m.n_single_token} single-token), {result.excluded.count} excluded",
        f"duality score {number(m.duality_score)}  (mean of per-category accuracies; curated "
        f"{number(m.curated_score)}, wordnet {number(m.wordnet_score)}, affix {number(m.affix_accuracy)})",
        f"dual above cue {number(m.duality_accuracy)}   dual above control {number(m.control_accuracy)}   "
        f"any dual above cue {number(m.any_dual_accuracy)}   (share of items)",
        f"logit diff {number(m.logit_diff, 2)} [{lo:.2f}, {hi:.2f}]   top-1 {number(m.top1_accuracy)} "
        f"(single-token items)" + (f"   {families}" if families else ""),
    ]
    asym, other = m.asymmetry, m.other_duals
    if asym.pairs:
        lines.append(
            f"asymmetry  mean |acc a->b - b->a| {number(asym.mean_abs_acc_asym)}, "
            f"mean |logit diff a->b - b->a| {number(asym.mean_abs_ld_asym, 2)} over {asym.pairs} pairs"
        )
    if other.n:
        lines.append(f"other duals  preferred over the target on {number(other.prefers_other_dual)} of {other.n} items")
    lines += ["", f"{'category':<22} {'n':>6} {'vs cue':>7} {'vs ctrl':>7} {'top1':>6} {'logit diff':>10}"]
    for cat, row in result.breakdowns.get("category", {}).items():
        lines.append(
            f"{cat:<22} {row.n:>6} {number(row.duality_accuracy):>7} {number(row.control_accuracy):>7} "
            f"{number(row.top1_accuracy):>6} {number(row.logit_diff, 2):>10}"
        )
    return "\n".join(lines)

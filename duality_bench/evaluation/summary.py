"""A scored run as a `RunResult` (metrics, breakdowns, provenance), and its printed summary."""

from __future__ import annotations

import datetime as dt

from duality_bench import statistics
from duality_bench.data.dataset import DATASET_NAME, HUB_REPO_ID, items_digest
from duality_bench.data.records import PromptItem
from duality_bench.display import number, visible
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
    if not frame.empty:
        sums = statistics.pair_sums(frame)
        headline["duality_score_ci95"] = list(
            statistics.score_interval(sums, seed=options.seed, n_boot=options.n_bootstrap)
        )
        choice = statistics.pair_sums(frame, "choice_correct")
        headline["choice_accuracy_ci95"] = list(
            statistics.score_interval(choice, seed=options.seed, n_boot=options.n_bootstrap, by="item")
        )
        headline["strict_pair_accuracy"] = statistics.strict_pair_accuracy(frame)
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


def _interval(ci: tuple[float, float] | None) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}] " if ci else ""


def summary_table(result: RunResult) -> str:
    """The printed summary of a run: headline metrics, then one row per category. Names from the model id
    or a pairs file show hidden characters as escapes: they must not act on the terminal."""
    m, model = result.metrics, result.model
    lo, hi = m.logit_diff_ci95 or (float("nan"), float("nan"))
    families = "   ".join(f"{f} {v:.3f}" for f, v in m.family_score.items() if v is not None)
    n_params = f"{model.n_params / 1e6:.0f}M params, " if model.n_params else ""
    lines = [
        f"model      {visible(model.id)}  ({n_params}{visible(str(model.dtype))}, {visible(str(model.device))})",
        f"dataset    {visible(result.dataset.name)}:{visible(result.dataset.config)}  "
        f"{m.n} items scored ({m.n_single_token} single-token), {result.excluded.count} excluded",
        f"duality score {number(m.duality_score)} {_interval(m.duality_score_ci95)} (mean of per-category "
        f"accuracies; curated {number(m.curated_score)}, wordnet {number(m.wordnet_score)}, affix "
        f"{number(m.affix_accuracy)}); strict pairs {number(m.strict_pair_accuracy)}",
        f"dual above cue {number(m.duality_accuracy)}   dual above control {number(m.control_accuracy)}   "
        f"any dual above cue {number(m.any_dual_accuracy)}   (share of items)",
        # every foil: the cue, related and control words at once; calibrated: vs the cue, PMI over the neutral prompt
        f"dual above related {number(m.related_accuracy)}   above every foil {number(m.choice_accuracy)} "
        f"{_interval(m.choice_accuracy_ci95)}(chance {number(m.choice_chance)})   "
        f"calibrated {number(m.calibrated_accuracy)}   (share of items)",
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
    head = ("vs cue", "vs ctrl", "vs rel", "choice", "calib")
    lines += [
        "",
        f"{'category':<22} {'n':>6} " + " ".join(f"{h:>7}" for h in head) + f" {'top1':>6} {'logit diff':>10}",
    ]
    for cat, row in result.breakdowns.get("category", {}).items():
        shares = (row.duality_accuracy, row.control_accuracy, row.related_accuracy, row.choice_accuracy)
        shares += (row.calibrated_accuracy,)
        lines.append(
            f"{visible(cat):<22} {row.n:>6} "
            + " ".join(f"{number(v):>7}" for v in shares)
            + f" {number(row.top1_accuracy):>6} {number(row.logit_diff, 2):>10}"
        )
    return "\n".join(lines)

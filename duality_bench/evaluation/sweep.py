"""Evaluate several models one after another: one results file each, skipping finished work.

A model whose results file already holds this very run is skipped (unless `overwrite`); one
that fails, whatever the reason, is reported in one line and the sweep goes on to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from duality_bench.data.dataset import dataset_sha256, items_digest
from duality_bench.data.records import PromptItem
from duality_bench.data.selection import select_items
from duality_bench.display import number, visible
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.run import EvalConfig, evaluate
from duality_bench.models.loading import model_id
from duality_bench.results import ResultsError, RunResult, default_result_path, load_result


@dataclass(frozen=True)
class SweepRow:
    spec: str
    status: str  # "done", "skipped" (results exist for this dataset build) or "failed"
    output: Path
    result: RunResult | None = None
    error: str | None = None


def read_models_file(path: str | Path) -> list[str]:
    """One model spec per line; blank lines and `#` comments are ignored."""
    not_text = DualityBenchError(f"models file {path} is not text; list one model spec per line")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise DualityBenchError(f"cannot read models file {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise not_text from None
    if "\0" in text:
        raise not_text
    lines = text.split("\n")  # a spec is never split at a Unicode line separator
    specs = [line.split("#", 1)[0].strip() for line in lines]
    return [s for s in specs if s]


def run_sweep(
    specs: Sequence[str],
    config: EvalConfig,
    *,
    output_dir: Path = Path("results"),
    report: Callable[[str], None] = print,
    items: list[PromptItem] | None = None,
) -> list[SweepRow]:
    """Evaluate each spec in turn; `config.output` is used only for a single model. `items`
    (a user's pairs, rendered) replace the dataset's."""
    if not specs:
        raise DualityBenchError("no model given; name one or more models, or pass --models-file")
    if len(specs) > 1 and config.output:
        raise DualityBenchError("--out FILE names one results file; use --out DIR for several models")
    current = dataset_sha256(config.dataset, config.dataset_dir) if items is None else None
    digest = items_digest(select_items(config.selection, items)) if items is not None else None
    rows = []
    for spec in specs:
        out = config.output or default_result_path(model_id(spec), config.dataset, output_dir, config.revision)
        try:
            old = finished_run(spec, out, config, current, digest)
            if old is not None:
                report(visible(f"skip {spec}: {out} already holds this run's results (--overwrite to redo)"))
                rows.append(SweepRow(spec, "skipped", out, old))
                continue
            result = evaluate(spec, replace(config, output=out), items=items)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # a sweep passes over any failing model, whatever it raised
            message = str(e) if isinstance(e, DualityBenchError) else f"{type(e).__name__}: {e}"
            report(visible(f"error: {spec}: {' '.join(message.split())}"))  # a spec may hold any character
            rows.append(SweepRow(spec, "failed", out, error=message))
            continue
        rows.append(SweepRow(spec, "done", out, result))
    return rows


def finished_run(
    spec: str, out: Path, config: EvalConfig, dataset_sha: str | None, items_sha: str | None = None
) -> RunResult | None:
    """The results at `out` if they are this very run (model, revision, dtype, dataset build,
    config and options); None if there are none to keep. Results of another run are an error."""
    if config.overwrite or config.resume or not out.is_file():
        return None
    try:
        old = load_result(out)
    except ResultsError:
        return None  # not a results file: `evaluate` refuses to replace it, with the reason
    o = old.options
    wanted = {
        "model": (old.model.id, model_id(spec)),
        "revision": (o.revision, config.revision),
        "dtype": (o.dtype, config.dtype),
        "dataset build": (old.dataset.sha256, dataset_sha),
        "items": (old.dataset.items_sha256, items_sha) if items_sha else (None, None),
        "dataset config": (old.dataset.config, config.dataset),
        "scoring": (o.scoring, config.scoring),
        "limit": (o.limit, config.limit),
        "categories": (tuple(o.categories), tuple(config.categories)),
    }
    differ = [name for name, (was, now) in wanted.items() if was != now]
    if differ:
        raise DualityBenchError(
            f"{out} holds results of another run (different {', '.join(differ)}); "
            "pass --overwrite to replace them or choose another --out"
        )
    return old


def sweep_table(rows: Sequence[SweepRow]) -> str:
    """One line per model: status and headline metrics; specs and paths with hidden characters escaped."""
    lines = [f"{'model':<32} {'status':<8} {'items':>6} {'score':>6} {'vs cue':>6} {'logit diff':>10}  results"]
    for row in rows:
        if row.result is None:
            lines.append(f"{visible(row.spec):<32} {row.status:<8} {'':>6} {'':>6} {'':>6} {'':>10}  -")
            continue
        m = row.result.metrics
        lines.append(
            f"{visible(row.spec):<32} {row.status:<8} {m.n:>6} {number(m.duality_score):>6} "
            f"{number(m.duality_accuracy):>6} {number(m.logit_diff, 2):>10}  {visible(str(row.output))}"
        )
    return "\n".join(lines)

"""Evaluate several models one after another: one results file each, skipping finished work.

A model whose results file already holds this dataset build is skipped (unless `overwrite`);
one that fails to load is reported in one line and the sweep goes on to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from duality_bench.data.records import RunResult
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.run import EvalConfig, evaluate


@dataclass(frozen=True)
class SweepRow:
    spec: str
    status: str  # "done", "skipped" (results exist for this dataset build) or "failed"
    output: Path
    result: RunResult | None = None
    error: str | None = None


def read_models_file(path: str | Path) -> list[str]:
    """One model spec per line; blank lines and `#` comments are ignored."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise DualityBenchError(f"cannot read models file {path}: {e.strerror}") from None
    specs = [line.split("#", 1)[0].strip() for line in lines]
    return [s for s in specs if s]


def run_sweep(
    specs: Sequence[str],
    config: EvalConfig,
    *,
    output_dir: Path = Path("results"),
    report: Callable[[str], None] = print,
) -> list[SweepRow]:
    """Evaluate each spec in turn; `config.output` is used only for a single model."""
    from duality_bench.data.dataset import file_sha256, parquet_path
    from duality_bench.evaluation.models import model_id
    from duality_bench.results import ResultsError, default_result_path, load_result

    if not specs:
        raise DualityBenchError("no model given; name one or more models, or pass --models-file")
    if len(specs) > 1 and config.output:
        raise DualityBenchError("--output names one results file; use --output-dir for several models")
    current = file_sha256(parquet_path(config.config, config.dataset_dir))
    rows = []
    for spec in specs:
        out = config.output or default_result_path(model_id(spec), config.config, output_dir)
        if out.exists() and not (config.overwrite or config.resume):
            try:
                old = load_result(out)
            except ResultsError:
                old = None
            same_run = old is not None and (
                old.dataset.get("sha256") == current
                and old.config.get("limit") == config.limit
                and old.config.get("scoring") == config.scoring
                and list(old.config.get("categories", [])) == list(config.categories)
            )
            if same_run:
                report(f"skip {spec}: {out} already holds results for this dataset build (--overwrite to redo)")
                rows.append(SweepRow(spec, "skipped", out, old))
                continue
        try:
            result = evaluate(spec, replace(config, output=out))
        except DualityBenchError as e:
            report(f"error: {spec}: {e}")
            rows.append(SweepRow(spec, "failed", out, error=str(e)))
            continue
        rows.append(SweepRow(spec, "done", out, result))
    return rows


def sweep_table(rows: Sequence[SweepRow]) -> str:
    """One line per model: status and headline metrics."""
    lines = [f"{'model':<32} {'status':<8} {'items':>6} {'score':>6} {'vs cue':>6} {'logit diff':>10}  results"]
    for row in rows:
        if row.result is None:
            lines.append(f"{row.spec:<32} {row.status:<8} {'':>6} {'':>6} {'':>6} {'':>10}  -")
            continue
        m = row.result.metrics
        lines.append(
            f"{row.spec:<32} {row.status:<8} {m['n']:>6} {m['duality_score']:>6.3f} {m['duality_accuracy']:>6.3f} "
            f"{m['logit_diff']:>10.2f}  {row.output}"
        )
    return "\n".join(lines)

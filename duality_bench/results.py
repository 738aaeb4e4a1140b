"""Results files: the run's JSON summary, and the per-item scores (jsonl) that double as the
resume file.

The items file starts with a header line naming what the run is (model, dataset digest,
scoring), then one line per scored item, appended and flushed batch by batch, so a run that
dies keeps everything it scored. When the run ends it is rewritten in dataset order.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from duality_bench.errors import DualityBenchError
from duality_bench.records import ItemScore, RunResult

SCHEMA_VERSION = 1
SCORE_FIELDS = tuple(f.name for f in fields(ItemScore))


class ResultsError(DualityBenchError, ValueError):
    """A results or items file that cannot be read."""


def items_path(result_path: str | Path) -> Path:
    p = Path(result_path)
    return p.with_name(p.stem + ".items.jsonl")


def default_result_path(model_id: str, config: str, root: str | Path = "results") -> Path:
    """results/<org__model>/<config>.json"""
    return Path(root) / model_id.strip("/").replace("/", "__") / f"{config}.json"


def save_result(result: RunResult, path: str | Path) -> Path:
    """Write the summary JSON (scores stay in the items file)."""
    path = Path(path)
    data = {"schema_version": SCHEMA_VERSION, **{k: v for k, v in asdict(result).items() if k != "scores"}}
    _atomic_write(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path


def load_result(path: str | Path) -> RunResult:
    """Read a summary JSON back (without item scores); a broken file is a one-line error."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ResultsError(f"{path}: cannot read results file ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not valid JSON (line {e.lineno}: {e.msg}); is the file truncated?") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        found = data.get("schema_version") if isinstance(data, dict) else type(data).__name__
        raise ResultsError(
            f"{path}: not a duality-bench results file (schema_version {found!r}, expected {SCHEMA_VERSION})"
        )
    names = {f.name for f in fields(RunResult)} - {"scores"}
    missing = names - data.keys()
    if missing:
        raise ResultsError(f"{path}: results file lacks {', '.join(sorted(missing))}")
    return RunResult(**{k: data[k] for k in names})


def read_items_file(path: str | Path) -> tuple[dict[str, Any], list[ItemScore]]:
    """(header, scores) of an items file. A torn last line (a crash mid-write) is dropped;
    any other bad line is an error naming the file and line."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise ResultsError(f"{path}: empty items file; delete it or run without --resume")
    try:
        header = json.loads(lines[0])
        if not isinstance(header, dict) or "fingerprint" not in header:
            raise ValueError("no fingerprint")
    except ValueError:
        raise ResultsError(f"{path}:1: not a duality-bench items file header; delete it to start over") from None
    scores = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            row = json.loads(line)
            scores.append(ItemScore(**{k: row[k] for k in SCORE_FIELDS}))
        except (ValueError, KeyError, TypeError) as e:
            if n == len(lines) and not line.endswith("}"):
                break  # torn final write: the batch is simply scored again
            raise ResultsError(f"{path}:{n}: corrupt score line ({type(e).__name__}); fix or delete the line") from None
    return header, scores


def score_line(score: ItemScore) -> str:
    return json.dumps(asdict(score)) + "\n"


def write_items_file(path: str | Path, header: dict[str, Any], scores: list[ItemScore]) -> None:
    _atomic_write(Path(path), json.dumps(header) + "\n" + "".join(score_line(s) for s in scores))


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def summary_table(result: RunResult) -> str:
    """The printed summary of a run: headline metrics, then one row per category."""
    m, model = result.metrics, result.model
    lo, hi = m.get("logit_diff_ci95", [float("nan")] * 2)
    asym = m.get("asymmetry", {})
    other = m.get("other_duals", {})
    families = "   ".join(f"{f} {v:.3f}" for f, v in (m.get("family_score") or {}).items() if v is not None)
    n_params = f"{model['n_params'] / 1e6:.0f}M params, " if model.get("n_params") else ""
    lines = [
        f"model      {model['id']}  ({n_params}{model['dtype']}, {model['device']})",
        f"dataset    {result.dataset['name']}:{result.dataset['config']}  "
        f"{m['n']} items scored ({m['n_single_token']} single-token), {result.excluded['count']} excluded",
        f"duality score {_num(m.get('duality_score'))}  (mean of per-category accuracies; curated "
        f"{_num(m.get('curated_score'))}, wordnet {_num(m.get('wordnet_score'))}, "
        f"affix {_num(m.get('affix_accuracy'))})",
        f"dual above cue {m['duality_accuracy']:.3f}   dual above control {_num(m.get('control_accuracy'))}   "
        f"any dual above cue {_num(m.get('any_dual_accuracy'))}   (share of items)",
        f"logit diff {m['logit_diff']:.2f} [{lo:.2f}, {hi:.2f}]   top-1 {_num(m.get('top1_accuracy'))} "
        f"(single-token items)" + (f"   {families}" if families else ""),
    ]
    if asym.get("pairs"):
        lines.append(
            f"asymmetry  mean |acc a->b - b->a| {asym['mean_abs_acc_asym']:.3f}, "
            f"mean |logit diff a->b - b->a| {asym['mean_abs_ld_asym']:.2f} over {asym['pairs']} pairs"
        )
    if other.get("n"):
        lines.append(
            f"other duals  preferred over the target on {other['prefers_other_dual']:.3f} of {other['n']} items"
        )
    lines += ["", f"{'category':<22} {'n':>6} {'vs cue':>7} {'vs ctrl':>7} {'top1':>6} {'logit diff':>10}"]
    for cat, row in result.breakdowns.get("category", {}).items():
        acc, ctrl, top1, ld = (
            row["duality_accuracy"],
            row.get("control_accuracy"),
            row["top1_accuracy"],
            row["logit_diff"],
        )
        lines.append(f"{cat:<22} {row['n']:>6} {acc:>7.3f} {_num(ctrl):>7} {_num(top1):>6} {ld:>10.2f}")
    return "\n".join(lines)


def _num(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"

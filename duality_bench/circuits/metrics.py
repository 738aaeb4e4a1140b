"""`metrics.json`: the numbers of one circuit search, for sweeps and other tools (report.md is for
people). Written into every circuit folder; `read_metrics` reads one back as typed records, every
field checked as a results file's are (`results.parse`), a bad file answered in one line.

Non-finite numbers (a faithfulness where the clean and corrupted runs tie) are written as null.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from duality_bench.circuits.faithfulness import Curve, smallest_reaching
from duality_bench.circuits.result import CircuitResult
from duality_bench.errors import DualityBenchError
from duality_bench.provenance import git_hash, package_version
from duality_bench.results import ResultsError, atomic_write, parse
from duality_bench.results.files import read_json

FORMAT = 1
TOP = 20  # edges and nodes listed, by |score|


class MetricsError(DualityBenchError, ValueError):
    """A metrics.json that cannot be read."""


@dataclass(frozen=True)
class CurvePoint:
    percent: float  # of the graph's edges
    edges: int
    faithfulness: float | None  # (LD_circuit - LD_corrupted) / (LD_clean - LD_corrupted); None where undefined


@dataclass(frozen=True)
class Scored:
    name: str  # an edge (`a23.h3->logits`) or a node (`a23.h3`, `m10`)
    score: float


@dataclass(frozen=True)
class CircuitMetrics:
    format: int
    model: str
    revision: str | None
    architecture: str
    pairs: tuple[str, ...]  # pair ids; empty: every pair of the config
    dataset: str  # the dataset config
    method: str  # eap, eap-ig or exact
    steps: int  # EAP-IG interpolation steps
    greedy: bool  # circuits grown back from the logits, not the top edges
    n_items: int
    n_nodes: int
    n_edges: int
    ld_clean: float
    ld_corrupted: float
    cpr: float | None
    cmd: float | None
    level: float  # the faithfulness the smallest circuit must reach
    smallest_percent: float | None  # the smallest listed edge fraction whose circuit reaches `level`
    smallest_edges: int | None
    by_score: tuple[CurvePoint, ...]  # circuits of the top edges by score (CPR)
    by_abs_score: tuple[CurvePoint, ...]  # by |score| (CMD)
    top_edges: tuple[Scored, ...]
    top_nodes: tuple[Scored, ...]  # a node's score: the sum of its outgoing edges'
    spearman: float | None  # node scores against exact node patching, when it was run
    seconds: dict[str, float]
    package_version: str
    git_hash: str | None
    date: str
    limit: int | None = None  # the run's item limit (--limit), None: every item of its pairs


def circuit_metrics(result: CircuitResult) -> CircuitMetrics:
    cfg, graph = result.config, result.graph
    at = smallest_reaching(result.cpr_curve, cfg["level"])
    edges, up = graph.edge_names(), graph.upstream
    return CircuitMetrics(
        format=FORMAT,
        model=result.model_id,
        revision=result.revision,
        architecture=str(result.model_cfg.get("architecture", "")),
        pairs=tuple(cfg["pairs"]),
        dataset=cfg["dataset"],
        method=cfg["method"],
        steps=cfg["steps"],
        greedy=bool(cfg.get("greedy")),
        n_items=len(result.items),
        n_nodes=len(up) + 1,
        n_edges=graph.n_edges,
        ld_clean=result.ld_clean,
        ld_corrupted=result.ld_corrupted,
        cpr=_finite(result.cpr),
        cmd=_finite(result.cmd),
        level=cfg["level"],
        smallest_percent=result.cpr_curve.percents[at] if at is not None else None,
        smallest_edges=result.cpr_curve.n_edges[at] if at is not None else None,
        by_score=_points(result.cpr_curve),
        by_abs_score=_points(result.cmd_curve),
        top_edges=tuple(Scored(edges[i], float(result.scores[i])) for i in _top(result.scores)),
        top_nodes=tuple(Scored(up[i], float(result.nodes[i])) for i in _top(result.nodes)),
        spearman=_finite(result.spearman),
        seconds={k: round(v, 2) for k, v in result.seconds.items()},
        package_version=package_version(),
        git_hash=git_hash(),
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        limit=cfg.get("limit"),
    )


def write_metrics(path: Path, metrics: CircuitMetrics) -> Path:
    atomic_write({path: json.dumps(asdict(metrics), indent=1) + "\n"})
    return path


def read_metrics(path: str | Path) -> CircuitMetrics:
    """A metrics.json as typed records; a missing, cut, too deep or malformed file is one `MetricsError` line."""
    path = Path(path)
    try:
        data = read_json(path, "circuit metrics file")
    except ResultsError as e:
        raise MetricsError(str(e)) from None
    if isinstance(data, dict) and data.get("format") != FORMAT:
        raise MetricsError(f"{path}: not a circuit metrics file (format {data.get('format')!r}, expected {FORMAT})")
    try:
        return parse(CircuitMetrics, data)
    except ResultsError as e:
        raise MetricsError(f"{path}: {e}") from None


def _points(curve: Curve) -> tuple[CurvePoint, ...]:
    return tuple(
        CurvePoint(p, n, _finite(f)) for p, n, f in zip(curve.percents, curve.n_edges, curve.faithfulness, strict=True)
    )


def _top(values: np.ndarray) -> list[int]:
    return [int(i) for i in np.argsort(-np.abs(values), kind="stable")[:TOP]]


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None

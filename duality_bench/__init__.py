"""duality-bench: how well do language models complete dual opposites (left/right, up/down)?

The stages, each a subpackage: `data` (pairs -> templates -> dataset), `evaluation` (models ->
scoring -> metrics -> results files), `leaderboard` (results files -> ranked pages) and
`analysis` (circuits). `results` is the results-file format they share.

The public API below is imported on first use, so that `import duality_bench.cli` (and so
`duality-bench --help`) never loads torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "evaluate": "duality_bench.evaluation.run",
    "EvalConfig": "duality_bench.evaluation.run",
    "build_dataset": "duality_bench.data.build",
    "BuildConfig": "duality_bench.data.dataset",
    "load": "duality_bench.data.dataset",
    "load_items": "duality_bench.data.dataset",
    "report_tokenizer": "duality_bench.data.vocabulary",
    "DualPair": "duality_bench.data.records",
    "PromptItem": "duality_bench.data.records",
    "ItemScore": "duality_bench.results",
    "RunResult": "duality_bench.results",
    "load_result": "duality_bench.results",
    "build_leaderboard": "duality_bench.leaderboard",
    "LeaderboardConfig": "duality_bench.leaderboard",
    "DualityBenchError": "duality_bench.errors",
    "analyze": "duality_bench.analysis",
    "AnalysisConfig": "duality_bench.analysis",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from duality_bench.provenance import package_version

        return package_version()
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'duality_bench' has no attribute {name!r}")

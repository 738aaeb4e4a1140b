"""duality-bench: how well do language models complete dual opposites (left/right, up/down)?

The public API is imported lazily so that `duality-bench --help` never loads torch.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# Imported eagerly (it imports nothing heavy) so that `duality_bench.evaluate` is the function,
# not the submodule of the same name.
from duality_bench.evaluate import EvalConfig, evaluate  # noqa: E402

_EXPORTS = {
    "build_dataset": "duality_bench.dataset",
    "BuildConfig": "duality_bench.dataset",
    "load": "duality_bench.dataset",
    "load_items": "duality_bench.dataset",
    "report_tokenizer": "duality_bench.vocabulary",
    "DualPair": "duality_bench.records",
    "PromptItem": "duality_bench.records",
    "ItemScore": "duality_bench.records",
    "RunResult": "duality_bench.records",
    "DualityBenchError": "duality_bench.errors",
    "analyze": "duality_bench.analysis",
    "AnalysisConfig": "duality_bench.analysis",
}

__all__ = ["__version__", "EvalConfig", "evaluate", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'duality_bench' has no attribute {name!r}")

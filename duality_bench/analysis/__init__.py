"""Circuit analysis of dual-opposite completion: logit lens, direct logit attribution per head
and MLP, batched activation patching, attention patterns, with figures and a report.

One entry call, `analyze(model, AnalysisConfig(...))`, returns the tensors (`AnalysisResult`)
and, with `out` set, writes report.md, analysis.json and the figures. The pieces are public for
notebooks: `adapt` a transformers model (`duality_bench.models.adapters`), `tokenize_items`,
`run_trace`, then `logit_lens`, `attribute` and `patch` on the traces. Supported architectures: see `ADAPTERS`.

Modules, each importing only those above it: `trace`
(batches, cached and restarted passes), `lens`, `attribution`, `recovery` (the three forms of
patching recovery), `patching`, `result` (the config and result types), `summary` (per-group
numbers), `figures`, `report` (the files), `pipeline` (`analyze`). Of the rest of the package,
this subpackage may import `duality_bench.errors`, `duality_bench.provenance`, `duality_bench.data` and
`duality_bench.models`; never `duality_bench.leaderboard` or `duality_bench.cli`
(the CLI imports it, lazily, so that `duality-bench --help` does not load torch).
"""

from __future__ import annotations

from duality_bench.analysis.attribution import Attribution, attribute
from duality_bench.analysis.lens import logit_lens
from duality_bench.analysis.patching import SITES, Patching, patch
from duality_bench.analysis.pipeline import analyze
from duality_bench.analysis.recovery import recovery_by_role, recovery_of_means, recovery_per_item
from duality_bench.analysis.result import AnalysisConfig, AnalysisResult
from duality_bench.analysis.trace import PromptBatch, Trace, run_trace, tokenize_items
from duality_bench.data.selection import select_items
from duality_bench.models.adapters import ADAPTERS, UnsupportedModelError, adapt

__all__ = [
    "ADAPTERS",
    "SITES",
    "AnalysisConfig",
    "AnalysisResult",
    "Attribution",
    "Patching",
    "PromptBatch",
    "Trace",
    "UnsupportedModelError",
    "adapt",
    "analyze",
    "attribute",
    "logit_lens",
    "patch",
    "recovery_by_role",
    "recovery_of_means",
    "recovery_per_item",
    "run_trace",
    "select_items",
    "tokenize_items",
]

"""Circuit analysis of dual-opposite completion: logit lens, direct logit attribution per head
and MLP, batched activation patching, attention patterns, with figures and a report.

One entry call, `analyze(model, AnalysisConfig(...))`, returns the tensors (`AnalysisResult`)
and, with `out` set, writes report.md, analysis.json and the figures. The pieces are public for
notebooks: `adapt` a transformers model, `tokenize_items`, `run_trace`, then `logit_lens`,
`attribute` and `patch` on the traces. Supported architectures: see `components.ADAPTERS`.
"""

from __future__ import annotations

from duality_bench.analysis.attribution import Attribution, attribute
from duality_bench.analysis.components import ADAPTERS, UnsupportedModelError, adapt
from duality_bench.analysis.lens import logit_lens
from duality_bench.analysis.patching import KINDS, Patching, patch
from duality_bench.analysis.pipeline import AnalysisConfig, AnalysisResult, analyze, select_items
from duality_bench.analysis.trace import PromptBatch, Trace, run_trace, tokenize_items

__all__ = [
    "ADAPTERS",
    "KINDS",
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
    "run_trace",
    "select_items",
    "tokenize_items",
]

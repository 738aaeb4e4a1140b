"""The results-file format: what one run measured and where it came from, as typed records.

Written by the evaluator, read by the leaderboard and the dataset card's template audit. It
imports only `errors`, so every stage may use it. `schema` holds the records and their validation
(`RunResult.from_json`), `files` where results files go and how they are written and read.
"""

from duality_bench.results.files import atomic_write, default_result_path, load_result, save_result, unwritable_ancestor
from duality_bench.results.schema import (
    FORMAT,
    REFERENCE_PREFIX,
    Asymmetry,
    CueRow,
    DatasetInfo,
    Excluded,
    ItemScore,
    Metrics,
    ModelInfo,
    OtherDuals,
    PairAsymmetry,
    ResultsError,
    Row,
    RunOptions,
    RunResult,
    parse,
)

__all__ = [
    "FORMAT",
    "REFERENCE_PREFIX",
    "Asymmetry",
    "CueRow",
    "DatasetInfo",
    "Excluded",
    "ItemScore",
    "Metrics",
    "ModelInfo",
    "OtherDuals",
    "PairAsymmetry",
    "ResultsError",
    "Row",
    "RunOptions",
    "RunResult",
    "atomic_write",
    "default_result_path",
    "load_result",
    "parse",
    "save_result",
    "unwritable_ancestor",
]

"""The results-file format: what one run measured and where it came from, as typed records.

`RunResult.from_json` is the one way in: it checks every field's type, that numbers are finite, that accuracies
and rates lie in [0, 1] and that counts are non-negative integers, and names the first field that is wrong in one
line. The JSON stays a plain nested object (`pd.json_normalize` flattens it). Format 1 files (`schema_version`; run
options, now `options`, under `config`) still load, as do files that lack the fields added since (optional).
"""

from __future__ import annotations

import functools
import json
import math
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from typing import Any, Union

from duality_bench.errors import DualityBenchError

FORMAT = 2
REFERENCE_PREFIX = "baseline/"  # model ids of the reference rows (chance, frequency, copy)
UNIT = {"range": (0.0, 1.0)}  # field metadata: a share, in [0, 1]
COUNT = {"range": (0, math.inf)}  # field metadata: a count, >= 0


class ResultsError(DualityBenchError, ValueError):
    """A results or items file that cannot be read."""


def _unit(default: Any = None) -> Any:
    return field(default=default, metadata=UNIT)


def _count(default: Any = MISSING) -> Any:
    return field(default=default, metadata=COUNT)


@dataclass(frozen=True)
class ItemScore:
    """What one model did on one item.

    Log-probs are of the whole continuation (`" " + word` after the prompt): for a one-token
    word that is the next token's log-prob, for a longer word the sum over its tokens. Logits
    are the first token's. For single-token items logit_diff is the logit difference, which
    equals the log-prob difference; otherwise it is the log-prob difference.
    """

    item_id: str
    target_logit: float
    distractor_logit: float
    target_logprob: float
    distractor_logprob: float
    logit_diff: float  # target - distractor
    target_rank: int | None  # 0 = the model's argmax next token; None unless single_token
    top1: bool | None  # target is the argmax next token; None unless single_token
    single_token: bool  # target and distractor are one token each for this tokenizer
    control_logprob: float | None = None  # the item's control word
    control_diff: float | None = None  # target - control, log-probs
    other_dual: str | None = None  # the cue's best-scoring other dual, if it has any
    other_dual_logprob: float | None = None
    related_logprob: float | None = None  # the item's related word (hot: warm), if it has one
    related_diff: float | None = None  # target - related, log-probs
    target_neutral_logprob: float | None = None  # after the item's neutral prompt, if it has one
    distractor_neutral_logprob: float | None = None
    calibrated_diff: float | None = None  # (target - target_neutral) - (distractor - distractor_neutral)


@dataclass(frozen=True)
class ModelInfo:
    id: str
    spec: str
    revision: str | None  # hub commit, package version, or file digest
    dtype: str
    device: str
    n_params: int | None = _count(None)  # None: not a network (the word-level reference rows)
    architecture: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    id: str
    name: str
    config: str  # curated | wordnet | wordnet-full | all
    sha256: str | None  # of the config's parquet file; None when items were given directly
    items_sha256: str | None = None
    n_items: int = _count(0)


@dataclass(frozen=True)
class RunOptions:
    """The options a run was given (`EvalConfig`), and how it ran."""

    dataset: str
    limit: int | None = None
    categories: tuple[str, ...] = ()
    scoring: str = "sequence"
    batch_size: int | None = None
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    device_map: str | None = None
    trust_remote_code: bool = False
    output: str | None = None
    resume: bool = False
    overwrite: bool = False
    seed: int = 0
    n_bootstrap: int = 1000
    dataset_dir: str | None = None
    processes: int = 1
    items_file: str | None = None  # per-item scores, beside the results file


@dataclass(frozen=True)
class Row:
    """One row of a breakdown (per category, template, pair, ...)."""

    n: int = _count()
    duality_accuracy: float | None = _unit()
    control_accuracy: float | None = _unit()
    any_dual_accuracy: float | None = _unit()
    top1_accuracy: float | None = _unit()
    logit_diff: float | None = None
    related_accuracy: float | None = _unit()  # this and below: absent from older files
    choice_accuracy: float | None = _unit()
    choice_chance: float | None = _unit()
    calibrated_accuracy: float | None = _unit()


@dataclass(frozen=True)
class PairAsymmetry:
    """One pair's a->b against b->a, on the templates both directions share."""

    pair_id: str
    source: str
    category: str
    a: str
    b: str
    n_templates: int = _count()
    acc_ab: float = _unit()
    acc_ba: float = _unit()
    ld_ab: float = 0.0
    ld_ba: float = 0.0
    acc_asym: float = field(default=0.0, metadata={"range": (-1.0, 1.0)})
    ld_asym: float = 0.0


@dataclass(frozen=True)
class Asymmetry:
    pairs: int = _count(0)
    mean_abs_acc_asym: float | None = _unit()
    mean_abs_ld_asym: float | None = None
    most_asymmetric: tuple[PairAsymmetry, ...] = ()  # by |ld_asym|, largest first


@dataclass(frozen=True)
class CueRow:
    n: int = _count()
    prefers_other_dual: float | None = _unit()
    other_dual: str | None = None


@dataclass(frozen=True)
class OtherDuals:
    n: int = _count(0)
    prefers_other_dual: float | None = _unit()
    by_cue: dict[str, CueRow] = field(default_factory=dict)


@dataclass(frozen=True)
class Metrics:
    """The headline numbers (see `evaluation.metrics.headline`)."""

    n: int = _count()
    duality_score: float | None = _unit()
    curated_score: float | None = _unit()
    wordnet_score: float | None = _unit()
    affix_accuracy: float | None = _unit()
    control_score: float | None = _unit()
    any_dual_score: float | None = _unit()
    family_score: dict[str, float | None] = field(default_factory=dict, metadata=UNIT)
    duality_accuracy: float | None = _unit()
    control_accuracy: float | None = _unit()
    any_dual_accuracy: float | None = _unit()
    logit_diff: float | None = None
    logit_diff_ci95: tuple[float, float] | None = None
    control_logit_diff: float | None = None
    n_single_token: int = _count(0)
    top1_accuracy: float | None = _unit()
    median_target_rank: float | None = field(default=None, metadata=COUNT)
    asymmetry: Asymmetry = field(default_factory=Asymmetry)
    other_duals: OtherDuals = field(default_factory=OtherDuals)
    related_score: float | None = _unit()  # this and below: absent from older files
    related_accuracy: float | None = _unit()
    choice_accuracy: float | None = _unit()
    choice_chance: float | None = _unit()
    calibrated_score: float | None = _unit()
    calibrated_accuracy: float | None = _unit()
    duality_score_ci95: tuple[float, float] | None = None  # pairs resampled within categories, run's seed
    choice_accuracy_ci95: tuple[float, float] | None = None  # the same, items weighing alike
    strict_pair_accuracy: float | None = _unit()  # pairs right both ways on most of their templates


@dataclass(frozen=True)
class Excluded:
    count: int = _count(0)
    reason: str = ""
    ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunResult:
    """A whole evaluation: provenance, aggregate metrics, breakdowns and the item scores."""

    model: ModelInfo
    dataset: DatasetInfo
    package_version: str
    git_hash: str | None
    options: RunOptions
    date: str
    metrics: Metrics
    breakdowns: dict[str, dict[str, Row]]  # by -> value -> row; by is category, template_id, pair, ...
    excluded: Excluded
    scores: tuple[ItemScore, ...] = field(default=(), repr=False, compare=False)  # kept in the items file, not the JSON

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["scores"]
        return {"format": FORMAT, **data}

    @classmethod
    def from_json(cls, data: Any) -> RunResult:
        """Validate a parsed results file; a bad field raises ResultsError naming it."""
        if not isinstance(data, dict):
            raise ResultsError(f"not a duality-bench results file (a JSON {type(data).__name__}, not an object)")
        if (version := data.get("format", 1 if data.get("schema_version") == 1 else None)) == 1:
            data = _upgrade(data)
        elif version != FORMAT:
            found = data.get("format", data.get("schema_version"))
            raise ResultsError(f"not a duality-bench results file (format {found!r}, expected 1 or {FORMAT})")
        return parse(cls, {k: v for k, v in data.items() if k != "format"})


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 -> 2: run options were `config`, their dataset config `config.config`."""
    data = {k: v for k, v in data.items() if k != "schema_version"}
    options = data.pop("config", None)
    if isinstance(options, dict) and "config" in options:
        options = {("dataset" if k == "config" else k): v for k, v in options.items()}
    data["options"] = options
    return data


# --- typed reading ------------------------------------------------------------------------
_type_hints = functools.cache(typing.get_type_hints)  # resolved once per class, not per Row of a file


def parse(cls: type, data: Any, where: str = "") -> Any:
    """`data` (parsed JSON) as an instance of the dataclass `cls`, every field checked."""
    if not isinstance(data, dict):
        raise ResultsError(f"{where or 'the file'}: expected an object, got {_kind(data)}")
    hints = _type_hints(cls)
    known = {f.name for f in fields(cls)}
    values = {}
    for f in fields(cls):
        if f.name == "scores":
            continue
        name = f"{where}.{f.name}" if where else f.name
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ResultsError(f"{name}: missing")
            continue
        values[f.name] = _convert(hints[f.name], data[f.name], name, f.metadata.get("range"))
    extra = sorted(set(data) - known)
    if extra and where == "":
        raise ResultsError(f"unknown fields {', '.join(extra)}")
    return cls(**values)


def _convert(tp: Any, value: Any, where: str, bounds: tuple[float, float] | None) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = (a for a in args if a is not type(None))
        return _convert(inner, value, where, bounds)
    if tp is Any:
        return value
    if is_dataclass(tp):
        return parse(tp, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ResultsError(f"{where}: expected a list, got {_kind(value)}")
        types_ = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(types_) != len(value):
            raise ResultsError(f"{where}: expected {len(types_)} values, got {len(value)}")
        return tuple(
            _convert(t, v, f"{where}[{n}]", bounds) for n, (t, v) in enumerate(zip(types_, value, strict=True))
        )
    if origin is dict:
        if not isinstance(value, dict):
            raise ResultsError(f"{where}: expected an object, got {_kind(value)}")
        return {str(k): _convert(args[1], v, f"{where}.{k}", bounds) for k, v in value.items()}
    return _scalar(tp, value, where, bounds)


def _scalar(tp: Any, value: Any, where: str, bounds: tuple[float, float] | None) -> Any:
    if tp is str:
        if not isinstance(value, str):
            raise ResultsError(f"{where}: expected text, got {_kind(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ResultsError(f"{where}: expected true or false, got {_kind(value)}")
        return value
    integral = tp is int
    if isinstance(value, bool) or not isinstance(value, int if integral else (int, float)):
        raise ResultsError(f"{where}: expected {'an integer' if integral else 'a number'}, got {_kind(value)}")
    if not math.isfinite(value):
        raise ResultsError(f"{where}: expected a finite number, got {value}")
    if bounds and not bounds[0] <= value <= bounds[1]:
        hi = "" if math.isinf(bounds[1]) else f", {bounds[1]:g}]"
        raise ResultsError(f"{where}: {value} is outside [{bounds[0]:g}{hi or ', inf)'}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    text = json.dumps(value)
    return f"{type(value).__name__} {text[:40]}" if isinstance(value, (str, int, float)) else type(value).__name__

"""`evaluate(model, config)`: score a model on the dataset and write its results files.

The flow, a function each: plan (items, output files, what is already scored) -> load the
scorer -> score what is left, appending each batch to the items file (resumable) -> summarise
-> write the results JSON. Under `accelerate launch` (or torchrun) each process scores its share
of the items into its own part file; the main process gathers every score and writes the files.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from duality_bench.data.dataset import check_config, dataset_sha256, items_digest, load_items
from duality_bench.data.records import PromptItem
from duality_bench.data.selection import Selection, select_items
from duality_bench.display import visible
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.items import items_path, read_items_file, score_line, write_items_file
from duality_bench.evaluation.scorer import ModelScorer, Scorer
from duality_bench.evaluation.scoring import SCORINGS
from duality_bench.evaluation.summary import summarize_run
from duality_bench.models.loading import LoadedModel, as_loaded, model_id
from duality_bench.results import (
    ItemScore,
    ResultsError,
    RunOptions,
    RunResult,
    default_result_path,
    load_result,
    parse,
    save_result,
    unwritable_ancestor,
)

# Bump when what a score means changes, so --resume never mixes scores of two scorers.
SCORER_VERSION = 2


@dataclass(frozen=True)
class EvalConfig:
    dataset: str = "all"  # dataset config: curated | wordnet | wordnet-full | all
    limit: int | None = None  # the first N items of the selection
    categories: tuple[str, ...] = ()  # only these categories (empty: all)
    # "sequence": every item, words of several tokens by their continuation's log-likelihood;
    # "next-token": only items whose target and distractor are one token each
    scoring: str = "sequence"
    batch_size: int | None = None  # None: auto, start large and halve on out-of-memory
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    device_map: str | None = None  # "auto": spread a large model over the available devices
    trust_remote_code: bool = False
    output: Path | None = None  # results JSON; default results/<org__model>/<revision>/<dataset>.json
    resume: bool = False
    overwrite: bool = False
    seed: int = 0  # for the bootstrap
    n_bootstrap: int = 1000
    dataset_dir: Path | None = None  # default: the packaged dataset
    progress: bool = True

    @property
    def selection(self) -> Selection:
        return Selection(self.dataset, self.dataset_dir, self.categories, limit=self.limit)


@dataclass(frozen=True)
class Plan:
    """What a run will score and where it writes."""

    items: list[PromptItem]
    dataset_sha: str | None  # of the dataset file; None when items were given directly
    output: Path
    items_file: Path


def evaluate(
    model: str | LoadedModel | tuple[Any, Any] | Scorer,
    config: EvalConfig | None = None,
    *,
    items: list[PromptItem] | None = None,
) -> RunResult:
    """Score `model` (what `as_loaded` takes, or any `Scorer`) and write the results files.

    `items` replaces the dataset selection (for tests and notebooks). Raises DualityBenchError
    with a one-line reason for bad input; scored items survive any interruption.
    """
    config = config or EvalConfig()
    model = as_loaded(model) if isinstance(model, tuple) else model  # a (model, tokenizer) pair
    plan = plan_run(model, config, items)
    state = distributed_state()
    scorer = load_scorer(model, config, state)
    requests = scorer.prepare(plan.items)
    excluded = [r.item.id for r in requests if not r.single_token] if config.scoring == "next-token" else []
    requests = [r for r in requests if r.item.id not in set(excluded)]
    if not requests:
        raise DualityBenchError(
            f"none of the {len(plan.items)} selected items has a single-token target and distractor for this "
            "tokenizer; use --scoring sequence"
        )
    header = {"fingerprint": fingerprint(scorer, config, plan)}
    scores = score_resumable(scorer, requests, plan, header, config, state)
    options = run_options(config, plan, processes=_world(state)[1])
    result = summarize_run(scorer.info, options, plan.items, scores, excluded, plan.dataset_sha)
    if _world(state)[0] == 0:
        _restart_items_file(plan.items_file, {**header, "complete": True}, scores)
        save_result(result, plan.output)
    _barrier(state)
    return result


def plan_run(model: Any, config: EvalConfig, items: list[PromptItem] | None = None) -> Plan:
    """Check the options, select the items and settle the output files, before anything loads."""
    check_config(config.dataset)  # `user` for a user's pairs given as `items`
    if config.scoring not in SCORINGS:
        raise DualityBenchError(f"unknown scoring {config.scoring!r}; choose one of {', '.join(SCORINGS)}")
    if config.batch_size is not None and config.batch_size < 1:
        raise DualityBenchError(f"batch size must be a positive integer or auto, got {config.batch_size}")
    dataset_sha = None
    if items is None:
        items = load_items(config.dataset, config.dataset_dir)
        dataset_sha = dataset_sha256(config.dataset, config.dataset_dir)
    name = model if isinstance(model, str) else model.id if isinstance(model, LoadedModel) else model.info.id
    out = (
        Path(config.output)
        if config.output
        else default_result_path(model_id(name), config.dataset, revision=config.revision)
    )
    check_output(out, config)
    return Plan(select_items(config.selection, items), dataset_sha, out, items_path(out))


def check_output(out: Path, config: EvalConfig) -> None:
    """Refuse, before any scoring, an output that cannot be written or would replace other work."""
    if out.suffix != ".json" or out.name.endswith(".items.json"):
        raise DualityBenchError(f"--out {out} must name a results .json file (its scores go beside it)")
    if out.is_dir():
        raise DualityBenchError(f"--out {out} is a folder; name a results .json file in it")
    if out.exists() and not (config.overwrite or config.resume):
        try:
            load_result(out)
        except ResultsError as e:
            raise DualityBenchError(
                f"--out {out} exists and is not a results file ({str(e).removeprefix(f'{out}: ')}); "
                "choose another --out or pass --overwrite"
            ) from None
        raise DualityBenchError(f"{out} holds finished results; pass --resume to reuse them or --overwrite to redo")
    blocked = unwritable_ancestor(out.parent)
    if blocked is not None:
        raise DualityBenchError(f"cannot write results under {blocked}; choose another --out")


def load_scorer(model: str | LoadedModel | Scorer, config: EvalConfig, state: Any = None) -> Scorer:
    """A scorer for `model`: a spec string is loaded as a Hugging Face causal LM (`as_loaded`)."""
    if not isinstance(model, (str, LoadedModel)):
        return model
    device = config.device
    if state and device == "auto":
        device = "cpu" if state.device.type == "cpu" else str(state.device)
    options = {
        "revision": config.revision,
        "device_map": config.device_map,
        "trust_remote_code": config.trust_remote_code,
    }
    return ModelScorer(as_loaded(model, dtype=config.dtype, device=device, **options), config.batch_size)


def run_options(config: EvalConfig, plan: Plan, processes: int = 1) -> RunOptions:
    """The options as the results file records them: how the run was asked for, and how it ran."""
    given = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items() if k != "progress"}
    return parse(RunOptions, {**given, "processes": processes, "items_file": plan.items_file.name}, "options")


def fingerprint(scorer: Scorer, config: EvalConfig, plan: Plan) -> dict[str, Any]:
    """What an items file's scores depend on; --resume refuses a file whose fingerprint differs."""
    return {
        "model": scorer.info.id,
        "revision": scorer.info.revision,
        "dtype": scorer.info.dtype,
        "config": config.dataset,
        "scoring": config.scoring,
        "scorer": SCORER_VERSION,
        "items_sha256": items_digest(plan.items),
        "dataset_sha256": plan.dataset_sha,
    }


# --- scoring, resumable and data-parallel -------------------------------------------------


def score_resumable(
    scorer: Scorer, requests: list[Any], plan: Plan, header: dict[str, Any], config: EvalConfig, state: Any
) -> list[ItemScore]:
    """Every request's score, in dataset order: what the items file holds, plus the rest scored now."""
    rank, world = _world(state)
    scores = _existing_scores(plan.items_file, plan.output, header, config)  # every process reads, none writes yet
    _barrier(state)
    if rank == 0:
        _restart_items_file(plan.items_file, header, scores)
    _barrier(state)
    done = {s.item_id for s in scores}
    todo = [r for r in requests if r.item.id not in done][rank::world]
    write_to = plan.items_file if world == 1 else part_path(plan.items_file, rank)
    if world > 1:
        write_items_file(write_to, header, [])
    new: list[ItemScore] = []
    _score_into(scorer, todo, write_to, new, progress=config.progress and rank == 0)
    if state:
        from accelerate.utils import gather_object

        new = gather_object(new)
    order = {item.id: n for n, item in enumerate(plan.items)}
    wanted = {r.item.id for r in requests}
    return sorted((s for s in scores + new if s.item_id in wanted), key=lambda s: order[s.item_id])


def _score_into(scorer: Scorer, todo: list[Any], items_file: Path, scores: list[ItemScore], progress: bool) -> None:
    from tqdm.auto import tqdm

    if not todo:
        return
    bar = tqdm(total=len(todo), unit="item", desc=f"scoring {visible(scorer.info.id)}", disable=not progress)
    with open(items_file, "a", encoding="utf-8") as f:

        def keep(batch_scores: list[ItemScore]) -> None:
            f.write("".join(score_line(s) for s in batch_scores))
            f.flush()
            scores.extend(batch_scores)
            bar.update(len(batch_scores))

        try:
            scorer.score(todo, keep)
        except KeyboardInterrupt:
            print(
                f"\ninterrupted: {len(scores)} scored items kept in {visible(str(items_file))}; rerun with --resume",
                file=sys.stderr,
            )
            raise
        finally:
            bar.close()


def _existing_scores(items_file: Path, out: Path, header: dict[str, Any], config: EvalConfig) -> list[ItemScore]:
    """Scores already on disk, from the items file and any part files (with --resume).

    Read-only, so every process of a data-parallel run reaches the same answer or error.
    Without --resume or --overwrite, existing work is an error: nothing is silently clobbered.
    """
    existing = [p for p in (items_file, *_parts(items_file)) if p.exists()]
    if not existing or config.overwrite:
        return []
    if not config.resume:
        what = "finished results" if out.exists() else "a partial run"
        raise DualityBenchError(
            f"{existing[0]} holds {what}; pass --resume to continue from it or --overwrite to start over"
        )
    scores: dict[str, ItemScore] = {}
    for path in existing:
        old_header, found = read_items_file(path)
        diff = [k for k, v in header["fingerprint"].items() if old_header["fingerprint"].get(k) != v]
        if diff:
            raise ResultsError(
                f"{path} was scored with a different {', '.join(diff)}; use another --out or --overwrite"
            )
        scores.update((s.item_id, s) for s in found)
    return list(scores.values())


def _restart_items_file(items_file: Path, header: dict[str, Any], scores: list[ItemScore]) -> None:
    """One clean items file holding what was kept (no torn last line, no part files)."""
    write_items_file(items_file, header, scores)
    for part in _parts(items_file):
        part.unlink(missing_ok=True)


def distributed_state() -> Any:
    """accelerate's PartialState when this process is one of several, else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    import torch
    from accelerate import PartialState

    # Without cpu=True accelerate treats a GPU-less torchrun launch as a single process.
    return PartialState(cpu=not torch.cuda.is_available())


def _world(state: Any) -> tuple[int, int]:
    return (state.process_index, state.num_processes) if state else (0, 1)


def _barrier(state: Any) -> None:
    if state is not None:
        state.wait_for_everyone()


def part_path(items_file: Path, rank: int) -> Path:
    """Where process `rank` of a data-parallel run appends its scores."""
    return items_file.with_name(items_file.name.removesuffix(".jsonl") + f".rank{rank}.jsonl")


def _parts(items_file: Path) -> list[Path]:
    return sorted(items_file.parent.glob(items_file.name.removesuffix(".jsonl") + ".rank*.jsonl"))

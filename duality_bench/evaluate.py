"""`evaluate(model, config)`: score a causal LM on the dataset and write a results file.

The flow: select items -> tokenize -> (resume: drop what the items file already holds) ->
score in length-sorted batches, appending each batch to the items file -> metrics over all
scores -> results JSON with its provenance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from duality_bench.errors import DualityBenchError
from duality_bench.records import ItemScore, PromptItem, RunResult
from duality_bench.results import (
    ResultsError,
    default_result_path,
    items_path,
    read_items_file,
    save_result,
    score_line,
    write_items_file,
)

# Bump when what a score means changes, so --resume never mixes scores of two scorers.
SCORER_VERSION = 2
AUTO_BATCH = {"cpu": 64, "mps": 128, "cuda": 512}


@dataclass(frozen=True)
class EvalConfig:
    config: str = "all"  # dataset config: curated | wordnet | all
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
    output: Path | None = None  # results JSON; default results/<org__model>/<config>.json
    resume: bool = False
    overwrite: bool = False
    seed: int = 0  # for the bootstrap
    n_bootstrap: int = 1000
    dataset_dir: Path | None = None  # default: the packaged dataset
    progress: bool = True


def evaluate(model: Any, config: EvalConfig | None = None, *, items: list[PromptItem] | None = None) -> RunResult:
    """Score `model` (a spec string or a `LoadedModel`) and write the results files.

    `items` replaces the dataset selection (for tests and notebooks). Raises DualityBenchError
    with a one-line reason for bad input; scored items survive any interruption.

    Under `accelerate launch` (or torchrun) each process scores its share of the items into its
    own part file; the main process gathers every score and writes the one results file.
    """
    from duality_bench.dataset import check_config, parquet_path
    from duality_bench.models import LoadedModel, load_model
    from duality_bench.scoring import SCORINGS, prepare

    config = config or EvalConfig()
    check_config(config.config)
    if config.scoring not in SCORINGS:
        raise DualityBenchError(f"unknown scoring {config.scoring!r}; choose one of {', '.join(SCORINGS)}")
    if config.batch_size is not None and config.batch_size < 1:
        raise DualityBenchError(f"batch size must be a positive integer or auto, got {config.batch_size}")
    dataset_sha = None
    if items is None:
        from duality_bench.dataset import file_sha256, load_items

        items = load_items(config.config, config.dataset_dir)
        dataset_sha = file_sha256(parquet_path(config.config, config.dataset_dir))
    items = select(items, config)
    state = distributed_state()
    rank, world = (state.process_index, state.num_processes) if state else (0, 1)
    device = config.device
    if state and device == "auto":
        device = "cpu" if state.device.type == "cpu" else str(state.device)
    if isinstance(model, LoadedModel):
        loaded = model
    else:
        loaded = load_model(
            model,
            revision=config.revision,
            dtype=config.dtype,
            device=device,
            device_map=config.device_map,
            trust_remote_code=config.trust_remote_code,
        )
    prepared = prepare(loaded.tokenizer, items)
    excluded = [p.item.id for p in prepared if not p.single_token] if config.scoring == "next-token" else []
    skip = set(excluded)
    prepared = [p for p in prepared if p.item.id not in skip]
    if not prepared:
        raise DualityBenchError(
            f"none of the {len(items)} selected items has a single-token target and distractor for this "
            "tokenizer; use --scoring sequence"
        )

    out = Path(config.output) if config.output else default_result_path(loaded.id, config.config)
    items_file = items_path(out)
    header = {"fingerprint": _fingerprint(loaded, config, items, dataset_sha)}
    scores = _existing_scores(items_file, out, header, config)  # every process reads, none writes yet
    _barrier(state)
    if rank == 0:
        _restart_items_file(items_file, header, scores)
    _barrier(state)
    done = {s.item_id for s in scores}
    todo = [p for p in prepared if p.item.id not in done][rank::world]
    write_to = items_file if world == 1 else part_path(items_file, rank)
    if world > 1:
        write_items_file(write_to, header, [])
    new: list[ItemScore] = []
    _run(loaded, todo, write_to, new, replace(config, progress=config.progress and rank == 0))
    if state:
        from accelerate.utils import gather_object

        new = gather_object(new)
    scores += new

    order = {item.id: n for n, item in enumerate(items)}
    wanted = {p.item.id for p in prepared}
    scores = sorted((s for s in scores if s.item_id in wanted), key=lambda s: order[s.item_id])
    result = summarize_run(loaded, config, items, scores, excluded, dataset_sha, items_file, processes=world)
    if rank == 0:
        _restart_items_file(items_file, {**header, "complete": True}, scores)
        save_result(result, out)
    _barrier(state)
    return result


def distributed_state() -> Any:
    """accelerate's PartialState when this process is one of several, else None."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    import torch
    from accelerate import PartialState

    # Without cpu=True accelerate treats a GPU-less torchrun launch as a single process.
    return PartialState(cpu=not torch.cuda.is_available())


def _barrier(state: Any) -> None:
    if state is not None:
        state.wait_for_everyone()


def part_path(items_file: Path, rank: int) -> Path:
    """Where process `rank` of a data-parallel run appends its scores."""
    return items_file.with_name(items_file.name.removesuffix(".jsonl") + f".rank{rank}.jsonl")


def _parts(items_file: Path) -> list[Path]:
    return sorted(items_file.parent.glob(items_file.name.removesuffix(".jsonl") + ".rank*.jsonl"))


def _remove_parts(items_file: Path) -> None:
    for part in _parts(items_file):
        part.unlink(missing_ok=True)


def select(items: list[PromptItem], config: EvalConfig) -> list[PromptItem]:
    """Filter by category, then keep the first `limit`; an empty selection is an error."""
    if config.categories:
        known = sorted({i.category for i in items})
        unknown = [c for c in config.categories if c not in known]
        if unknown:
            raise DualityBenchError(
                f"unknown categories {unknown} in config {config.config!r}; known: {', '.join(known)}"
            )
        items = [i for i in items if i.category in config.categories]
    if config.limit is not None:
        if config.limit < 1:
            raise DualityBenchError(f"--limit must be at least 1, got {config.limit}")
        items = items[: config.limit]
    if not items:
        raise DualityBenchError("no items selected; loosen --limit or the category filter")
    return items


def _fingerprint(loaded: Any, config: EvalConfig, items: list[PromptItem], dataset_sha: str | None) -> dict[str, Any]:
    return {
        "model": loaded.id,
        "revision": loaded.revision,
        "dtype": loaded.dtype,
        "config": config.config,
        "scoring": config.scoring,
        "scorer": SCORER_VERSION,
        "items_sha256": items_digest(items),
        "dataset_sha256": dataset_sha,
    }


def items_digest(items: list[PromptItem]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(json.dumps(asdict(item), sort_keys=True).encode())
    return h.hexdigest()


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
                f"{path} was scored with a different {', '.join(diff)}; use another --output or --overwrite"
            )
        scores.update((s.item_id, s) for s in found)
    return list(scores.values())


def _restart_items_file(items_file: Path, header: dict[str, Any], scores: list[ItemScore]) -> None:
    """One clean items file holding what was kept (no torn last line, no part files)."""
    write_items_file(items_file, header, scores)
    _remove_parts(items_file)


def _run(loaded: Any, todo: list, items_file: Path, scores: list[ItemScore], config: EvalConfig) -> None:
    from tqdm.auto import tqdm

    from duality_bench.scoring import score_all

    if not todo:
        return
    auto = config.batch_size is None
    batch_size = config.batch_size or AUTO_BATCH.get(loaded.device.split(":")[0], 64)
    bar = tqdm(total=len(todo), unit="item", desc=f"scoring {loaded.id}", disable=not config.progress)
    with open(items_file, "a", encoding="utf-8") as f:

        def keep(batch_scores: list[ItemScore]) -> None:
            f.write("".join(score_line(s) for s in batch_scores))
            f.flush()
            scores.extend(batch_scores)
            bar.update(len(batch_scores))

        try:
            pad_id = loaded.tokenizer.pad_token_id
            score_all(loaded.model, pad_id, loaded.device, todo, batch_size=batch_size, on_batch=keep, auto=auto)
        except KeyboardInterrupt:
            print(
                f"\ninterrupted: {len(scores)} scored items kept in {items_file}; rerun with --resume", file=sys.stderr
            )
            raise
        finally:
            bar.close()


def summarize_run(
    loaded: Any,
    config: EvalConfig,
    items: list[PromptItem],
    scores: list[ItemScore],
    excluded: list[str],
    dataset_sha: str | None,
    items_file: Path,
    processes: int = 1,
) -> RunResult:
    from duality_bench import __version__
    from duality_bench.dataset import DATASET_NAME, HUB_REPO_ID
    from duality_bench.metrics import breakdown, other_dual_preference, score_frame, summarize, summarize_asymmetry

    frame = score_frame(items, scores)
    metrics = summarize(frame, seed=config.seed, n_boot=config.n_bootstrap)
    metrics["asymmetry"] = summarize_asymmetry(frame)
    metrics["other_duals"] = other_dual_preference(frame)
    breakdowns = {
        by: breakdown(frame, by) for by in ("source", "category", "family", "template_id", "pos", "direction")
    }
    breakdowns["pair"] = breakdown(frame, "pair_id")
    run_config = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(replace(config, progress=True)).items()}
    run_config.pop("progress")
    run_config["processes"] = processes
    run_config["items_file"] = items_file.name  # per-item scores, beside the results file
    return RunResult(
        model={
            "id": loaded.id,
            "spec": loaded.spec,
            "revision": loaded.revision,
            "dtype": loaded.dtype,
            "device": loaded.device,
            "n_params": loaded.n_params,
            "architecture": loaded.architecture,
        },
        dataset={
            "id": HUB_REPO_ID,
            "name": DATASET_NAME,
            "config": config.config,
            "sha256": dataset_sha,
            "items_sha256": items_digest(items),
            "n_items": len(items),
        },
        package_version=__version__,
        git_hash=git_hash(),
        config=run_config,
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        metrics=metrics,
        breakdowns=breakdowns,
        excluded={"count": len(excluded), "reason": "target or distractor is several tokens", "ids": excluded},
        scores=tuple(scores),
    )


def git_hash() -> str | None:
    """The checkout's commit (with `-dirty` if it has changes), or None outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "-uno"], capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")

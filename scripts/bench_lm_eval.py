"""Wall time of lm-evaluation-harness on the exported task against `duality-bench eval`, same items, one process.

    python scripts/bench_lm_eval.py --model smollm2-135m --items 500 --threads 1
    python scripts/bench_lm_eval.py --model gpt2-random --items 500 --device cuda

Both run end to end, as a user would call them in Python: lm-eval's `simple_evaluate` on the
exported task over a local dataset folder holding the first `--items` items of `--config`
(model and dataset load, two loglikelihood requests per item, metrics), and `evaluate` on the
same items (model load, every word the item needs -- target, distractor, control, the cue's
other duals -- its metrics with a 1000-sample bootstrap and its files). Both use the same batch
size, dtype and device. Each runs `--rounds` times, interleaved, and the best time counts (the
first round also warms the file cache and lm-eval's dataset cache). The script also checks
that the two agree item by item: log-likelihoods within 1e-4, same decisions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from duality_bench.evaluation.baselines import save_random_gpt2

REPO = Path(__file__).resolve().parent.parent
GPT2_TOKENIZER = REPO / "data" / "gpt2-tokenizer"


def run_lm_eval(folder: str, tasks: Path, task: str, args: argparse.Namespace) -> dict[str, Any]:
    import lm_eval
    from lm_eval.tasks import TaskManager

    return lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={folder},dtype={args.dtype}",
        tasks=[task],
        task_manager=TaskManager(include_path=str(tasks), include_defaults=False),
        log_samples=True,
        batch_size=args.batch_size,
        device=args.device,
    )


def run_eval(folder: str, items: list, out: Path, args: argparse.Namespace) -> Any:
    from duality_bench.evaluation.run import EvalConfig, evaluate

    config = EvalConfig(
        dataset=args.config,
        output=out / "r.json",
        overwrite=True,
        progress=False,
        batch_size=args.batch_size,
        dtype=args.dtype,
        device=args.device,
    )
    return evaluate(folder, config, items=items)


def best_times(
    methods: dict[str, Callable[[], Any]], rounds: int
) -> tuple[dict[str, tuple[float, float]], dict[str, Any]]:
    """Each method `rounds` times, interleaved: the best (wall, CPU) seconds of each, and what each returned last.

    CPU time (this process, all threads) is the steadier number on a shared machine.
    """
    best = dict.fromkeys(methods, (float("inf"), float("inf")))
    returned = {}
    for _ in range(rounds):
        for name, run in methods.items():
            wall, cpu = time.perf_counter(), time.process_time()
            returned[name] = run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best, returned


def agreement(harness: dict[str, Any], task: str, result: Any) -> tuple[int, float, int]:
    """(items compared, largest |log-likelihood difference|, items with the same decision)."""
    samples = {s["doc"]["id"]: s for s in harness["samples"][task]}
    worst, same = 0.0, 0
    for score in result.scores:
        (target, _), (distractor, _) = samples[score.item_id]["filtered_resps"]
        worst = max(worst, abs(target - score.target_logprob), abs(distractor - score.distractor_logprob))
        same += samples[score.item_id]["acc"] == float(score.target_logprob > score.distractor_logprob)
    return len(result.scores), worst, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help="gpt2-random, or any duality-bench model spec")
    parser.add_argument("--config", default="curated")
    parser.add_argument("--items", type=int, default=500, help="the first N items of the config")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's); 1 is steadiest when shared")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from duality_bench.data.dataset import load_items, write_parquet
    from duality_bench.evaluation.harness import export_tasks, task_name
    from duality_bench.models.loading import resolve

    tmp = Path(tempfile.mkdtemp())
    folder = (
        str(save_random_gpt2(tmp / "gpt2-random", GPT2_TOKENIZER))
        if args.model == "gpt2-random"
        else resolve(args.model)[0]
    )
    items = load_items(args.config)[: args.items]
    (tmp / "ds" / args.config).mkdir(parents=True)
    write_parquet(items, tmp / "ds" / args.config / "test.parquet")
    export_tasks(tmp / "tasks", (args.config,), tmp / "ds")
    task = task_name(args.config)
    best, out = best_times(
        {
            "lm-eval": lambda: run_lm_eval(folder, tmp / "tasks", task, args),
            "duality-bench eval": lambda: run_eval(folder, items, tmp, args),
        },
        args.rounds,
    )
    cuda = args.device.startswith("cuda")
    where = torch.cuda.get_device_name() if cuda else f"cpu, {torch.get_num_threads()} thread(s)"
    print(f"{args.model}, {len(items)} items of {args.config}, batch size {args.batch_size}, {args.dtype}, {where}")
    print(f"best of {args.rounds} rounds, end to end (model load included):")
    for name, (wall, cpu) in best.items():
        print(f"  {name:<20} wall {wall:7.2f} s ({len(items) / wall:6.1f} items/s)  cpu {cpu:7.2f} s")
    (lm_wall, lm_cpu), (db_wall, db_cpu) = best["lm-eval"], best["duality-bench eval"]
    print(f"  lm-eval / duality-bench eval: wall {lm_wall / db_wall:.2f}x, cpu {lm_cpu / db_cpu:.2f}x")
    n, worst, same = agreement(out["lm-eval"], task, out["duality-bench eval"])
    print(f"agreement: {n} items, max |delta log-likelihood| {worst:.2g}, same decision {same}/{n}")
    if worst > 1e-4 or same != n:
        raise SystemExit("lm-eval and duality-bench eval disagree")


if __name__ == "__main__":
    main()

"""Throughput of the evaluator against three baselines, in one process on the same items.

    python scripts/bench_eval.py --model gpt2-random --items 512
    python scripts/bench_eval.py --model smollm2-135m --items 512 [--device cuda] [--dtype bfloat16]

- evaluator: `duality_bench.evaluate` end to end (tokenize, batch, score, metrics, files)
- one-at-a-time: a plain loop, one prompt per forward pass, full logits
- multiple-choice: one forward pass per candidate answer (target and distractor separately),
  full logits at every position, summed log-probs of the answer, as MC harnesses score
- floor: the bare batched forward pass over pre-tokenized, pre-padded prompts, nothing else

Each method runs `--rounds` times, interleaved, and the best time counts, since this machine
is shared and noisy. Ratios matter more than absolute numbers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
GPT2_TOKENIZER = REPO / "data" / "gpt2-tokenizer"


def random_gpt2(folder: Path) -> str:
    """GPT-2 Small's architecture with random weights and GPT-2's real tokenizer: its exact cost."""
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config()).save_pretrained(folder)
    GPT2TokenizerFast.from_pretrained(GPT2_TOKENIZER).save_pretrained(folder)
    return str(folder)


def one_at_a_time(loaded, prepared) -> None:
    for p in prepared:
        ids = torch.tensor([p.prompt_ids], device=loaded.device)
        with torch.inference_mode():
            logits = loaded.model(ids).logits[0, -1]
        float(logits[p.target_ids[0]] - logits[p.distractor_ids[0]])


def multiple_choice(loaded, prepared, batch_size: int) -> None:
    from duality_bench.scoring import left_pad

    seqs = [(p.prompt_ids + c, len(c)) for p in prepared for c in (p.target_ids, p.distractor_ids)]
    for start in range(0, len(seqs), batch_size):
        chunk = seqs[start : start + batch_size]
        ids, mask = left_pad([s for s, _ in chunk], loaded.tokenizer.pad_token_id, loaded.device)
        with torch.inference_mode():
            logprobs = loaded.model(input_ids=ids, attention_mask=mask).logits.log_softmax(-1)  # [batch, seq, vocab]
        for row, (seq, k) in enumerate(chunk):
            float(sum(logprobs[row, -k - 1 + j, seq[-k + j]] for j in range(k)))


def floor(loaded, batches) -> None:
    from duality_bench.models import forward_logits

    for ids, mask in batches:
        forward_logits(loaded.model, ids, mask, keep=1)


def evaluator(loaded, items, batch_size: int, out: Path) -> None:
    from duality_bench.evaluate import EvalConfig, evaluate

    config = EvalConfig(output=out / "r.json", overwrite=True, progress=False, batch_size=batch_size)
    evaluate(loaded, config, items=items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gpt2-random", help="gpt2-random, or any duality-bench model spec")
    parser.add_argument("--items", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--config", default="curated")
    parser.add_argument("--skip-slow", action="store_true", help="skip the one-at-a-time and multiple-choice loops")
    args = parser.parse_args()

    from duality_bench.dataset import load_items
    from duality_bench.models import load_model
    from duality_bench.scoring import batches, left_pad, prepare

    tmp = Path(tempfile.mkdtemp())
    spec = random_gpt2(tmp / "gpt2-random") if args.model == "gpt2-random" else args.model
    loaded = load_model(spec, device=args.device, dtype=args.dtype)
    prepared = [p for p in prepare(loaded.tokenizer, load_items(args.config)) if p.single_token][: args.items]
    items = [p.item for p in prepared]
    pad = loaded.tokenizer.pad_token_id
    pretokenized = [left_pad([p.prompt_ids for p in b], pad, loaded.device) for b in batches(prepared, args.batch_size)]

    methods = {
        "floor (bare batched forward)": lambda: floor(loaded, pretokenized),
        "evaluator": lambda: evaluator(loaded, items, args.batch_size, tmp),
    }
    if not args.skip_slow:
        methods["multiple-choice (forward per answer)"] = lambda: multiple_choice(loaded, prepared, args.batch_size)
        methods["one-at-a-time loop"] = lambda: one_at_a_time(loaded, prepared)
    floor(loaded, pretokenized[:1])  # warm-up
    best = dict.fromkeys(methods, float("inf"))
    for _ in range(args.rounds):
        for name, run in methods.items():
            if loaded.device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            run()
            if loaded.device == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - start)

    device = torch.cuda.get_device_name() if loaded.device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    what = f"{loaded.id} ({loaded.n_params / 1e6:.0f}M, {loaded.dtype})"
    print(f"model {what}, {len(items)} items, batch {args.batch_size}, {device}")
    print("| method | items/s | vs floor | vs one-at-a-time |")
    print("|---|---:|---:|---:|")
    loop = best.get("one-at-a-time loop")
    for name, seconds in best.items():
        rate = len(items) / seconds
        vs_loop = f"{loop / seconds:.1f}x" if loop else "-"
        print(f"| {name} | {rate:.1f} | {best['floor (bare batched forward)'] / seconds:.2f} | {vs_loop} |")


if __name__ == "__main__":
    main()

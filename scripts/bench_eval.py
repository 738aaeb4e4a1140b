"""Throughput of the evaluator against three baselines, in one process on the same items.

    python scripts/bench_eval.py --model gpt2-random --items 512
    python scripts/bench_eval.py --model smollm2-135m --items 512 [--device cuda] [--dtype bfloat16]
    python scripts/bench_eval.py --model gpt2-random --config wordnet --items 2000 --multi-token

Default (single-token items of the config):

- evaluator: `duality_bench.evaluation.run` end to end (tokenize, batch, score, metrics, files)
- one-at-a-time: a plain loop, one prompt per forward pass, full logits
- multiple-choice: one forward pass per candidate answer (target and distractor separately),
  full logits at every position, summed log-probs of the answer, as MC harnesses score
- floor: the bare batched forward pass over pre-tokenized, pre-padded prompts, nothing else

With --multi-token (the first `--items` items of the config, multi-token words included):

- floor: the bare batched forward pass over the prompts (next-token only), batched by prompt length
- scorer: `scoring.score_all` on every item (tokenized beforehand, as for the floor): one prompt
  pass, then one pass over the later continuation tokens on the prompts' KV cache (prefix reuse)
- one-row-per-continuation: each word's continuation as its own row, prompt + continuation,
  left-padded, summed log-probs, as the old sequence scorer did; the scorer's target,
  distractor, control and best other-dual log-probs must equal its own within 1e-4, or the
  script fails

Each method runs `--rounds` times, interleaved, and the best time counts, since this machine
is shared and noisy (the slow one-row-per-continuation baseline of --multi-token runs once).
Ratios matter more than absolute numbers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from duality_bench.evaluation.baselines import save_random_gpt2

REPO = Path(__file__).resolve().parent.parent
GPT2_TOKENIZER = REPO / "data" / "gpt2-tokenizer"


def one_at_a_time(loaded, prepared) -> None:
    for p in prepared:
        ids = torch.tensor([p.prompt_ids], device=loaded.device)
        with torch.inference_mode():
            logits = loaded.model(ids).logits[0, -1]
        float(logits[p.target_ids[0]] - logits[p.distractor_ids[0]])


def multiple_choice(loaded, prepared, batch_size: int) -> None:
    from duality_bench.evaluation.scoring import left_pad

    seqs = [(p.prompt_ids + c, len(c)) for p in prepared for c in (p.target_ids, p.distractor_ids)]
    for start in range(0, len(seqs), batch_size):
        chunk = seqs[start : start + batch_size]
        ids, mask = left_pad([s for s, _ in chunk], loaded.tokenizer.pad_token_id, loaded.device)
        with torch.inference_mode():
            logprobs = loaded.model(input_ids=ids, attention_mask=mask).logits.log_softmax(-1)  # [batch, seq, vocab]
        for row, (seq, k) in enumerate(chunk):
            float(sum(logprobs[row, -k - 1 + j, seq[-k + j]] for j in range(k)))


def floor(loaded, batches) -> None:
    from duality_bench.models.forward import forward_logits

    for ids, mask in batches:
        forward_logits(loaded.model, ids, mask, keep=1)


def per_continuation(loaded, prepared, batch_size: int) -> list[list[float]]:
    """The plain way: one row per continuation (prompt + continuation), batch_size items per forward pass
    (length-sorted).

    Returns each item's continuation log-likelihoods, in the order of `p.continuations`.
    """
    from duality_bench.evaluation.scoring import left_pad
    from duality_bench.models.forward import forward_logits

    order = sorted(range(len(prepared)), key=lambda n: -_total_length(prepared[n]))
    out: dict[int, list[float]] = {}
    for start in range(0, len(order), batch_size):
        chunk = [prepared[n] for n in order[start : start + batch_size]]
        conts = [c for p in chunk for c in p.continuations]
        seqs = [p.prompt_ids + c for p in chunk for c in p.continuations]
        keep = max(len(c) for c in conts) + 1
        ids, mask = left_pad(seqs, loaded.tokenizer.pad_token_id, loaded.device)
        logprobs = forward_logits(loaded.model, ids, mask, keep=keep).log_softmax(-1)  # [rows, keep, vocab]
        # Token j of a k-token continuation is predicted at kept position keep-k-1+j.
        rows = torch.tensor([r for r, c in enumerate(conts) for _ in c])
        pos = torch.tensor([keep - len(c) - 1 + j for c in conts for j in range(len(c))])
        tok = torch.tensor([t for c in conts for t in c])
        per_token = logprobs[rows.to(logprobs.device), pos.to(logprobs.device), tok.to(logprobs.device)]
        sums = torch.zeros(len(conts), device=logprobs.device).index_add(0, rows.to(logprobs.device), per_token)
        flat = sums.tolist()
        for n, p in zip(order[start : start + batch_size], chunk, strict=True):
            out[n] = flat[: len(p.continuations)]
            flat = flat[len(p.continuations) :]
    return [out[n] for n in range(len(prepared))]


def _total_length(p) -> int:
    """Batches sorted by prompt + longest continuation keep the padding low, as the old scorer did."""
    return len(p.prompt_ids) + max(len(c) for c in p.continuations)


def scorer(loaded, prepared, batch_size: int) -> list:
    from duality_bench.evaluation.scoring import score_all

    scores: list = []
    score_all(
        loaded.model,
        loaded.tokenizer.pad_token_id,
        loaded.device,
        prepared,
        batch_size=batch_size,
        on_batch=scores.extend,
    )
    return scores


def compare(scores: list, prepared, plain: list[list[float]]) -> float:
    """Largest |scorer - one row per continuation| over target, distractor, control, related, best other dual
    log-probs (in the order of `p.continuations`)."""
    ref = dict(zip((p.item.id for p in prepared), plain, strict=True))
    by_id = {p.item.id: p for p in prepared}
    worst = 0.0
    for s in scores:
        lps, p = ref[s.item_id], by_id[s.item_id]
        got = [s.target_logprob, s.distractor_logprob]
        if p.control_ids:
            got.append(s.control_logprob)
        if p.related_ids:
            got.append(s.related_logprob)
        want = lps[: len(got)]
        if p.other_ids:
            got.append(s.other_dual_logprob)
            want.append(max(lps[len(want) :]))
        worst = max(worst, *(abs(a - b) for a, b in zip(got, want, strict=True)))
    return worst


def evaluator(loaded, items, batch_size: int, out: Path) -> None:
    from duality_bench.evaluation.run import EvalConfig, evaluate

    config = EvalConfig(output=out / "r.json", overwrite=True, progress=False, batch_size=batch_size)
    evaluate(loaded, config, items=items)


def best_times(methods: dict, rounds: int, device: str, once: tuple[str, ...] = ()) -> tuple[dict[str, float], dict]:
    """Each method `rounds` times (those in `once`: once), interleaved: the best wall time of each,
    and what each returned last."""
    best = dict.fromkeys(methods, float("inf"))
    returned = {}
    for n in range(rounds):
        for name, run in methods.items():
            if n and name in once:
                continue
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            returned[name] = run()
            if device == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, returned


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
    parser.add_argument(
        "--multi-token",
        action="store_true",
        help="score the first --items items, multi-token words included: floor vs scorer vs one row per continuation",
    )
    args = parser.parse_args()

    from duality_bench.models.loading import load_model

    tmp = Path(tempfile.mkdtemp())
    spec = str(save_random_gpt2(tmp / "gpt2-random", GPT2_TOKENIZER)) if args.model == "gpt2-random" else args.model
    loaded = load_model(spec, device=args.device, dtype=args.dtype)
    device = torch.cuda.get_device_name() if loaded.device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    what = f"{loaded.id} ({loaded.n_params / 1e6:.0f}M, {loaded.dtype})"
    if args.multi_token:
        bench_multi_token(loaded, args, f"{what}, config {args.config}", device)
    else:
        bench_single_token(loaded, args, tmp, what, device)


def bench_single_token(loaded, args, tmp: Path, what: str, device: str) -> None:
    from duality_bench.data.dataset import load_items
    from duality_bench.evaluation.scoring import batches, left_pad, prepare

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
    best, _ = best_times(methods, args.rounds, loaded.device)

    print(f"model {what}, {len(items)} items, batch {args.batch_size}, {device}")
    print("| method | items/s | vs floor | vs one-at-a-time |")
    print("|---|---:|---:|---:|")
    loop = best.get("one-at-a-time loop")
    for name, seconds in best.items():
        rate = len(items) / seconds
        vs_loop = f"{loop / seconds:.1f}x" if loop else "-"
        print(f"| {name} | {rate:.1f} | {best['floor (bare batched forward)'] / seconds:.2f} | {vs_loop} |")


def bench_multi_token(loaded, args, what: str, device: str) -> None:
    from duality_bench.data.dataset import load_items
    from duality_bench.evaluation.scoring import left_pad, prepare

    items = load_items(args.config)[: args.items]
    start = time.perf_counter()
    prepared = prepare(loaded.tokenizer, items)
    tokenize = time.perf_counter() - start
    pad = loaded.tokenizer.pad_token_id
    by_prompt = sorted(prepared, key=lambda p: -len(p.prompt_ids))
    pretokenized = [
        left_pad([p.prompt_ids for p in by_prompt[i : i + args.batch_size]], pad, loaded.device)
        for i in range(0, len(by_prompt), args.batch_size)
    ]
    conts = [c for p in prepared for c in p.continuations]
    multi_items = sum(any(len(c) > 1 for c in p.continuations) for p in prepared)

    names = ("floor (bare batched forward, next token)", "scorer (prefix reuse)", "one row per continuation")
    methods = {
        names[0]: lambda: floor(loaded, pretokenized),
        names[1]: lambda: scorer(loaded, prepared, args.batch_size),
        names[2]: lambda: per_continuation(loaded, prepared, args.batch_size),
    }
    floor(loaded, pretokenized[:1])  # warm-up
    best, returned = best_times(methods, args.rounds, loaded.device, once=names[2:])
    worst = compare(returned[names[1]], prepared, returned[names[2]])

    print(f"model {what}, {len(prepared)} items, batch {args.batch_size}, {device}")
    print(
        f"{multi_items} items with a multi-token word, {len(conts) / len(prepared):.2f} words per item, "
        f"{sum(len(c) > 1 for c in conts) / len(prepared):.2f} multi-token per item, "
        f"{sum(len(c) - 1 for c in conts) / len(prepared):.2f} later tokens per item, "
        f"{sum(len(p.prompt_ids) for p in prepared) / len(prepared):.1f} prompt tokens per item; "
        f"tokenizing took {tokenize:.2f} s"
    )
    print("| method | items/s | vs floor |")
    print("|---|---:|---:|")
    floor_s = best[names[0]]
    for name, seconds in best.items():
        print(f"| {name} | {len(prepared) / seconds:.1f} | {floor_s / seconds:.2f} |")
    print(f"largest |scorer - one row per continuation| log-prob difference: {worst:.2e}")
    if worst > 1e-4:
        raise SystemExit(f"the scorer's log-probs differ from the plain implementation's by {worst:.2e} > 1e-4")


if __name__ == "__main__":
    main()

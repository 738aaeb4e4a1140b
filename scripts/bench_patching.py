"""Benchmark: a full resid_pre activation-patching sweep, batched vs one forward pass per (layer, position).

The model is GPT-2 Small's architecture (`GPT2Config()`, 124M parameters) with random weights
and GPT-2's real tokenizer: it costs exactly what GPT-2 Small costs, but its numbers mean
nothing. The prompt pairs are curated dataset items of one token length (10 by default).

The reference runs what TransformerLens's `patching.get_act_patch_resid_pre` runs: for every
(layer, position), one full-depth forward pass of all corrupted prompts with the clean residual
patched in at that point, computing full-vocabulary logits at every position. The batched version
is `duality_bench.analysis.patch(sites=("resid_pre",))`. Both run in this process, one after the
other, and must agree within 1e-5 on every point's logit difference.

    python scripts/bench_patching.py --tokenizer data/gpt2-tokenizer
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import Counter


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tokenizer", default=os.environ.get("GPT2_TOKENIZER", "gpt2"), help="GPT-2 tokenizer folder")
    p.add_argument("--pairs", type=int, default=32, help="prompt pairs (default 32)")
    p.add_argument("--tokens", type=int, default=10, help="prompt length in tokens (default 10)")
    p.add_argument("--batch-size", type=int, default=256, help="patched prompts per batched forward pass")
    p.add_argument("--layers", type=int, default=12, help="GPT-2 layers (default 12, GPT-2 Small)")
    p.add_argument("--config", default="curated", help="dataset config to draw prompts from")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--transformer-lens", action="store_true", help="also time TransformerLens's own function")
    return p.parse_args()


def pick_items(tokenizer, dataset: str, n: int, length: int):
    from duality_bench.analysis import tokenize_items
    from duality_bench.data.dataset import load_items

    items = load_items(dataset)
    batches, _ = tokenize_items(tokenizer, items, max_batch=len(items))
    batch = batches[0]
    chosen = [it for it, n_tok in zip(batch.items, batch.lengths.tolist(), strict=True) if n_tok == length]
    if len(chosen) < n:
        have = Counter(batch.lengths.tolist())
        sys.exit(f"only {len(chosen)} items of {length} tokens in {dataset!r}; lengths available: {dict(have)}")
    # Spread the choice over pairs and templates rather than taking one pair's items.
    step = len(chosen) // n
    return chosen[::step][:n]


def reference_sweep(model, clean, corrupted, target, distractor):
    """One full forward per (layer, position) over all prompts; full logits everywhere. [item, layer, pos]"""
    import torch

    blocks = model.transformer.h
    acts = []
    hooks = [
        b.register_forward_pre_hook(lambda m, a, kw: acts.append(_hidden(a, kw).clone()), with_kwargs=True)
        for b in blocks
    ]
    with torch.inference_mode():
        model(clean)
    for h in hooks:
        h.remove()
    n, width = clean.shape
    out = torch.empty(n, len(blocks), width)
    rows = torch.arange(n)
    for layer, block in enumerate(blocks):
        for pos in range(width):

            def swap(m, a, kw, layer=layer, pos=pos):
                x = _hidden(a, kw).clone()
                x[:, pos] = acts[layer][:, pos]
                return ((x, *a[1:]), kw) if a else (a, {**kw, "hidden_states": x})

            h = block.register_forward_pre_hook(swap, with_kwargs=True)
            with torch.inference_mode():
                logits = model(corrupted).logits  # [item, pos, vocab]
            h.remove()
            last = logits[:, -1]
            out[:, layer, pos] = last[rows, target] - last[rows, distractor]
    return out


def _hidden(args, kwargs):
    return args[0] if args else kwargs["hidden_states"]


def main() -> None:
    args = parse()
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    from duality_bench.analysis import adapt, patch, tokenize_items

    if args.threads:
        torch.set_num_threads(args.threads)
    tokenizer = GPT2TokenizerFast.from_pretrained(args.tokenizer)
    tokenizer.pad_token = tokenizer.eos_token
    items = pick_items(tokenizer, args.config, args.pairs, args.tokens)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=args.layers)).eval()
    (batch,), _ = tokenize_items(tokenizer, items, max_batch=len(items))
    n_points = args.layers * args.tokens
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"model: GPT2Config(n_layer={args.layers}) with random weights, {n_params:.0f}M parameters")
    print(
        f"prompts: {len(items)} pairs of {args.tokens} tokens, e.g. {items[0].prompt!r} / {items[0].corrupted_prompt!r}"
    )
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cpu}, load average {os.getloadavg()[0]:.1f}")

    adapter = adapt(model)
    patch(adapter, batch, ("resid_pre",), batch_size=args.batch_size)  # warm-up
    t = time.perf_counter()
    ours = patch(adapter, batch, ("resid_pre",), batch_size=args.batch_size)
    t_ours = time.perf_counter() - t
    skipped = int((~ours.computed["resid_pre"]).sum())

    t = time.perf_counter()
    ref = reference_sweep(model, batch.clean, batch.corrupted, batch.target, batch.distractor)
    t_ref = time.perf_counter() - t
    err = float((ref - ours.ld_patched["resid_pre"]).abs().max())

    rows = [("one forward per site, full logits", f"{n_points + 1}", t_ref)]
    if args.transformer_lens:
        t_tl = _time_transformer_lens(model, tokenizer, batch)
        rows.append(("TransformerLens get_act_patch_resid_pre", f"{n_points + 1}", t_tl))
    rows.append((f"duality-bench batched (batch size {args.batch_size})", "-", t_ours))
    print()
    print("| method | forward passes | seconds | speed-up |")
    print("|---|---:|---:|---:|")
    for name, passes, sec in rows:
        print(f"| {name} | {passes} | {sec:.2f} | {t_ref / sec:.1f}x |")
    total = len(items) * n_points
    print(f"\nsites: {total} ({skipped} skipped as identical in clean and corrupted runs)")
    print(f"max |logit diff (batched) - logit diff (reference)| over all sites: {err:.2e}")
    if err > 1e-5:
        sys.exit(f"FAIL: batched and reference results differ by {err:.2e} > 1e-5")


def _time_transformer_lens(model, tokenizer, batch) -> float:
    import copy

    import torch
    from transformer_lens import patching
    from transformer_lens.model_bridge import TransformerBridge

    bridge = TransformerBridge.boot_transformers("gpt2", hf_model=copy.deepcopy(model), tokenizer=tokenizer)
    bridge.enable_compatibility_mode(disable_warnings=True)
    rows = torch.arange(len(batch))
    _, cache = bridge.run_with_cache(batch.clean)

    def metric(logits):
        last = logits[:, -1]
        return (last[rows, batch.target] - last[rows, batch.distractor]).mean()

    t = time.perf_counter()
    patching.get_act_patch_resid_pre(bridge, batch.corrupted, cache, metric)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()

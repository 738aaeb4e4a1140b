"""Time circuit scoring against plain forward passes, in one process on the same prompt pairs.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_circuits.py --model smollm2-135m gemma3-270m \
        qwen2.5-coder-0.5b qwen2.5-coder-1.5b --items 24

Reports seconds per prompt pair of: a plain forward pass of the clean prompts (the Hugging Face
model, batched), EAP and EAP-IG (both runs cached + gradients + edge scores), and of exact
patching per edge (a patched pass of every prompt for one edge, measured on a few edges and
extrapolated to the whole graph); ratios to the forward pass.
"""

from __future__ import annotations

import argparse
import time

import torch

from duality_bench.analysis import AnalysisConfig, adapt, select_items, tokenize_items
from duality_bench.circuits import build_graph, cache_batch, score_edges
from duality_bench.circuits.scoring import patched_ld
from duality_bench.models.loading import load_model


def best_of(rounds: int, fn) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench(model: str, args: argparse.Namespace) -> dict[str, float]:
    """Seconds per prompt pair of the forward pass, EAP, EAP-IG and one exact edge, on one model."""
    loaded = load_model(model, dtype="float32", device="cpu")
    adapter = adapt(loaded.model)
    graph = build_graph(adapter.n_layers, adapter.n_heads)
    items = select_items(AnalysisConfig(pairs=tuple(args.pairs.split(",")), limit=args.items))
    (batch,), _ = tokenize_items(loaded.tokenizer, items, max_batch=len(items))
    n = len(batch)

    def forward():
        with torch.inference_mode():
            loaded.model(input_ids=batch.clean, attention_mask=batch.mask)

    def eap(method):
        cache = cache_batch(adapter, graph, batch)
        score_edges(adapter, graph, [cache], method)

    forward()  # warm up
    t_fwd = best_of(args.rounds, forward)
    t_eap = best_of(args.rounds, lambda: eap("eap"))
    t_ig = best_of(1, lambda: eap("eap-ig"))
    cache = cache_batch(adapter, graph, batch)
    drop = torch.zeros(len(graph.upstream), len(graph.downstream))
    us, vs = graph.edge_index()
    start = time.perf_counter()
    for e in range(args.exact_edges):
        drop[us[e * 97], vs[e * 97]] = 1
        patched_ld(adapter, graph, cache, drop)
        drop.zero_()
    t_edge = (time.perf_counter() - start) / args.exact_edges
    print(f"{model} ({type(loaded.model).__name__}): {n} prompt pairs of {batch.clean.shape[1]} tokens, "
          f"{graph.n_edges} edges, {torch.get_num_threads()} threads")  # fmt: skip
    print(f"  forward (HF, clean prompts)  {t_fwd / n * 1e3:8.1f} ms/pair")
    print(f"  eap                          {t_eap / n * 1e3:8.1f} ms/pair  {t_eap / t_fwd:6.1f}x forward")
    print(f"  eap-ig (5 steps)             {t_ig / n * 1e3:8.1f} ms/pair  {t_ig / t_fwd:6.1f}x forward")
    print(f"  exact, one edge              {t_edge / n * 1e3:8.1f} ms/pair  {t_edge / t_fwd:6.1f}x forward")
    hours = t_edge * graph.n_edges / 3600
    print(f"  exact, all {graph.n_edges} edges     {hours:8.1f} h for these pairs", flush=True)
    return {"forward": t_fwd / n, "eap": t_eap / t_fwd, "eap-ig": t_ig / t_fwd, "edge": t_edge / t_fwd}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", nargs="+", default=["smollm2-135m"], help="one or more models, each timed in turn")
    p.add_argument("--pairs", default="left-right")
    p.add_argument("--items", type=int, default=24)
    p.add_argument("--rounds", type=int, default=2, help="best of N for the forward pass and EAP")
    p.add_argument("--exact-edges", type=int, default=3, help="edges patched to time exact patching")
    args = p.parse_args()
    rows = {model: bench(model, args) for model in args.model}
    print("\n| model | forward ms/pair | EAP / forward | EAP-IG / forward | one exact edge / forward |")
    print("|---|---:|---:|---:|---:|")
    for model, r in rows.items():
        print(f"| {model} | {r['forward'] * 1e3:.1f} | {r['eap']:.1f}x | {r['eap-ig']:.1f}x | {r['edge']:.1f}x |")


if __name__ == "__main__":
    main()

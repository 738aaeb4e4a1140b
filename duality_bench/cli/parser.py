"""The subcommands and their options; `commands` holds what each one runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from duality_bench.cli import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="duality-bench",
        description="Benchmark how language models complete dual opposites (left/right, up/down, me/you).",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_build(sub)
    _add_list(sub)
    _add_eval(sub)
    _add_leaderboard(sub)
    _add_baselines(sub)
    _add_analyze(sub)
    _add_circuit(sub)
    _add_export(sub)
    return parser


def _add_build(sub: Any) -> None:
    p = sub.add_parser("build", help="build the dataset folder (parquet + dataset card) from the pair tables")
    p.add_argument("--curated", type=Path, help="curated pairs table (default: data/curated_pairs.csv)")
    p.add_argument("--wordnet", type=Path, help="WordNet pairs table (default: data/wordnet_pairs.csv)")
    p.add_argument("--out", type=Path, help="output folder (default: data/duality-pairs; with --pairs: FILE-dataset)")
    p.add_argument(
        "--pairs",
        type=Path,
        help="your own pairs instead: a CSV (columns a,b; optional category, pos, a_other_duals, b_other_duals, "
        'note) or a JSON list of {"input": ..., "output": ...}; written as config `user`',
    )
    p.add_argument("--tokenizer", help="report the dataset's fit to this tokenizer in the card (folder or hub id)")
    p.set_defaults(func=commands.build)


def _add_list(sub: Any) -> None:
    p = sub.add_parser("list", help="list categories, templates and item counts per config")
    p.add_argument("--templates", action="store_true", help="print every template")
    p.add_argument("--category", help="only this category")
    p.add_argument("--tokenizer", help="report single-token and aligned items for this tokenizer (folder or hub id)")
    p.add_argument("--dataset", type=Path, help="dataset folder (default: the packaged one)")
    p.set_defaults(func=commands.list_)


def _add_eval(sub: Any) -> None:
    p = sub.add_parser("eval", help="score models: duality accuracy, logit difference, asymmetry")
    p.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help="hub id (gpt2), local folder, .gguf file, or an offline model: smollm2-135m, gemma3-270m, "
        "qwen2.5-coder-0.5b, qwen2.5-coder-1.5b; "
        "several run one after another",
    )
    p.add_argument("--models-file", type=Path, help="a file of model specs, one per line (# comments allowed)")
    p.add_argument(
        "--pairs", type=Path, help="score your own pairs (CSV or JSON, as for `build --pairs`) instead of the dataset"
    )
    p.add_argument("--config", default="all", help="dataset config: all, curated, wordnet, wordnet-full (default: all)")
    p.add_argument("--limit", type=int, help="score only the first N items")
    p.add_argument("--category", action="append", default=[], help="only this category (repeatable)")
    p.add_argument(
        "--scoring",
        default="sequence",
        choices=("sequence", "next-token"),
        help="sequence (default): every item, words of several tokens by their continuation's log-likelihood; "
        "next-token: only items whose target and cue are one token each",
    )
    p.add_argument("--batch-size", default="auto", help="items per forward pass, or auto (halves on out-of-memory)")
    p.add_argument("--revision", help="hub revision (branch, tag or commit)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--trust-remote-code", action="store_true", help="allow the model repo's own code to run")
    p.add_argument("--device-map", help="auto: spread a model too large for one device over all of them")
    p.add_argument(
        "--num-processes", type=int, default=1, help="data-parallel: relaunch under accelerate with N processes"
    )
    p.add_argument(
        "--output",
        type=Path,
        help="results JSON of a single model (default: <output-dir>/<org__model>/<revision>/<config>.json)",
    )
    p.add_argument("--output-dir", type=Path, default=Path("results"), help="where results go (default: results)")
    p.add_argument("--resume", action="store_true", help="continue a run from its items file")
    p.add_argument("--overwrite", action="store_true", help="start over even if results exist")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--dataset", type=Path, help="dataset folder (default: the packaged one)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=commands.eval_)


def _add_leaderboard(sub: Any) -> None:
    p = sub.add_parser("leaderboard", help="rank results files: write LEADERBOARD.md and a static index.html")
    p.add_argument(
        "--results",
        type=Path,
        default=Path("leaderboard/results"),
        help="results folder (default: leaderboard/results)",
    )
    p.add_argument("--out", type=Path, default=Path("leaderboard"), help="output folder (default: leaderboard)")
    p.add_argument(
        "--dataset", type=Path, help="dataset folder that defines the current build (default: the packaged one)"
    )
    p.set_defaults(func=commands.leaderboard)


def _add_baselines(sub: Any) -> None:
    p = sub.add_parser("baselines", help="write the reference rows' results files (frequency, copy, chance)")
    p.add_argument("--config", default="all", help="dataset config (default: all)")
    p.add_argument("--out", type=Path, default=Path("leaderboard/results"), help="results folder")
    p.add_argument("--rows", default="frequency,copy,chance", help="which rows (default: frequency,copy,chance)")
    p.add_argument("--tokenizer", type=Path, default=Path("data/gpt2-tokenizer"), help="GPT-2 tokenizer folder")
    p.set_defaults(func=commands.baselines)


def _add_analyze(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="circuit analysis: logit lens, head attribution, activation patching, attention (figures + report)",
    )
    p.add_argument("model", help="hub id (gpt2), local folder, .gguf file, or an offline model: smollm2-135m")
    p.add_argument("--pairs", default="left-right", help="comma-separated pair ids, or 'all' (default: left-right)")
    p.add_argument("--config", default="curated", help="dataset config (default: curated)")
    p.add_argument("--directions", default="a->b,b->a", help="a->b, b->a, or a->b,b->a (default: both)")
    p.add_argument("--templates", default="", help="comma-separated template ids (default: all)")
    p.add_argument("--limit", type=int, help="analyse only the first N items")
    p.add_argument(
        "--sites",
        default="resid_pre,resid_mid,head_final,head_all,mlp_final,mlp_all",
        help="patching sites, comma-separated, from resid_pre, resid_mid, head_final, head_all, mlp_final, mlp_all"
        " (default: all six)",
    )
    p.add_argument("--batch-size", type=int, default=256, help="patched prompts per forward pass (default: 256)")
    p.add_argument("--top-k", type=int, default=5, help="components named per group in the report (default: 5)")
    p.add_argument("--out", type=Path, help="output folder (default: results/analysis/<model>)")
    p.add_argument("--no-figures", action="store_true", help="write only report.md and analysis.json")
    p.add_argument("--inline-plotly", action="store_true", help="embed plotly.js in figures.html (opens offline)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, mps")
    p.add_argument("--dataset", type=Path, help="dataset folder (default: the packaged one)")
    p.set_defaults(func=commands.analyze)


def _add_circuit(sub: Any) -> None:
    p = sub.add_parser("circuit", help="edge-level circuit discovery (EAP, EAP-IG, exact) with faithfulness (CPR, CMD)")
    p.add_argument("model", help="hub id (gpt2), local folder, or an offline model: smollm2-135m")
    p.add_argument("--pairs", default="left-right", help="comma-separated pair ids, or 'all' (default: left-right)")
    p.add_argument("--method", default="eap", help="eap, eap-ig, or exact (one pass per edge: tiny models)")
    p.add_argument("--steps", type=int, default=5, help="EAP-IG interpolation steps (default: 5)")
    p.add_argument("--fractions", default="0.1,0.2,0.5,1,2,5,10,20,50,100", help="edge percents, each in (0, 100]")
    p.add_argument("--limit", type=int, help="only the first N items")
    p.add_argument("--exact-nodes", action="store_true", help="also patch each node; Spearman vs node scores")
    p.add_argument("--greedy", action="store_true", help="grow circuits back from the logits (MIB's greedy variant)")
    p.add_argument("--out", type=Path, help="output folder (default: results/circuits/<model>)")
    p.add_argument("--no-figures", action="store_true", help="skip curve.png and circuit.png")
    p.add_argument("--dtype", default="float32", choices=("auto", "float32", "bfloat16", "float16"))
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.set_defaults(func=commands.circuit)


def _add_export(sub: Any) -> None:
    p = sub.add_parser("export", help="write task files for another harness: lm-eval (lm-evaluation-harness)")
    p.add_argument("harness", choices=("lm-eval",), help="lm-eval: a task per config and a group, for --include_path")
    p.add_argument("--out", type=Path, required=True, help="folder for the task files (created if missing)")
    p.add_argument("--dataset", type=Path, help="read this local dataset folder (default: the hub's duality-pairs)")
    p.add_argument("--configs", help="comma-separated configs, a task each (default: every one the dataset has)")
    p.set_defaults(func=commands.export)

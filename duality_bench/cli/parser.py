"""The subcommands and their options; `commands` holds what each one runs."""

from __future__ import annotations

import argparse
import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from duality_bench.cli import commands

RESULTS_DIR = Path("leaderboard/results")


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
    _add_compare_circuits(sub)
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
    p.add_argument(
        "--audit",
        type=Path,
        nargs="?",
        const=RESULTS_DIR,
        metavar="RESULTS_DIR",
        help="add the card's template audit from the results files scored on this build "
        f"(default folder: {RESULTS_DIR}); how the committed card is made",
    )
    _command(p, commands.build)


def _add_list(sub: Any) -> None:
    p = sub.add_parser("list", help="list categories, templates and item counts per config")
    p.add_argument("--templates", action="store_true", help="print every template")
    p.add_argument("--category", help="only this category")
    p.add_argument("--tokenizer", help="report single-token and aligned items for this tokenizer (folder or hub id)")
    _dataset_dir(p, "dataset folder (default: the packaged one)")
    _command(p, commands.list_)


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
        "next-token: only the single-token items (target and distractor one token each)",
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
        "--out",
        type=Path,
        metavar="PATH",
        help="a path ending in .json: the results file of a single model; any other path: a folder with one "
        "file per model, <org__model>/<revision>/<config>.json (default: the folder results)",
    )
    _old(p, "--output", "--out", dest="out", type=Path, out_kind="file")
    _old(p, "--output-dir", "--out", dest="out", type=Path, out_kind="folder")
    p.add_argument("--resume", action="store_true", help="continue a run from its items file")
    p.add_argument("--overwrite", action="store_true", help="start over even if results exist")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    _dataset_dir(p, "dataset folder (default: the packaged one)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _command(p, commands.eval_)


def _add_leaderboard(sub: Any) -> None:
    p = sub.add_parser("leaderboard", help="rank results files: write LEADERBOARD.md and a static index.html")
    p.add_argument(
        "--results",
        type=Path,
        default=RESULTS_DIR,
        help=f"results folder (default: {RESULTS_DIR})",
    )
    p.add_argument("--out", type=Path, default=Path("leaderboard"), help="output folder (default: leaderboard)")
    _dataset_dir(p, "dataset folder that defines the current build (default: the packaged one)")
    _command(p, commands.leaderboard)


def _add_baselines(sub: Any) -> None:
    p = sub.add_parser("baselines", help="write the reference rows' results files (frequency, copy, chance)")
    p.add_argument("--config", default="all", help="dataset config (default: all)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"results folder (default: {RESULTS_DIR})")
    p.add_argument("--rows", default="frequency,copy,chance", help="which rows (default: frequency,copy,chance)")
    p.add_argument("--tokenizer", type=Path, default=Path("data/gpt2-tokenizer"), help="GPT-2 tokenizer folder")
    _command(p, commands.baselines)


def _add_analyze(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="circuit analysis: logit lens, head attribution, activation patching, attention (figures + report)",
    )
    p.add_argument("model", help="hub id (gpt2), local folder, .gguf file, or an offline model: smollm2-135m")
    _pair_ids(p)
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
    _dataset_dir(p, "dataset folder (default: the packaged one)")
    _command(p, commands.analyze)


def _add_circuit(sub: Any) -> None:
    p = sub.add_parser("circuit", help="edge-level circuit discovery (EAP, EAP-IG, exact) with faithfulness (CPR, CMD)")
    p.add_argument(
        "model", nargs="+", help="hub id (gpt2), local folder, or an offline model (smollm2-135m); several: a sweep"
    )
    p.add_argument(
        "--pair-ids",
        action="append",
        help="comma-separated pair ids, 'all', or NAME=ids; repeat for several pair sets, each its own run "
        "(default: left-right)",
    )
    _old(p, "--pairs", "--pair-ids", dest="pair_ids", append=True)
    p.add_argument("--method", default="eap", help="eap, eap-ig, or exact (one pass per edge: tiny models)")
    p.add_argument("--steps", type=int, default=5, help="EAP-IG interpolation steps (default: 5)")
    p.add_argument("--fractions", default="0.1,0.2,0.5,1,2,5,10,20,50,100", help="edge percents, each in (0, 100]")
    p.add_argument("--limit", type=int, help="only the first N items")
    p.add_argument("--exact-nodes", action="store_true", help="also patch each node; Spearman vs node scores")
    p.add_argument("--greedy", action="store_true", help="grow circuits back from the logits (MIB's greedy variant)")
    p.add_argument(
        "--out",
        type=Path,
        help="output folder (default: results/circuits/<model>; for several runs results/circuits, with "
        "<model>/<set>-<method> per run and comparison.md)",
    )
    p.add_argument("--no-figures", action="store_true", help="skip curve.png and circuit.png")
    p.add_argument("--dtype", default="float32", choices=("auto", "float32", "bfloat16", "float16"))
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    _command(p, commands.circuit)


def _add_compare_circuits(sub: Any) -> None:
    p = sub.add_parser("compare-circuits", help="one report over several circuit folders: CPR, CMD, overlaps, curves")
    p.add_argument("folders", nargs="+", type=Path, help="circuit folders written by `duality-bench circuit`")
    p.add_argument("--out", type=Path, required=True, help="folder for comparison.md and curves.png")
    p.add_argument("--no-figures", action="store_true", help="skip curves.png")
    _command(p, commands.compare_circuits)


def _add_export(sub: Any) -> None:
    p = sub.add_parser("export", help="write task files for another harness: lm-eval (lm-evaluation-harness)")
    p.add_argument("harness", choices=("lm-eval",), help="lm-eval: a task per config and a group, for --include_path")
    p.add_argument("--out", type=Path, required=True, help="folder for the task files (created if missing)")
    _dataset_dir(p, "read this local dataset folder (default: the hub's duality-pairs)")
    p.add_argument("--configs", help="comma-separated configs, a task each (default: every one the dataset has)")
    _command(p, commands.export)


def _dataset_dir(p: argparse.ArgumentParser, help: str) -> None:
    # "dataset" alone is a config's word (--config all); a folder on disk is --dataset-dir.
    p.add_argument("--dataset-dir", type=Path, metavar="DIR", help=help)
    _old(p, "--dataset", "--dataset-dir", dest="dataset_dir", type=Path)


def _pair_ids(p: argparse.ArgumentParser) -> None:
    # --pairs names a pairs file (build, eval); a list of pair ids is --pair-ids.
    p.add_argument("--pair-ids", default="left-right", help="comma-separated pair ids, or 'all' (default: left-right)")
    _old(p, "--pairs", "--pair-ids", dest="pair_ids")


class _OldSpelling(argparse.Action):
    """A flag's old spelling: does what the new one does and notes the rename for `_command` to warn of."""

    def __init__(
        self, option_strings: list[str], dest: str, new: str, sets: dict[str, Any], append: bool, **kw: Any
    ) -> None:
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kw)
        self.new, self.sets, self.append = new, sets, append

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), values] if self.append else values)
        for name, value in self.sets.items():
            setattr(namespace, name, value)
        namespace.renamed = {**getattr(namespace, "renamed", {}), option_string: self.new}


def _old(
    p: argparse.ArgumentParser, old: str, new: str, dest: str, type: Any = None, append: bool = False, **sets: Any
) -> None:
    """Accept `old` for one more release; `sets` are further attributes it sets (eval's file or folder);
    `append` where the new flag may be repeated."""
    p.add_argument(old, action=_OldSpelling, dest=dest, new=new, sets=sets, type=type, append=append)
    p.set_defaults(**dict.fromkeys(sets))


def _command(p: argparse.ArgumentParser, func: Callable[[argparse.Namespace], int]) -> None:
    """Run `func`, first warning once per old spelling used: the warning is raised while the command
    runs, so the CLI prints it as its one `warning: COMMAND: ...` line."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        for old, new in getattr(args, "renamed", {}).items():
            warnings.warn(f"{old} is now {new}; the old spelling goes in the next release", FutureWarning, 2)
        return func(args)

    p.set_defaults(func=run)

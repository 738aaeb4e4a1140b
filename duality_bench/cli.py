"""The `duality-bench` command: thin subcommands over the library's entry calls.

Only argparse is imported at module level, and each subcommand imports its stage when it runs,
so `--help` answers at once without torch. `main` is the one boundary for errors: a problem with
the input (the project's own errors, and files that cannot be read or written) prints one
`error: ...` line and exits 2; anything else is an internal fault, one line and exit 1. `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


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
    p.set_defaults(func=_build)


def _add_list(sub: Any) -> None:
    p = sub.add_parser("list", help="list categories, templates and item counts per config")
    p.add_argument("--templates", action="store_true", help="print every template")
    p.add_argument("--category", help="only this category")
    p.add_argument("--tokenizer", help="report single-token and aligned items for this tokenizer (folder or hub id)")
    p.add_argument("--dataset", type=Path, help="dataset folder (default: the packaged one)")
    p.set_defaults(func=_list)


def _add_eval(sub: Any) -> None:
    p = sub.add_parser("eval", help="score models: duality accuracy, logit difference, asymmetry")
    p.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help="hub id (gpt2), local folder, .gguf file, or an offline model: smollm2-135m, gemma3-270m; "
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
    p.set_defaults(func=_eval)


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
    p.set_defaults(func=_leaderboard)


def _add_baselines(sub: Any) -> None:
    p = sub.add_parser("baselines", help="write the reference rows' results files (frequency, copy, chance)")
    p.add_argument("--config", default="all", help="dataset config (default: all)")
    p.add_argument("--out", type=Path, default=Path("leaderboard/results"), help="results folder")
    p.add_argument("--rows", default="frequency,copy,chance", help="which rows (default: frequency,copy,chance)")
    p.add_argument("--tokenizer", type=Path, default=Path("data/gpt2-tokenizer"), help="GPT-2 tokenizer folder")
    p.set_defaults(func=_baselines)


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
    p.set_defaults(func=_analyze)


def _add_export(sub: Any) -> None:
    p = sub.add_parser("export", help="write task files for another harness: lm-eval (lm-evaluation-harness)")
    p.add_argument("harness", choices=("lm-eval",), help="lm-eval: a task per config and a group, for --include_path")
    p.add_argument("--out", type=Path, required=True, help="folder for the task files (created if missing)")
    p.add_argument(
        "--dataset",
        type=Path,
        help="read this local dataset folder (e.g. data/duality-pairs), not the hub's duality-bench/duality-pairs",
    )
    p.add_argument(
        "--configs",
        default="curated,wordnet,wordnet-full,all",
        help="comma-separated configs, a task each (default: all four; the group then scores the all config)",
    )
    p.set_defaults(func=_export)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    from duality_bench.errors import DualityBenchError

    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except (DualityBenchError, OSError, UnicodeError) as e:
        if args.debug:
            raise
        print(f"error: {args.command}: {_one_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:  # the safety net: a fault of ours, not of the input
        if args.debug:
            raise
        print(
            f"error: {args.command}: internal fault ({type(e).__name__}: {_one_line(e)}); "
            "rerun with --debug for the traceback",
            file=sys.stderr,
        )
        return 1


def _one_line(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        where = f" {e.filename}" if e.filename else ""
        return f"{e.strerror}:{where}"
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:297] + "..."


def run() -> None:
    sys.exit(main())


def _build(args: argparse.Namespace) -> int:
    from duality_bench.data.build import build_dataset
    from duality_bench.data.dataset import BuildConfig

    defaults = BuildConfig()
    default_tokenizer = defaults.tokenizer if Path(str(defaults.tokenizer)).is_dir() else None  # a checkout's copy
    user_out = Path(f"{args.pairs.stem}-dataset") if args.pairs else None  # never the packaged dataset's folder
    config = BuildConfig(
        curated_path=args.curated or defaults.curated_path,
        wordnet_path=args.wordnet or defaults.wordnet_path,
        out_dir=args.out or user_out or defaults.out_dir,
        tokenizer=args.tokenizer or default_tokenizer,
        audit=None if args.pairs else defaults.audit,
        pairs_path=args.pairs,
    )
    summary = build_dataset(config)
    print(summary.table())
    print(f"wrote {summary.out_dir}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from duality_bench.errors import DualityBenchError
    from duality_bench.evaluation.run import EvalConfig, distributed_state
    from duality_bench.evaluation.sweep import read_models_file, run_sweep, sweep_table

    if args.num_processes > 1:
        return _relaunch(args.argv, args.num_processes)
    if args.batch_size == "auto":
        batch_size = None
    elif args.batch_size.isdigit() and int(args.batch_size) > 0:
        batch_size = int(args.batch_size)
    else:
        raise DualityBenchError(f"--batch-size must be a positive integer or auto, got {args.batch_size!r}")
    specs = list(args.models) + (read_models_file(args.models_file) if args.models_file else [])
    items = None
    if args.pairs:
        from duality_bench.data.build import user_items

        items = user_items(args.pairs)
    config = EvalConfig(
        dataset="user" if args.pairs else args.config,
        limit=args.limit,
        categories=tuple(args.category),
        scoring=args.scoring,
        batch_size=batch_size,
        revision=args.revision,
        dtype=args.dtype,
        device=args.device,
        device_map=args.device_map,
        trust_remote_code=args.trust_remote_code,
        output=args.output,
        resume=args.resume,
        overwrite=args.overwrite,
        seed=args.seed,
        dataset_dir=args.dataset,
        progress=not args.no_progress,
    )
    state = distributed_state()
    main_process = state is None or state.is_main_process

    def report(line: str) -> None:
        if main_process:
            print(line, file=sys.stderr if line.startswith("error:") else sys.stdout)

    rows = run_sweep(specs, config, output_dir=args.output_dir, report=report, items=items)
    if main_process:
        if len(rows) == 1 and rows[0].result is not None:
            from duality_bench.evaluation.items import items_path
            from duality_bench.evaluation.summary import summary_table

            print(summary_table(rows[0].result))
            print(f"\nresults: {rows[0].output}  items: {items_path(rows[0].output)}")
        else:
            print(sweep_table(rows))
    if len(rows) == 1 and rows[0].status == "failed":
        return 2
    return 1 if any(r.status == "failed" for r in rows) else 0


def _relaunch(argv: list[str], num_processes: int) -> int:
    """Run this same command under `accelerate launch` with N processes (gloo on the CPU)."""
    import os
    import subprocess

    keep = []
    skip_next = False
    for arg in argv:  # drop --num-processes N / --num-processes=N, so the children run once each
        if skip_next:
            skip_next = False
        elif arg == "--num-processes":
            skip_next = True
        elif not arg.startswith("--num-processes="):
            keep.append(arg)
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(num_processes)]
    cmd += ["-m", "duality_bench", *keep]
    return subprocess.run(cmd, env=os.environ.copy()).returncode


def _list(args: argparse.Namespace) -> int:
    from collections import Counter

    from duality_bench.data.dataset import CONFIGS, load_items
    from duality_bench.data.fewshot import FEW_SHOT_TEMPLATES
    from duality_bench.data.templates import TEMPLATES, check_category

    items = {c: load_items(c, args.dataset) for c in CONFIGS}
    known = tuple(dict.fromkeys(i.category for i in items["all"] + items["wordnet-full"]))
    chosen = [check_category(args.category, known=known)] if args.category else list(known)
    pairs = Counter(c for c, _ in {(i.category, i.pair_id) for i in items["all"]})
    templates = Counter(c for c, _ in {(i.category, i.template_id) for i in items["all"]})
    n_items = Counter(i.category for i in items["all"])
    print(f"{'category (config all)':<22} {'pairs':>6} {'templates':>9} {'items':>7}")
    for cat in chosen:
        print(f"{cat:<22} {pairs[cat]:>6} {templates[cat]:>9} {n_items[cat]:>7}")
    print()
    print("  ".join(f"{c}: {len(v)} items" for c, v in items.items()))
    if args.templates:
        print()
        groups = {cat if not cat.startswith("wordnet-") else f"wordnet-{pos}" for cat in chosen for pos in "nvar"}
        for t in TEMPLATES:
            if t.category in groups:
                only = f"  [only {', '.join(t.pairs)}]" if t.pairs else ""
                print(f"{t.id:<40} {t.text!r}{only}")
        for f in FEW_SHOT_TEMPLATES:
            print(f"{f.id:<40} {f.line * f.k + f.query!r}  [{f.k} demonstrations from curated pairs]")
    if args.tokenizer:
        from duality_bench.data.vocabulary import load_tokenizer, report_tokenizer

        tok = load_tokenizer(args.tokenizer)
        print()
        print(f"tokenizer {args.tokenizer}:")
        print(f"{'config':<13} {'items':>7} {'single-token':>13} {'aligned':>8} {'both':>7}")
        for c, its in items.items():
            r = report_tokenizer(tok, its)
            print(f"{c:<13} {r.items:>7} {r.single_token:>13} {r.aligned:>8} {r.single_token_and_aligned:>7}")
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    from duality_bench.leaderboard import LeaderboardConfig, build_leaderboard

    board = build_leaderboard(LeaderboardConfig(results=args.results, out=args.out, dataset_dir=args.dataset))
    for line in board.problems:
        print(line, file=sys.stderr)
    ranked = sum(len(s) for s in board.sections.values())
    print(f"{ranked} ranked rows, {len(board.unranked)} not ranked, {len(board.problems)} files skipped")
    print(f"wrote {board.markdown} and {board.html}")
    return 0


def _baselines(args: argparse.Namespace) -> int:
    from duality_bench.evaluation.baselines import write_baselines

    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    for path in write_baselines(rows, args.config, args.out, args.tokenizer):
        print(f"wrote {path}", flush=True)
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from duality_bench.analysis import AnalysisConfig, analyze

    def split(text: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in text.split(",") if x.strip())

    model_name = args.model.rstrip("/").replace("\\", "/").split("/")[-1].removesuffix(".gguf")
    out = args.out or Path("results") / "analysis" / model_name
    config = AnalysisConfig(
        pairs=() if args.pairs == "all" else split(args.pairs),
        dataset=args.config,
        dataset_dir=args.dataset,
        directions=split(args.directions),
        templates=split(args.templates),
        limit=args.limit,
        sites=split(args.sites),
        batch_size=args.batch_size,
        top_k=args.top_k,
        out=out,
        figures=not args.no_figures,
        plotly_js="inline" if args.inline_plotly else "cdn",
        device=args.device,
        dtype=args.dtype,
    )
    result = analyze(args.model, config)
    print((out / "report.md").read_text().split("\n## ")[0].rstrip())
    print(f"\n{len(result.items)} items analysed in {sum(result.seconds.values()):.0f} s; wrote {out}/")
    return 0


def _export(args: argparse.Namespace) -> int:
    from duality_bench.evaluation.harness import GROUP, export_tasks, parse_configs, task_name

    export = export_tasks(args.out, parse_configs(args.configs), args.dataset)
    for config, path in export.tasks.items():
        print(f"wrote {path}  (task {task_name(config)})")
    print(f"wrote {export.group}  (group {GROUP}: {', '.join(task_name(c) for c in export.group_configs)})")
    source = f"parquet files under {args.dataset.resolve()}" if args.dataset else "duality-bench/duality-pairs (hub)"
    print(f"the tasks read {source}; run: lm_eval --model hf --model_args pretrained=MODEL ", end="")
    print(f"--include_path {args.out} --tasks {GROUP}")
    return 0

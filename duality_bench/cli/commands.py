"""What each subcommand runs. Each imports its stage inside the function: importing this module
(and so `duality-bench --help`) loads no torch, transformers, datasets or nltk. Text from a results
file, a pairs file or a model id is printed through `display.visible`, so it cannot act on the terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from duality_bench.display import visible


def build(args: argparse.Namespace) -> int:
    from duality_bench.data.build import build_dataset
    from duality_bench.data.dataset import BuildConfig
    from duality_bench.errors import DualityBenchError
    from duality_bench.headlines import card_section

    if args.audit and args.pairs:
        raise DualityBenchError("--audit lists results scored on the packaged dataset; a --pairs build has none")
    if args.audit and not args.audit.is_dir():
        raise DualityBenchError(f"--audit {args.audit}: no results folder there")
    defaults = BuildConfig()
    default_tokenizer = defaults.tokenizer if Path(str(defaults.tokenizer)).is_dir() else None  # a checkout's copy
    user_out = Path(f"{args.pairs.stem}-dataset") if args.pairs else None  # never the packaged dataset's folder
    config = BuildConfig(
        curated_path=args.curated or defaults.curated_path,
        wordnet_path=args.wordnet or defaults.wordnet_path,
        out_dir=args.out or user_out or defaults.out_dir,
        tokenizer=args.tokenizer or default_tokenizer,
        audit=args.audit,  # only on request: a plain build reads no results
        pairs_path=args.pairs,
        headline_table=None if args.pairs else card_section,
    )
    summary = build_dataset(config)
    print(summary.table())
    print(f"wrote {summary.out_dir}")
    return 0


def eval_(args: argparse.Namespace) -> int:
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
    output, output_dir = eval_out(args.out, args.out_kind)
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
        output=output,
        resume=args.resume,
        overwrite=args.overwrite,
        seed=args.seed,
        dataset_dir=args.dataset_dir,
        progress=not args.no_progress,
    )
    state = distributed_state()
    main_process = state is None or state.is_main_process

    def report(line: str) -> None:
        if main_process:
            print(line, file=sys.stderr if line.startswith("error:") else sys.stdout)

    rows = run_sweep(specs, config, output_dir=output_dir, report=report, items=items)
    if main_process:
        if len(rows) == 1 and rows[0].result is not None:
            from duality_bench.evaluation.items import items_path
            from duality_bench.evaluation.summary import summary_table

            print(summary_table(rows[0].result))
            print(f"\nresults: {visible(str(rows[0].output))}  items: {visible(str(items_path(rows[0].output)))}")
        else:
            print(sweep_table(rows))
    if len(rows) == 1 and rows[0].status == "failed":
        return 2
    return 1 if any(r.status == "failed" for r in rows) else 0


def eval_out(out: Path | None, kind: str | None = None) -> tuple[Path | None, Path]:
    """(results file, results folder) from `eval --out`: a path ending in .json names one model's
    results file, any other a folder of them. `.jsonl` counts as a file too, so an items file given
    by mistake is refused rather than made a folder. `kind` ("file" or "folder") is what the old
    spellings --output and --output-dir meant, whatever the path's name."""
    if out is None:
        return None, Path("results")
    as_file = kind == "file" if kind else out.suffix.lower() in (".json", ".jsonl")
    return (out, Path("results")) if as_file else (None, out)


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


def list_(args: argparse.Namespace) -> int:
    from collections import Counter

    from duality_bench.data.dataset import CONFIGS, load_items
    from duality_bench.data.fewshot import FEW_SHOT_TEMPLATES
    from duality_bench.data.templates import TEMPLATES, check_category

    items = {c: load_items(c, args.dataset_dir) for c in CONFIGS}
    known = tuple(dict.fromkeys(i.category for i in items["all"] + items["wordnet-full"]))
    chosen = [check_category(args.category, known=known)] if args.category else list(known)
    pairs = Counter(c for c, _ in {(i.category, i.pair_id) for i in items["all"]})
    templates = Counter(c for c, _ in {(i.category, i.template_id) for i in items["all"]})
    n_items = Counter(i.category for i in items["all"])
    print(f"{'category (config all)':<22} {'pairs':>6} {'templates':>9} {'items':>7}")
    for cat in chosen:
        print(f"{visible(cat):<22} {pairs[cat]:>6} {templates[cat]:>9} {n_items[cat]:>7}")
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


def leaderboard(args: argparse.Namespace) -> int:
    import time

    from duality_bench.leaderboard import LeaderboardConfig, build_leaderboard
    from duality_bench.leaderboard.markdown import terminal_table

    start = time.perf_counter()
    board = build_leaderboard(LeaderboardConfig(results=args.results, out=args.out, dataset_dir=args.dataset_dir))
    seconds = time.perf_counter() - start
    for line in board.problems:
        print(visible(line), file=sys.stderr)
    print("\n".join(terminal_table(board)))
    ranked = sum(len(s) for s in board.sections.values())
    print(f"{ranked} ranked rows, {len(board.unranked)} not ranked, {len(board.problems)} files skipped")
    size = board.html.stat().st_size / 1e6
    print(f"wrote {visible(str(board.markdown))} and {visible(str(board.html))} ({size:.1f} MB) in {seconds:.1f} s")
    return 0


def baselines(args: argparse.Namespace) -> int:
    from duality_bench.evaluation.baselines import write_baselines

    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    for path in write_baselines(rows, args.config, args.out, args.tokenizer):
        print(f"wrote {path}", flush=True)
    return 0


def analyze(args: argparse.Namespace) -> int:
    from duality_bench.analysis import AnalysisConfig, analyze

    def split(text: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in text.split(",") if x.strip())

    model_name = args.model.rstrip("/").replace("\\", "/").split("/")[-1].removesuffix(".gguf")
    out = args.out or Path("results") / "analysis" / model_name
    config = AnalysisConfig(
        pairs=() if args.pair_ids == "all" else split(args.pair_ids),
        dataset=args.config,
        dataset_dir=args.dataset_dir,
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
    head = (out / "report.md").read_text().split("\n## ")[0].rstrip()
    print("\n".join(visible(line) for line in head.splitlines()))  # the report names the model
    print(f"\n{len(result.items)} items analysed in {sum(result.seconds.values()):.0f} s; wrote {visible(str(out))}/")
    return 0


def circuit(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from duality_bench.circuits import CircuitConfig, find_circuit
    from duality_bench.circuits.sweep import parse_pair_set, sweep_circuits
    from duality_bench.errors import DualityBenchError

    try:
        fractions = tuple(float(x) for x in args.fractions.split(",") if x.strip())
    except ValueError:
        raise DualityBenchError(f"--fractions takes percents such as 0.1,1,10,100, got {args.fractions!r}") from None
    pair_sets = [parse_pair_set(s) for s in args.pair_ids or ["left-right"]]
    config = CircuitConfig(
        method=args.method,
        steps=args.steps,
        fractions=fractions,
        limit=args.limit,
        exact_nodes=args.exact_nodes,
        greedy=args.greedy,
        figures=not args.no_figures,
        device=args.device,
        dtype=args.dtype,
    )
    if len(args.model) > 1 or len(pair_sets) > 1:
        folders, report = sweep_circuits(args.model, pair_sets, config, args.out or Path("results") / "circuits")
        print(f"{len(folders)} circuit folders; compared in {visible(str(report))}")
        return 0
    name = args.model[0].rstrip("/").replace("\\", "/").split("/")[-1]
    out = args.out or Path("results") / "circuits" / name
    result = find_circuit(args.model[0], replace(config, pairs=pair_sets[0].pairs, out=out))
    print(f"{len(result.items)} prompt pairs, {result.graph.n_edges} edges: CPR {result.cpr:.4f}, CMD {result.cmd:.4f}")
    print(f"wrote {visible(str(out))}/")
    return 0


def compare_circuits(args: argparse.Namespace) -> int:
    from duality_bench.circuits.comparison import compare_circuits

    path = compare_circuits(args.folders, args.out, figures=not args.no_figures)
    print(f"wrote {visible(str(path))}")
    return 0


def export(args: argparse.Namespace) -> int:
    from duality_bench.evaluation.harness import export_tasks, parse_configs

    print(export_tasks(args.out, parse_configs(args.configs), args.dataset_dir).report())
    return 0

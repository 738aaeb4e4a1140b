"""Task files for EleutherAI's lm-evaluation-harness, so its users can run the benchmark there.

`export_tasks` writes one two-choice `multiple_choice` task per dataset config (choices: the
target, then the distractor; the right answer is choice 0) and a group that aggregates them
without counting an item twice, for `lm_eval --include_path DIR`. lm-eval scores a choice as
the log-likelihood of `" " + choice` after the prompt, splitting context and continuation as
`vocabulary.continuation_ids` does, so its per-item decisions are this package's `sequence`
scoring (ties aside: lm-eval gives a tie to the target, this package counts it half). Only
plain YAML is written; lm-eval is not imported here. Same arguments, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from duality_bench.data.dataset import (
    CONFIGS,
    HUB_REPO_ID,
    SPLIT,
    USER_CONFIG,
    DatasetError,
    check_config,
    parquet_path,
)
from duality_bench.errors import DualityBenchError

GROUP = "duality_pairs"
TASK_VERSION = 1.0  # bump when a task's prompt, choices or metric changes
KNOWN = (*CONFIGS, USER_CONFIG)  # `user`: a dataset built from one's own pairs, in a local folder only
# The group scores each item at most once: it takes the selected configs in this order, skipping
# any that shares items with one already taken. With every config selected it is `all` alone,
# so `--tasks duality_pairs` reports the leaderboard's number. Only curated is disjoint from
# wordnet and from wordnet-full; every other two configs share items (the tests check this).
GROUP_PREFERENCE = ("all", "curated", "wordnet", "wordnet-full", USER_CONFIG)
DISJOINT = frozenset({frozenset(("curated", "wordnet")), frozenset(("curated", "wordnet-full"))})


class ExportError(DualityBenchError, ValueError):
    """Task files that cannot be written as asked."""


@dataclass(frozen=True)
class Export:
    """What `export_tasks` wrote: a task file per config and the group file."""

    out: Path
    tasks: dict[str, Path]  # config -> task YAML
    group: Path
    group_configs: tuple[str, ...]  # the configs the group aggregates
    dataset: Path | None  # the local dataset folder the tasks read; None: the hub

    def report(self) -> str:
        """What was written, and the command that runs it."""
        lines = [f"wrote {path}  (task {task_name(config)})" for config, path in self.tasks.items()]
        lines.append(f"wrote {self.group}  (group {GROUP}: {', '.join(map(task_name, self.group_configs))})")
        source = f"parquet files under {self.dataset.resolve()}" if self.dataset else f"the hub's {HUB_REPO_ID}"
        lines.append(f"the tasks read {source}; run them with")
        lines.append(f"  lm_eval --model hf --model_args pretrained=MODEL --include_path {self.out} --tasks {GROUP}")
        return "\n".join(lines)


def task_name(config: str) -> str:
    """`duality_pairs_<config>`, with `-` as `_` (lm-eval task names are identifiers by convention)."""
    return f"{GROUP}_{check_config(config).replace('-', '_')}"


def group_configs(configs: Sequence[str]) -> tuple[str, ...]:
    """The selected configs the group aggregates: no item counted twice (see GROUP_PREFERENCE)."""
    chosen: list[str] = []
    for config in GROUP_PREFERENCE:
        if config in configs and all(frozenset((config, c)) in DISJOINT for c in chosen):
            chosen.append(config)
    return tuple(chosen)


def task_yaml(config: str, dataset: Path | None = None) -> str:
    """One config's task: from the hub id, or from `dataset`'s parquet file (absolute, so any cwd works)."""
    lines = [f"task: {task_name(config)}"]
    if dataset is None:
        lines += [f"dataset_path: {HUB_REPO_ID}", f"dataset_name: {config}"]
    else:
        path = parquet_path(config, dataset).resolve()
        lines += ["dataset_path: parquet", "dataset_kwargs:", "  data_files:", f"    {SPLIT}: {_quote(str(path))}"]
    lines += [
        "output_type: multiple_choice",
        f"test_split: {SPLIT}",
        "doc_to_text: prompt",  # a field name: the prompt as is, no trailing space
        'doc_to_choice: "{{[target, distractor]}}"',
        "doc_to_target: 0",
        'target_delimiter: " "',  # what `vocabulary` puts between prompt and word
        "metric_list:",
        "  - metric: acc",
        "    aggregation: mean",
        "    higher_is_better: true",
        "metadata:",
        f"  version: {TASK_VERSION}",
    ]
    return "\n".join(lines) + "\n"


def group_yaml(configs: Sequence[str]) -> str:
    """The group: item-weighted mean accuracy over its tasks (the accuracy on their union)."""
    lines = [f"group: {GROUP}", "task:", *(f"  - {task_name(c)}" for c in configs)]
    lines += [
        "aggregate_metric_list:",
        "  - metric: acc",
        "    aggregation: mean",
        "    weight_by_size: true",
        "metadata:",
        f"  version: {TASK_VERSION}",
    ]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's), so any path reads back as itself."""
    return json.dumps(text, ensure_ascii=False)


def parse_configs(text: str | None) -> tuple[str, ...] | None:
    """`curated,wordnet` -> the configs, checked, each once, in KNOWN order; None stays None (the default)."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ExportError(f"--configs names no config; choose from {', '.join(KNOWN)}")
    chosen = {check_config(n) for n in names}
    return tuple(c for c in KNOWN if c in chosen)


def export_tasks(out: Path, configs: Sequence[str] | None = None, dataset: Path | None = None) -> Export:
    """Write `<out>/duality_pairs_<config>.yaml` per config and `<out>/duality_pairs.yaml` (the group).

    Default configs: every one the local `dataset` folder holds, or the four of the hub's dataset.
    """
    if dataset is not None and not Path(dataset).is_dir():
        raise DatasetError(f"no dataset folder {dataset}")
    configs = tuple(check_config(c) for c in configs) if configs is not None else _default_configs(dataset)
    if not configs:
        where = f"dataset folder {dataset} holds no <config>/{SPLIT}.parquet" if dataset else "no config to export"
        raise ExportError(f"{where}; the configs: {', '.join(KNOWN)}")
    if dataset is None and USER_CONFIG in configs:
        raise ExportError(f"config {USER_CONFIG!r} lives in a local dataset folder; pass it with --dataset-dir")
    if dataset is not None:
        missing = [str(parquet_path(c, dataset)) for c in configs if not parquet_path(c, dataset).is_file()]
        if missing:
            raise DatasetError(f"dataset folder {dataset} lacks {', '.join(missing)}; export only the configs it has")
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file; name a folder for the task files")
    out.mkdir(parents=True, exist_ok=True)
    tasks = {}
    for config in configs:
        tasks[config] = out / f"{task_name(config)}.yaml"
        tasks[config].write_text(task_yaml(config, dataset), encoding="utf-8")
    members = group_configs(configs)
    group = out / f"{GROUP}.yaml"
    group.write_text(group_yaml(members), encoding="utf-8")
    return Export(out, tasks, group, members, dataset)


def _default_configs(dataset: Path | None) -> tuple[str, ...]:
    if dataset is None:
        return CONFIGS
    return tuple(c for c in KNOWN if parquet_path(c, dataset).is_file())

"""The command line's one vocabulary: `--pairs` a pairs file, `--pair-ids` pair ids, `--dataset-dir`
a dataset folder, `--config` a config name, `--out` what a command writes. Each old spelling still
works for one release and says so in one `warning:` line."""

from __future__ import annotations

from pathlib import Path

import pytest

from duality_bench.cli import main
from duality_bench.cli.commands import eval_out
from duality_bench.cli.parser import build_parser

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "duality-pairs"
RENAMED = "the old spelling goes in the next release"

# (old argv, new argv): the same command in both spellings
SPELLINGS = [
    (["list", "--dataset", "D"], ["list", "--dataset-dir", "D"]),
    (["eval", "m", "--dataset", "D"], ["eval", "m", "--dataset-dir", "D"]),
    (["eval", "m", "--output", "r.json"], ["eval", "m", "--out", "r.json"]),
    (["eval", "m", "--output-dir", "runs"], ["eval", "m", "--out", "runs"]),
    (
        ["analyze", "m", "--pairs", "up-down", "--dataset", "D"],
        ["analyze", "m", "--pair-ids", "up-down", "--dataset-dir", "D"],
    ),
    (["circuit", "m", "--pairs", "up-down"], ["circuit", "m", "--pair-ids", "up-down"]),
    (["leaderboard", "--dataset", "D"], ["leaderboard", "--dataset-dir", "D"]),
    (["export", "lm-eval", "--out", "o", "--dataset", "D"], ["export", "lm-eval", "--out", "o", "--dataset-dir", "D"]),
]


def _options(argv: list[str]) -> dict:
    args = vars(build_parser().parse_args(argv))
    return {k: v for k, v in args.items() if k not in ("func", "renamed", "out_kind")}


@pytest.mark.parametrize(("old", "new"), SPELLINGS, ids=lambda argv: " ".join(argv))
def test_an_old_spelling_parses_to_the_new_one(old: list[str], new: list[str]) -> None:
    assert _options(old) == _options(new)
    assert build_parser().parse_args(old).renamed and not getattr(build_parser().parse_args(new), "renamed", None)


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_list_dataset_warns_once_and_lists_the_same(capsys) -> None:
    assert main(["list", "--dataset-dir", str(COMMITTED)]) == 0
    new = capsys.readouterr()
    assert main(["list", "--dataset", str(COMMITTED)]) == 0
    old = capsys.readouterr()
    assert old.out == new.out and not _warnings(new.err)
    assert _warnings(old.err) == [f"warning: list: --dataset is now --dataset-dir; {RENAMED}"]


def test_export_dataset_warns_once_and_writes_the_same(tmp_path: Path, capsys) -> None:
    assert main(["export", "lm-eval", "--out", str(tmp_path / "new"), "--dataset-dir", str(COMMITTED)]) == 0
    assert main(["export", "lm-eval", "--out", str(tmp_path / "old"), "--dataset", str(COMMITTED)]) == 0
    assert _warnings(capsys.readouterr().err) == [f"warning: export: --dataset is now --dataset-dir; {RENAMED}"]
    new, old = (sorted(p.relative_to(tmp_path / d) for p in (tmp_path / d).rglob("*")) for d in ("new", "old"))
    assert old == new
    for name in new:
        if (tmp_path / "new" / name).is_file():
            texts = [(tmp_path / d / name).read_text().replace(str(tmp_path / d), "") for d in ("new", "old")]
            assert texts[0] == texts[1], name


@pytest.mark.parametrize("command", ["analyze", "circuit"])
def test_pairs_as_ids_warns_once_and_fails_the_same(command: str, tiny_gpt2_dir: Path, tmp_path: Path, capsys) -> None:
    base = [command, str(tiny_gpt2_dir), "--no-figures", "--out", str(tmp_path / "o")]
    assert main([*base, "--pair-ids", "left-rigth"]) == 2
    new = capsys.readouterr().err
    assert main([*base, "--pairs", "left-rigth"]) == 2
    old = capsys.readouterr().err
    assert "no pair 'left-rigth'" in new and not _warnings(new)
    assert _warnings(old) == [f"warning: {command}: --pairs is now --pair-ids; {RENAMED}"]
    assert [line for line in old.splitlines() if line.startswith("error:")] == new.splitlines()


def _eval(tiny_gpt2_dir: Path, *out: str, capsys) -> tuple[str, str]:
    argv = ["eval", str(tiny_gpt2_dir), "--config", "curated", "--limit", "4", "--no-progress", *out]
    assert main(argv) == 0
    printed = capsys.readouterr()
    return printed.out.split("\nresults:")[0], printed.err


@pytest.mark.parametrize(("old", "where"), [("--output", "r.json"), ("--output-dir", "runs")])
def test_eval_output_flags_warn_once_and_write_the_same(
    old: str, where: str, tiny_gpt2_dir: Path, tmp_path: Path, capsys
) -> None:
    new_out, new_err = _eval(tiny_gpt2_dir, "--out", str(tmp_path / "new" / where), capsys=capsys)
    old_out, old_err = _eval(tiny_gpt2_dir, old, str(tmp_path / "old" / where), capsys=capsys)
    assert old_out == new_out and not _warnings(new_err)
    assert _warnings(old_err) == [f"warning: eval: {old} is now --out; {RENAMED}"]
    new, old_files = (
        sorted(p.relative_to(tmp_path / d) for p in (tmp_path / d).rglob("*.json")) for d in ("new", "old")
    )
    assert new == old_files and len(new) == 1


def test_eval_out_is_a_file_by_its_name_or_a_folder() -> None:
    assert eval_out(None) == (None, Path("results"))
    assert eval_out(Path("r.json")) == (Path("r.json"), Path("results"))
    assert eval_out(Path("r.items.jsonl")) == (Path("r.items.jsonl"), Path("results"))  # refused later, not a folder
    assert eval_out(Path("runs")) == (None, Path("runs"))
    assert eval_out(Path("runs"), "file") == (Path("runs"), Path("results"))  # the old --output
    assert eval_out(Path("r.json"), "folder") == (None, Path("r.json"))  # the old --output-dir


def test_build_audit_needs_a_results_folder_and_the_packaged_pairs(tmp_path: Path, capsys) -> None:
    assert main(["build", "--out", str(tmp_path / "ds"), "--audit", str(tmp_path / "none")]) == 2
    assert "--audit" in capsys.readouterr().err
    (tmp_path / "p.csv").write_text("a,b\nup,down\n")
    assert main(["build", "--pairs", str(tmp_path / "p.csv"), "--out", str(tmp_path / "u"), "--audit"]) == 2
    assert "a --pairs build has none" in capsys.readouterr().err
    assert not (tmp_path / "ds").exists() and not (tmp_path / "u").exists()
    assert build_parser().parse_args(["build", "--audit"]).audit == Path("leaderboard/results")
    assert build_parser().parse_args(["build"]).audit is None

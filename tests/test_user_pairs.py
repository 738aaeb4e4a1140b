"""Bring your own pairs (`build --pairs`, `eval --pairs`), the hub-ready dataset card and the
upload's dry run."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from duality_bench.cli import main
from duality_bench.data.dataset import load_items
from duality_bench.data.pairs.table import PairsError
from duality_bench.data.pairs.user import read_user_pairs

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data" / "duality-pairs"


def _file(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


@pytest.mark.parametrize(
    "data",
    [
        "a,b\nhot,cold\n",
        b"\xef\xbb\xbfa,b\r\nhot,cold\r\n",  # BOM and CRLF line ends, as spreadsheets write them: accepted
        "b,note,a\ncold,a note,hot\n",  # any column order, optional columns
    ],
)
def test_csv_pairs_are_read_in_any_accepted_shape(tmp_path: Path, data) -> None:
    pairs = read_user_pairs(_file(tmp_path, "p.csv", data))
    assert [(p.a, p.b, p.source, p.category, p.pos, p.id) for p in pairs] == [
        ("hot", "cold", "user", "user", "", "user.hot-cold")
    ]


def test_unicode_words_and_json_antonym_sets_are_accepted(tmp_path: Path) -> None:
    assert [(p.a, p.b) for p in read_user_pairs(_file(tmp_path, "p.csv", "a,b\nnaïve,savvy\n"))] == [("naïve", "savvy")]
    sets = json.dumps([{"input": "wet", "output": "dry"}, {"input": "loud", "output": "quiet"}])
    assert [(p.a, p.b) for p in read_user_pairs(_file(tmp_path, "s.json", sets))] == [("wet", "dry"), ("loud", "quiet")]
    padded = json.dumps([{"input": " loud ", "output": "quiet"}])  # a word is what is scored: no edge spaces
    with pytest.raises(PairsError, match=r"s\.json:entry 0: ' loud ' \(column input\) has U\+0020 \(SPACE\)"):
        read_user_pairs(_file(tmp_path, "s.json", padded))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("p.csv", "a,b\nhot,\n", r"p\.csv:2: both words are required"),
        ("p.csv", "a,b\nhot,Hot\n", r"p\.csv:2: a pair needs two different words"),
        ("p.csv", "a,c\nhot,cold\n", r"p\.csv:1: header must be a,b and any of category,pos"),
        ("p.csv", "a,b,category\nhot,cold,temperature\n", r"p\.csv:2: unknown category 'temperature'"),
        ("p.csv", "a,b,pos\nhot,cold,adj\n", r"p\.csv:2: unknown part of speech 'adj'"),
        (
            "p.csv",
            "a,b,a_other_duals\nhot,cold,cold\n",
            r"p\.csv:2: 'hot' lists 'cold', its dual in this pair, among its other duals",
        ),
        ("p.csv", "a,b\n", r"p\.csv: no pairs"),
        ("s.json", '{"input": "wet"}', r"s\.json: expected a JSON list"),
        ("s.json", '[{"input": "wet"}]', r"s\.json:entry 0: expected"),
        ("s.json", "[{", r"s\.json:1: not valid JSON"),
    ],
)
def test_bad_pairs_files_are_one_line_errors(tmp_path: Path, name: str, data: str, message: str) -> None:
    with pytest.raises(PairsError, match=message) as info:
        read_user_pairs(_file(tmp_path, name, data), categories=("spatial",))
    assert "\n" not in str(info.value)


def test_a_duplicate_pair_warns_and_keeps_the_first(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"p\.csv:3: duplicate pair Cold/HOT \(first at 2\)"):
        pairs = read_user_pairs(_file(tmp_path, "p.csv", "a,b\nhot,cold\nCold,HOT\n"))
    assert len(pairs) == 1


def test_build_pairs_writes_a_dataset_folder_of_the_same_format(tmp_path: Path, capsys) -> None:
    table = "a,b,category,pos\nleft,right,spatial,r\nhot,cold,,a\nbrave,timid,,\n"
    out = tmp_path / "mine"
    assert main(["build", "--pairs", str(_file(tmp_path, "p.csv", table)), "--out", str(out)]) == 0
    items = load_items("user", out)
    by_pair: dict[str, set[str]] = {}
    for item in items:
        by_pair.setdefault(item.pair_id, set()).add(item.template_id.split(".")[0])
        assert item.source == "user" and item.control and item.control not in (item.cue, item.target)
    assert by_pair["user.left-right"] == {"spatial", "few-shot"}  # its curated category's templates
    assert by_pair["user.hot-cold"] == {"wordnet-a", "few-shot"}  # its part of speech's generic ones
    assert by_pair["user.brave-timid"] == {"few-shot"}  # neither given: few-shot only
    from datasets import load_dataset

    assert len(load_dataset(str(out), "user", split="test")) == len(items)
    assert (out / "README.md").read_text().count("config_name: user") == 2  # dataset_info and configs


def test_eval_pairs_scores_the_users_pairs_on_the_fly(tmp_path: Path, tiny_gpt2_dir: Path) -> None:
    pairs = _file(tmp_path, "s.json", json.dumps([{"input": "wet", "output": "dry"}]))
    out = tmp_path / "r.json"
    assert main(["eval", str(tiny_gpt2_dir), "--pairs", str(pairs), "--out", str(out), "--no-progress"]) == 0
    result = json.loads(out.read_text())
    assert result["dataset"]["config"] == "user" and result["dataset"]["sha256"] is None
    assert result["metrics"]["n"] == 4  # two few-shot templates, both directions
    assert main(["eval", str(tiny_gpt2_dir), "--pairs", str(pairs), "--out", str(out)]) == 0  # the same run: kept


def test_the_committed_card_is_ready_for_the_hub() -> None:
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(COMMITTED / "README.md")
    data = card.data.to_dict()
    for key in ("annotations_creators", "language_creators", "multilinguality", "source_datasets", "task_ids"):
        assert data[key], key
    info = {c["config_name"]: c for c in data["dataset_info"]}
    for config in ("curated", "wordnet", "wordnet-full", "all"):
        assert info[config]["splits"][0]["num_examples"] == len(load_items(config))
        assert {f["name"] for f in info[config]["features"]} >= {"prompt", "target", "distractor", "other_duals"}
    text = card.text
    for section in ("## Uses", "## Scoring protocol", "## How the curated pairs were chosen", "## Limitations"):
        assert section in text
    assert "Miller" in text and "Fellbaum" in text and '"pair_id": ' in text  # citations, an example row
    license_text = (REPO / "data" / "LICENSE.wordnet").read_text().split()
    assert " ".join(license_text) in " ".join(text.replace(">", " ").split())  # WordNet's license, in full


def test_push_dry_run_lists_exactly_what_would_be_uploaded(tmp_path: Path) -> None:
    import hashlib
    import shutil

    folder = tmp_path / "ds"
    shutil.copytree(COMMITTED, folder)
    script = [
        sys.executable,
        str(REPO / "scripts" / "push_to_hub.py"),
        "--repo-id",
        "me/pairs",
        "--folder",
        str(folder),
    ]
    run = subprocess.run([*script, "--dry-run"], capture_output=True, text=True, check=True)
    listed = [line.split("\t") for line in run.stdout.splitlines() if "\t" in line]
    expected = sorted(
        (p.relative_to(folder).as_posix(), str(p.stat().st_size), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in folder.rglob("*")
        if p.is_file()
    )
    assert [tuple(x) for x in listed] == expected
    assert run.stdout.rstrip().endswith("dry run: nothing uploaded")
    with open(folder / "curated" / "test.parquet", "ab") as f:
        f.write(b"tampered")
    bad = subprocess.run([*script, "--dry-run"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "does not match" in bad.stderr


def test_no_warnings_from_the_committed_tables() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_items("curated")) > 0

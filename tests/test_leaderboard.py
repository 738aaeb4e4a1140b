"""The leaderboard: results files -> LEADERBOARD.md and index.html.

The results files are real: tiny random GPT-2 models (built here, with GPT-2's real tokenizer)
evaluated by `evaluate` on the packaged dataset, plus the word-frequency reference row made by
`duality-bench baselines` (duality_bench.evaluation.baselines). The browser tests (marked
`browser`) open the page in headless Chromium (Debian's chromium + chromium-driver, driven by selenium).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from duality_bench.cli import main
from duality_bench.display import number
from duality_bench.headlines import CANDIDATES
from duality_bench.leaderboard import Entry, LeaderboardConfig, LeaderboardError, build_leaderboard
from duality_bench.leaderboard.columns import METRIC_COLUMNS
from duality_bench.leaderboard.entries import ranks
from duality_bench.leaderboard.explore import family
from duality_bench.leaderboard.headline import HEADLINE
from duality_bench.results import RunResult, load_result, save_result
from tests.need import need, need_module

REPO = Path(__file__).resolve().parents[1]
TOKENIZER = REPO / "data" / "gpt2-tokenizer"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_REVISION = "<script>alert(2)</script> a|b *c* [d](e)"
HOSTILE_CATEGORY = "</script><script>alert(3)</script>"
HOSTILE_PAIR = '"><iframe srcdoc=x onload=alert(4)>'
TIE = 0.0625  # Python's .3f rounds this exact tie half to even (0.062); JavaScript's toFixed rounds it up
CONFIG = "curated"


def tiny_model(folder: Path, seed: int, width: int):
    """A random GPT-2 of the given width with GPT-2's real tokenizer, loaded for scoring."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    from duality_bench.models.loading import load_model

    torch.manual_seed(seed)
    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=width, n_head=2, n_positions=128)).save_pretrained(folder)
    GPT2TokenizerFast.from_pretrained(TOKENIZER).save_pretrained(folder)
    return load_model(str(folder), dtype="float32", device="cpu")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder: two tiny models, one with a hostile name, and the frequency baseline."""
    if not (TOKENIZER / "vocab.json").exists():
        need(False, f"GPT-2 tokenizer folder not found at {TOKENIZER}")
    from duality_bench.evaluation.baselines import word_baseline
    from duality_bench.evaluation.run import EvalConfig, evaluate
    from duality_bench.results import default_result_path

    root = tmp_path_factory.mktemp("lb")
    dataset = small_dataset(root / "dataset")
    res = root / "results"
    for seed, width, model_id, revision in (
        (0, 32, "test/tiny-gpt2-a", "seed0"),
        (1, 64, "test/tiny-gpt2-b", "seed1"),
        (2, 48, HOSTILE, HOSTILE_REVISION),
    ):
        loaded = replace(tiny_model(root / f"model{seed}", seed, width), id=model_id, revision=revision)
        out = default_result_path(model_id, CONFIG, res)
        evaluate(loaded, EvalConfig(dataset=CONFIG, output=out, progress=False, n_bootstrap=200, dataset_dir=dataset))
    word_baseline("frequency", CONFIG, res, dataset_dir=dataset)
    word_baseline("copy", CONFIG, res, dataset_dir=dataset)
    return res


def small_dataset(folder: Path) -> Path:
    """A dataset folder holding every 6th pair of the packaged curated config (and left/right)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from duality_bench.data.dataset import dataset_dir
    from duality_bench.provenance import file_sha256

    table = pq.read_table(dataset_dir() / CONFIG / "test.parquet")
    pairs = sorted(set(table.column("pair_id").to_pylist()))
    keep = set(pairs[::6]) | ({"left-right"} & set(pairs))
    (folder / CONFIG).mkdir(parents=True)
    pq.write_table(
        table.filter(pc.is_in(table.column("pair_id"), value_set=pa_array(keep))), folder / CONFIG / "test.parquet"
    )
    (folder / "sha256sums.txt").write_text(f"{file_sha256(folder / CONFIG / 'test.parquet')}  {CONFIG}/test.parquet\n")
    return folder


def pa_array(values: set[str]):
    import pyarrow as pa

    return pa.array(sorted(values))


@pytest.fixture()
def board_dir(results: Path, tmp_path: Path) -> Path:
    """A private copy of the results and dataset folders (tests change them): <tmp>/results, <tmp>/dataset."""
    shutil.copytree(results, tmp_path / "results")
    shutil.copytree(results.parent / "dataset", tmp_path / "dataset")
    return tmp_path


def build(folder: Path, **kw):
    kw.setdefault("dataset_dir", folder / "dataset")
    return build_leaderboard(LeaderboardConfig(results=folder / "results", out=folder / "out", **kw))


def result_files(folder: Path) -> list[Path]:
    return sorted((folder / "results").rglob("*.json"))


def add_hostile_breakdowns(folder: Path) -> RunResult:
    """Give the hostile model a hostile category and pair id, whose numbers are rounding ties."""
    path = next(f for f in result_files(folder) if load_result(f).model.id == HOSTILE)
    data = json.loads(path.read_text())
    row = {"n": 16, "duality_accuracy": TIE, "control_accuracy": 0.5, "top1_accuracy": None, "logit_diff": -0.125}
    data["breakdowns"]["category"][HOSTILE_CATEGORY] = row
    data["breakdowns"]["pair"][HOSTILE_PAIR] = row
    path.write_text(json.dumps(data))
    return load_result(path)


def on_disk(folder: Path) -> dict[str, RunResult]:
    return {r.model.id: r for r in map(load_result, result_files(folder))}


def explore_json(page: str) -> dict:
    """The views' numbers, as the page embeds them."""
    return json.loads(page.split("\nvar EXPLORE = ", 1)[1].split(";\n", 1)[0])


def markdown_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the markdown table under `header`, split on unescaped pipes."""
    block = text.split(header, 1)[1].split("\n\n", 2)[1]
    return [re.split(r"(?<!\\)\|", line)[1:-1] for line in block.splitlines()[2:]]


def test_rows_are_ranked_by_the_headline(board_dir: Path) -> None:
    board = build(board_dir)
    files = result_files(board_dir)
    assert len(files) == 5 and not board.problems and not board.unranked
    section = board.sections[CONFIG]
    scores = [HEADLINE.value(e.metrics) for e in section]
    assert scores == sorted(scores, reverse=True)
    on_disk = {load_result(f).model.id: HEADLINE.value(load_result(f).metrics) for f in files}
    assert {e.model_id: HEADLINE.value(e.metrics) for e in section} == on_disk
    rows = markdown_rows(board.markdown.read_text(), f"## Dataset config `{CONFIG}`")
    assert len(rows) == 5 and len({len(r) for r in rows}) == 1
    assert [r[5].strip() for r in rows] == [f"{a:.3f}" for a in scores]
    copy = [r for r in rows if "baseline/copy" in r[1]][0]
    assert copy[5].strip() == "0.000"  # the copy row never rates the dual above the cue
    ref = [r for r in rows if "baseline/frequency" in r[1]]
    assert ref[0][0].strip() == "ref" and "(reference)" in ref[0][1]
    # ranks are ranges where the paired bootstrap cannot separate rows; each holds the row's place
    real = [r[0].strip() for r in rows if "baseline/" not in r[1]]
    for place, cell in enumerate(real, start=1):
        lo, _, hi = cell.partition("–")
        assert int(lo) <= place <= int(hi or lo), real
    text = board.markdown.read_text()
    assert "## Reference rows" in text and "never looks at the prompt" in text
    for e in section:  # each row links to its results file, relative to the output folder
        assert (board.markdown.parent / e.link).resolve() == next(
            f.resolve() for f in files if load_result(f).model.id == e.model_id
        )


def test_bad_files_are_reported_one_line_each_and_skipped(board_dir: Path, capsys: pytest.CaptureFixture) -> None:
    res = board_dir / "results"
    good = result_files(board_dir)
    text = good[0].read_text()
    bad = res / "bad"
    bad.mkdir()
    (bad / "truncated.json").write_text(text[: len(text) // 2])
    (bad / "foreign.json").write_text(json.dumps({"name": "some-package", "version": "1.0"}))
    (bad / "list.json").write_text("[1, 2, 3]")
    (bad / "empty.json").write_text("")
    (bad / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    data = json.loads(text)
    del data["metrics"]["duality_score"]
    (bad / "no-accuracy.json").write_text(json.dumps(data))
    data = json.loads(text)
    data["breakdowns"]["category"] = ["not", "a", "dict"]
    (bad / "bad-breakdown.json").write_text(json.dumps(data))
    shutil.copy(good[0], bad / "duplicate.json")
    assert list(res.rglob("*.items.jsonl")), "the items files sit beside the results and must be ignored"

    rc = main(
        [
            "leaderboard",
            "--results",
            str(res),
            "--out",
            str(board_dir / "out"),
            "--dataset-dir",
            str(board_dir / "dataset"),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0
    lines = err.strip().splitlines()
    assert len(lines) == 8
    assert sorted(line.split(":")[0] for line in lines) == sorted(
        f"skipped bad/{p.name}" for p in bad.iterdir() if p.suffix == ".json"
    )
    assert any("truncated" in line for line in lines if "truncated.json" in line)
    assert any("metrics.duality_score" in line for line in lines)
    assert "5 ranked rows" in out
    rows = markdown_rows((board_dir / "out" / "LEADERBOARD.md").read_text(), "## Dataset config")
    assert len(rows) == 5


def test_text_from_results_is_escaped(board_dir: Path) -> None:
    add_hostile_breakdowns(board_dir)
    board = build(board_dir)
    text = board.markdown.read_text()
    assert "<img" not in text and "<script" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    row = next(r for r in markdown_rows(text, "## Dataset config") if "onerror" in r[1])
    assert "a\\|b" in row[2] and "\\*c\\*" in row[2] and "\\[d\\]" in row[2]
    page = board.html.read_text()
    assert HOSTILE not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert HOSTILE_CATEGORY not in page and HOSTILE_PAIR not in page and "<iframe" not in page and "<img" not in page
    assert page.lower().count("<script") == 2 and page.lower().count("</script") == 2  # plotly.js, then ours
    assert "&lt;/script&gt;&lt;script&gt;alert(3)&lt;/script&gt; acc." in page  # the category's column
    data = explore_json(page)  # the views' data holds the text as it is, to be shown with textContent
    assert HOSTILE_CATEGORY in data["sections"][0]["categories"] and HOSTILE_PAIR in data["sections"][0]["pairs"]
    assert HOSTILE in [m["id"] for m in data["sections"][0]["models"]]


def test_page_embeds_each_models_breakdowns(board_dir: Path) -> None:
    """The drill-down and the comparison read every model's per-category and per-pair rows from the page."""
    add_hostile_breakdowns(board_dir)
    board = build(board_dir)
    data = explore_json(board.html.read_text())
    assert [c["name"] for c in data["columns"]] == [
        "n",
        "accuracy",
        "vs control",
        "vs related",
        "every foil",
        "calibrated",
        "top-1",
        "logit diff",
    ]
    (section,) = data["sections"]
    assert section["config"] == CONFIG and section["slug"] == CONFIG
    assert [m["id"] for m in section["models"]] == [e.model_id for e in board.sections[CONFIG]]
    fields = ("n", "duality_accuracy", "control_accuracy", "related_accuracy", "choice_accuracy")
    fields += ("calibrated_accuracy", "top1_accuracy", "logit_diff")
    results = on_disk(board_dir)
    for m in section["models"]:
        result = results[m["id"]]
        for by, names in (("category", section["categories"]), ("pair", section["pairs"])):
            rows = result.breakdowns[by]
            expected = [[getattr(rows[k], f) for f in fields] if k in rows else None for k in names]
            assert m[by] == expected and sum(r is not None for r in m[by]) == len(rows) > 0
        assert m["score"] == HEADLINE.value(result.metrics) and m["params"] == result.model.n_params
        assert m["reference"] == m["id"].startswith("baseline/")
    assert [m["rank"] for m in section["models"]] == ranks(board.sections[CONFIG])
    families = {m["id"]: m["family"] for m in section["models"]}
    assert families == {
        "test/tiny-gpt2-a": "tiny",
        "test/tiny-gpt2-b": "tiny",
        HOSTILE: "<img",
        "baseline/frequency": "baseline",
        "baseline/copy": "baseline",
    }


def test_family_is_read_from_the_model_id() -> None:
    result = load_result(COMMITTED / "results" / "smollm2-135m" / "default" / "all.json")

    def of(model_id: str) -> str:
        return family(Entry(replace(result, model=replace(result.model, id=model_id)), link="", status="current"))

    assert of("HuggingFaceTB/SmolLM2-135M") == of("smollm2-135m") == "smollm2"
    assert of("google/gemma-3-270m") == "gemma" and of("gemma3-270m") == "gemma3"
    assert of("openai-community/gpt2-medium") == of("gpt2") == "gpt2" and of("Qwen/Qwen2.5-0.5B") == "qwen2.5"
    assert of("baseline/copy") == of("baseline/anything") == "baseline"


NEW_COLUMNS = {"vs related": "related_score", "choice accuracy": "choice_accuracy", "calibrated": "calibrated_score"}


def test_new_columns_show_numbers_and_a_dash_for_older_files(board_dir: Path) -> None:
    """Related, every-foil and calibrated columns: a file that has them shows them; an older file, "–"."""
    files = {load_result(f).model.id: f for f in result_files(board_dir)}
    new, old = files["test/tiny-gpt2-a"], files["test/tiny-gpt2-b"]
    data = json.loads(new.read_text())
    data["metrics"].update(related_score=0.125, calibrated_score=0.875)  # the dataset has no related words yet
    new.write_text(json.dumps(data))
    data = json.loads(old.read_text())
    for name in ("related_score", "related_accuracy", "choice_chance", "calibrated_score", "calibrated_accuracy"):
        del data["metrics"][name]
    if HEADLINE.metric != "choice_accuracy":
        del data["metrics"]["choice_accuracy"]
    old.write_text(json.dumps(data))
    board = build(board_dir)
    assert not board.problems
    text = board.markdown.read_text()
    section = text.split(f"## Dataset config `{CONFIG}`", 1)[1]
    head = [h.strip() for h in next(line for line in section.splitlines() if line.startswith("| # |")).split("|")]
    rows = {r[1].strip(): ["", *(c.strip() for c in r)] for r in markdown_rows(text, f"## Dataset config `{CONFIG}`")}
    a = load_result(new).metrics
    shown = {name: rows["test/tiny-gpt2-a"][head.index(name)] for name in NEW_COLUMNS}
    assert shown == {"vs related": "0.125", "choice accuracy": f"{a.choice_accuracy:.3f}", "calibrated": "0.875"}
    older = [rows["test/tiny-gpt2-b"][head.index(name)] for name in NEW_COLUMNS if name != HEADLINE.name]
    assert older == ["–"] * len(older) == ["–", "–"]
    assert "choice chance" not in text.split("\n| # |")[0]  # the rows do not all know it
    page = board.html.read_text()
    head_cells = re.findall(r"<th [^>]*>(.*?)</th>", page.split(f'id="table-{CONFIG}"', 1)[1].split("</thead>")[0])
    body = page.split(f'id="table-{CONFIG}"', 1)[1].split("</tbody>")[0]
    row_a = next(r for r in body.split("<tr")[1:] if "test/tiny-gpt2-a<" in r)
    cells = re.findall(r"<td [^>]*>(.*?)</td>", row_a)
    assert cells[head_cells.index("choice accuracy")] == f"{a.choice_accuracy:.3f}"
    assert cells[head_cells.index("calibrated")] == "0.875"
    row_b = next(r for r in body.split("<tr")[1:] if "test/tiny-gpt2-b<" in r)
    assert re.findall(r"<td [^>]*>(.*?)</td>", row_b)[head_cells.index("vs related")] == "–"
    # a file from before the headline's metric cannot be ranked by it: skipped, in one line
    del data["metrics"][HEADLINE.metric]
    old.write_text(json.dumps(data))
    board = build(board_dir)
    assert [p for p in board.problems if "test__tiny-gpt2-b" in p] == [
        f"skipped test__tiny-gpt2-b/default/{CONFIG}.json: results file has no number for metrics.{HEADLINE.metric}"
    ]


def test_headline_candidates_are_compared_on_the_rows_items(board_dir: Path) -> None:
    board = build(board_dir)
    section = board.sections[CONFIG]
    stabilities = board.headlines[CONFIG]
    assert [s.candidate.name for s in stabilities] == [c.name for c in CANDIDATES]
    macro = stabilities[0]  # today's headline, from the items files: the duality score of each row
    assert macro.scores == pytest.approx({e.model_id: e.metrics.duality_score for e in section})
    text = board.markdown.read_text()
    block = text.split("### Which headline", 1)[1].split("\n\n")[2]  # heading, explanation, table
    rows = [re.split(r"(?<!\\)\|", line)[1:-1] for line in block.splitlines()[2:]]
    assert len(rows) == len(CANDIDATES) and sum("(chosen)" in r[0] for r in rows) == 1
    assert all(len(r) == len(section) + 8 for r in rows)  # name, rows, order, 3 splits, mean, real, refs
    page = board.html.read_text()
    assert "<h3>Which headline</h3>" in page and page.count("(chosen)</td>") == 1


def test_params_plot_draws_each_rows_interval(board_dir: Path) -> None:
    board = build(board_dir)
    figures = json.loads(board.html.read_text().split("\nvar FIGURES = ", 1)[1].split(";\n", 1)[0])
    models = figures[f"plot-{CONFIG}-params"]["data"][0]
    by_id = {e.model_id: e.metrics for e in board.sections[CONFIG]}
    for name, y, up, down in zip(
        models["text"], models["y"], models["error_y"]["array"], models["error_y"]["arrayminus"], strict=True
    ):
        lo, hi = next(HEADLINE.interval(m) for i, m in by_id.items() if html.escape(i, quote=False) == name)
        assert y - down == pytest.approx(lo) and y + up == pytest.approx(hi)
    levels = [s["y0"] for s in figures[f"plot-{CONFIG}-params"]["layout"]["shapes"]]
    assert sorted(levels) == sorted(HEADLINE.value(by_id[r]) for r in ("baseline/copy", "baseline/frequency"))


def test_headings_give_the_choice_chance_when_every_row_knows_it(board_dir: Path) -> None:
    board = build(board_dir)
    chances = {e.metrics.choice_chance for e in board.sections[CONFIG]}
    assert len(chances) == 1 and 0 < chances.pop() <= 0.5  # the same items, at least the cue as a foil
    chance = board.sections[CONFIG][0].metrics.choice_chance
    assert f"items, choice chance {chance:.3f})" in board.markdown.read_text()
    assert f"items, choice chance {chance:.3f})</small></h2>" in board.html.read_text()


def test_headline_column_comes_first_with_its_definition(board_dir: Path) -> None:
    page = build(board_dir).html.read_text()
    head = page.split(f'id="table-{CONFIG}"', 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th ([^>]*)>(.*?)</th>", head)
    assert [name for _, name in cells[:5]] == ["#", "model", HEADLINE.name, "95% CI", "revision"]
    name, text, _ = METRIC_COLUMNS[0]
    assert name == HEADLINE.name and f'title="{html.escape(text)}"' in cells[2][0]
    assert text.endswith(HEADLINE.text)


def test_rebuild_gives_identical_files(board_dir: Path) -> None:
    first = build(board_dir)
    before = (first.markdown.read_bytes(), first.html.read_bytes())
    second = build(board_dir)
    assert (second.markdown.read_bytes(), second.html.read_bytes()) == before
    # A fresh output folder beside the first gives the same bytes too.
    other = build_leaderboard(
        LeaderboardConfig(results=board_dir / "results", out=board_dir / "out2", dataset_dir=board_dir / "dataset")
    )
    assert (other.markdown.read_bytes(), other.html.read_bytes()) == before


def test_older_dataset_builds_and_partial_runs_are_listed_apart(board_dir: Path) -> None:
    files = result_files(board_dir)
    stale = load_result(files[0])
    save_result(replace(stale, dataset=replace(stale.dataset, sha256="0" * 64)), files[0])
    partial = load_result(files[1])
    save_result(replace(partial, options=replace(partial.options, limit=10)), files[1])
    board = build(board_dir)
    status = {e.model_id: e.status for e in board.entries}
    assert status[stale.model.id] == "stale" and status[partial.model.id] == "partial"
    assert {e.model_id for e in board.sections[CONFIG]} == {e.model_id for e in board.entries} - {
        stale.model.id,
        partial.model.id,
    }
    text = board.markdown.read_text()
    assert len(markdown_rows(text, "## Not ranked")) == 2 and "older dataset build" in text
    assert "not-ranked" in board.html.read_text()


def test_current_build_comes_from_the_dataset_folder(board_dir: Path) -> None:
    other = board_dir / "rebuilt"
    other.mkdir()
    sums = (board_dir / "dataset" / "sha256sums.txt").read_text()
    (other / "sha256sums.txt").write_text(re.sub(r"^[0-9a-f]{64}", "f" * 64, sums, flags=re.M))
    board = build(board_dir, dataset_dir=other)
    assert not board.sections and {e.status for e in board.entries} == {"stale"}
    assert len(markdown_rows(board.markdown.read_text(), "## Not ranked")) == 5


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["leaderboard", "--results", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: leaderboard: no results folder") and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "junk.json").write_text("{")
    assert main(["leaderboard", "--results", str(tmp_path / "empty"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no usable results files" in err and "skipped 1" in err and err.count("\n") == 1
    with pytest.raises(LeaderboardError, match="sha256sums"):
        build_leaderboard(LeaderboardConfig(results=tmp_path / "empty", out=tmp_path, dataset_dir=tmp_path))


def test_frequency_baseline_ignores_the_context(results: Path) -> None:
    """A context-free scorer's a->b and b->a logit differences cancel, template by template."""
    from duality_bench.data.dataset import load_items
    from duality_bench.evaluation.items import items_path, read_items_file

    path = results / "baseline__frequency" / "default" / f"{CONFIG}.json"
    result = load_result(path)
    assert result.model.id == "baseline/frequency" and result.excluded.count == 0
    _, scores = read_items_file(items_path(path))
    items = {i.id: i for i in load_items(CONFIG, results.parent / "dataset")}
    by_key = {(items[s.item_id].pair_id, items[s.item_id].template_id, items[s.item_id].direction): s for s in scores}
    both = [(s, by_key.get((p, t, "b->a"))) for (p, t, d), s in by_key.items() if d == "a->b"]
    both = [(ab, ba) for ab, ba in both if ba is not None]
    assert len(both) > 10
    assert all(ab.logit_diff == -ba.logit_diff for ab, ba in both)
    for pair in result.metrics.asymmetry.most_asymmetric:
        assert pair.acc_ab + pair.acc_ba <= 1


def test_importing_the_leaderboard_loads_no_heavy_module() -> None:
    code = (
        "import sys, duality_bench.leaderboard, duality_bench.cli;"
        "print(sorted({'plotly', 'torch', 'pandas'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- in a real browser --------------------------------------------------------------------

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
COMMITTED = REPO / "leaderboard"
NO_ALERTS = "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"


@pytest.fixture()
def browser(tmp_path: Path):
    webdriver = need_module("selenium.webdriver")
    need(
        CHROMIUM.exists() and CHROMEDRIVER.exists(),
        "needs /usr/bin/chromium and /usr/bin/chromedriver (scripts/install.sh installs them)",
    )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NO_ALERTS})
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, page: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "var p = document.querySelectorAll('div.plot');"
            "return p.length > 0 && Array.prototype.every.call(p, function (e) {"
            "  return e.querySelector('.main-svg'); });"
        )
    )


def cells(driver, css: str) -> list[list[str]]:
    """The text of every cell of the tables under `css`, row by row (hidden rows too)."""
    return driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll(arguments[0] + ' tbody tr'), function (tr) {"
        "  return Array.prototype.map.call(tr.cells, function (td) { return td.textContent; }); });",
        css,
    )


def shown_models(driver) -> list[str]:
    """The model names of the ranked rows the filter leaves shown."""
    return driver.execute_script(
        f"return Array.prototype.filter.call(document.querySelectorAll('#table-{CONFIG} tbody tr'),"
        "  function (tr) { return !tr.hidden; }).map(function (tr) {"
        "  return tr.querySelector('a.drill-link').textContent; });"
    )


def check_quiet(driver) -> None:
    """No alert from hostile text, no element it could have made, no error in the console."""
    assert driver.execute_script("return window.__alerts") == []
    assert driver.execute_script("return document.querySelectorAll('img, iframe, script[src]').length") == 0
    assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []


def wait_for_rows(driver, css: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: cells(d, css))


def choose(driver, css: str, value: object) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("css selector", css)).select_by_value(str(value))


def column(driver, table_id: str, col: int, attr: str = "data-sort") -> list[str]:
    cells = driver.find_elements("css selector", f"#{table_id} tbody tr td:nth-child({col})")
    return [c.get_attribute(attr) if attr else c.text for c in cells]


@pytest.mark.browser
def test_page_in_chromium(board_dir: Path, browser, tmp_path: Path) -> None:
    board = build(board_dir)
    open_page(browser, board.html)
    table = f"table-{CONFIG}"
    names = column(browser, table, 2, attr="")
    assert len(names) == 5 and any(n.startswith(HOSTILE) for n in names)

    heads = browser.find_elements("css selector", f"#{table} thead th")
    assert [h.text for h in heads][:3] == ["#", "model", HEADLINE.name]  # the headline first
    acc_col = [h.text for h in heads].index(HEADLINE.name) + 1
    assert HEADLINE.text in heads[acc_col - 1].get_attribute("title")  # the definition on hover
    heads[acc_col - 1].click()
    ascending = [float(v) for v in column(browser, table, acc_col)]
    assert ascending == sorted(ascending) and heads[acc_col - 1].get_attribute("aria-sort") == "ascending"
    heads[acc_col - 1].click()
    assert [float(v) for v in column(browser, table, acc_col)] == sorted(ascending, reverse=True)
    heads[1].click()
    assert [n.lower() for n in column(browser, table, 2, attr="")] == sorted(n.lower() for n in names)

    plots = browser.find_elements("css selector", "div.plot")
    assert len(plots) == 4 and all(p.get_attribute("class").count("js-plotly-plot") for p in plots)
    points = browser.find_elements("css selector", f"#plot-{CONFIG}-params .scatterlayer .point")
    assert len(points) == 3  # every row but the frequency and copy ones, which have no parameter count
    labels = [t.get_attribute("textContent") for t in browser.find_elements("css selector", ".textpoint text")]
    assert HOSTILE in labels  # the hostile name is drawn as text
    bars = browser.find_elements("css selector", f"#plot-{CONFIG}-categories .barlayer .point")
    assert len(bars) > 4

    check_quiet(browser)
    shot = tmp_path / "screenshot.png"
    assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def signed(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def breakdown_cells(name: str, row) -> list[str]:
    """A drill-down row as the page should show it: Python's rounding, ties to even."""
    numbers = (row.duality_accuracy, row.control_accuracy, row.related_accuracy, row.choice_accuracy)
    numbers += (row.calibrated_accuracy, row.top1_accuracy)
    return [name, str(row.n), *(number(v) for v in numbers), number(row.logit_diff, 2)]


@pytest.mark.browser
def test_drill_down_in_chromium(board_dir: Path, browser) -> None:
    add_hostile_breakdowns(board_dir)
    board = build(board_dir)
    open_page(browser, board.html)
    section, results = board.sections[CONFIG], on_disk(board_dir)
    view = f"#drill-{CONFIG}-view"
    for i, e in enumerate(section):
        choose(browser, f"{view} select.drill-model", i)
        rows = results[e.model_id].breakdowns["category"]
        assert cells(browser, f"{view} .drill-categories") == [breakdown_cells(c, rows[c]) for c in sorted(rows)]
        assert browser.find_element("css selector", f"{view} .drill-about").text.startswith(e.model_id)
    hostile = [e.model_id for e in section].index(HOSTILE)
    browser.find_elements("css selector", f"#table-{CONFIG} a.drill-link")[hostile].click()  # its name in the table
    assert browser.find_element("css selector", f"{view} select.drill-model").get_attribute("value") == str(hostile)
    shown = cells(browser, f"{view} .drill-categories")
    # Ties round as in LEADERBOARD.md; the hand-written row has no related, choice or calibrated numbers.
    assert [HOSTILE_CATEGORY, "16", "0.062", "0.500", "–", "–", "–", "–", "-0.12"] in shown

    assert cells(browser, f"{view} .drill-pair-table") == []  # drawn when opened
    browser.find_element("css selector", f"{view} .drill-pairs summary").click()
    pairs = results[HOSTILE].breakdowns["pair"]
    wait_for_rows(browser, f"{view} .drill-pair-table")  # drawn on the details' toggle event
    assert cells(browser, f"{view} .drill-pair-table") == [breakdown_cells(p, pairs[p]) for p in sorted(pairs)]
    browser.find_element("css selector", f"{view} .pair-filter").send_keys("left")
    count = browser.find_element("css selector", f"{view} .pair-count").text
    assert count == f"{sum('left' in p for p in pairs)} of {len(pairs)} pairs" and not count.startswith("0 ")
    heads = browser.find_elements("css selector", f"{view} .drill-categories thead th")
    heads[2].click()  # sort by accuracy
    accuracies = [float(v) for v in column(browser, f"drill-{CONFIG}-view .drill-categories table", 3) if v]
    assert accuracies == sorted(accuracies) and heads[2].get_attribute("aria-sort") == "ascending"
    check_quiet(browser)


@pytest.mark.browser
def test_filter_by_family_and_size_in_chromium(board_dir: Path, browser) -> None:
    board = build(board_dir)
    open_page(browser, board.html)
    everyone = [e.model_id for e in board.sections[CONFIG]]
    assert shown_models(browser) == everyone
    options = browser.find_elements("css selector", "#filter-family option")
    assert [o.text for o in options] == ["all", "<img", "tiny"]  # the hostile name's family, as text
    choose(browser, "#filter-family", "tiny")
    tiny = [m for m in everyone if m.startswith("test/tiny-gpt2-")]
    assert shown_models(browser) == [m for m in everyone if m in tiny or m.startswith("baseline/")]
    browser.find_element("id", "filter-refs").click()  # reference rows hidden
    assert shown_models(browser) == tiny
    hidden = browser.find_elements("css selector", f"#table-{CONFIG} tbody tr")[everyone.index(HOSTILE)]
    assert not hidden.is_displayed()
    assert browser.find_element("id", "filter-count").text == f"showing 2 of {len(everyone)} rows"
    n_params = {e.model_id: e.result.model.n_params for e in board.sections[CONFIG]}
    choose(browser, "#filter-family", "")
    choose(browser, "#filter-min", n_params["test/tiny-gpt2-b"])  # the largest
    assert shown_models(browser) == ["test/tiny-gpt2-b"]
    choose(browser, "#filter-min", "")
    choose(browser, "#filter-max", n_params[HOSTILE])
    assert sorted(shown_models(browser)) == sorted([HOSTILE, "test/tiny-gpt2-a"])
    check_quiet(browser)


@pytest.mark.browser
def test_compare_two_models_in_chromium(board_dir: Path, browser) -> None:
    add_hostile_breakdowns(board_dir)
    board = build(board_dir)
    open_page(browser, board.html)
    ids, results = [e.model_id for e in board.sections[CONFIG]], on_disk(board_dir)
    view = f"#compare-{CONFIG}-view"
    for a, b in ((HOSTILE, "test/tiny-gpt2-a"), ("baseline/copy", HOSTILE)):
        choose(browser, f"{view} select.compare-a", ids.index(a))
        choose(browser, f"{view} select.compare-b", ids.index(b))
        ma, mb = results[a].metrics, results[b].metrics
        assert cells(browser, f"{view} .compare-headline") == [
            [
                HEADLINE.name,
                number(HEADLINE.value(ma)),
                number(HEADLINE.value(mb)),
                signed(HEADLINE.value(ma) - HEADLINE.value(mb)),
            ],
            [
                "logit diff",
                number(ma.logit_diff, 2),
                number(mb.logit_diff, 2),
                signed(ma.logit_diff - mb.logit_diff, 2),
            ],
        ]
        x, y = results[a].breakdowns["category"], results[b].breakdowns["category"]
        rows = []
        for c in sorted(set(x) | set(y)):
            acc = [r.duality_accuracy if r else None for r in (x.get(c), y.get(c))]
            ld = [number(r.logit_diff, 2) if r else "–" for r in (x.get(c), y.get(c))]
            d = acc[0] - acc[1] if None not in acc else None
            rows.append((d, [c, number(acc[0]), number(acc[1]), signed(d), *ld]))
        rows.sort(key=lambda r: (r[0] is None, -(r[0] or 0)))  # largest difference first, stable
        assert cells(browser, f"{view} .compare-table") == [r for _, r in rows]
        assert rows[-1][1][0] == HOSTILE_CATEGORY and rows[-1][1][3] == "–"  # in one model only
    check_quiet(browser)


def test_committed_leaderboard_is_up_to_date(tmp_path: Path) -> None:
    """The committed pages are what `duality-bench leaderboard` makes of the committed results."""
    if not (COMMITTED / "index.html").exists():
        need(False, "no committed leaderboard/index.html yet")
    shutil.copytree(COMMITTED / "results", tmp_path / "results")
    board = build_leaderboard(LeaderboardConfig(results=tmp_path / "results", out=tmp_path))
    assert board.markdown.read_text() == (COMMITTED / "LEADERBOARD.md").read_text(), "run duality-bench leaderboard"
    assert board.html.read_bytes() == (COMMITTED / "index.html").read_bytes(), "run duality-bench leaderboard"


@pytest.mark.browser
def test_committed_page_in_chromium(browser, tmp_path: Path) -> None:
    """The committed page shows its rows and plots; UPDATE_SCREENSHOT=1 refreshes the README's screenshot."""
    if not (COMMITTED / "index.html").exists():
        need(False, "no committed leaderboard/index.html yet")
    page = (COMMITTED / "index.html").read_text()
    open_page(browser, COMMITTED / "index.html")
    for table_id in re.findall(r'<table class="sortable" id="([^"]+)"', page):
        assert (
            len(column(browser, table_id, 2, attr=""))
            == page.split(f'id="{table_id}"', 1)[1].split("</table>")[0].count("<tr") - 1
        )
    assert len(cells(browser, ".drill .drill-categories")) > 0 and len(cells(browser, ".compare .compare-table")) > 0
    check_quiet(browser)
    shot = COMMITTED / "screenshot.png" if os.environ.get("UPDATE_SCREENSHOT") else tmp_path / "screenshot.png"
    assert browser.save_screenshot(str(shot))

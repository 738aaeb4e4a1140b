"""Hidden characters (control, bidi, zero-width, separators) from a results file show as escapes
wherever they are displayed: the terminal, LEADERBOARD.md, index.html and the page as Chromium
draws it. And the leaderboard of 1,000 results files builds, in bounded time and size.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from duality_bench.cli import main
from duality_bench.display import visible
from duality_bench.leaderboard.build import HEADLINE_MAX_ROWS
from duality_bench.leaderboard.entries import RANK_RANGE_MAX_ROWS
from duality_bench.leaderboard.explore import PAIR_ROWS
from duality_bench.leaderboard.plots import PLOT_ROWS
from tests.test_leaderboard import browser, check_quiet, explore_json, open_page  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "leaderboard" / "results" / "baseline__copy" / "default"
EVIL = "evil\u202egnp.exe\x1b[31mRED"
EVIL_SHOWN = "evil\\u202egnp.exe\\u001b[31mRED"


def copy_result(folder: Path, model_id: str, score: float, trim: bool = False) -> Path:
    """A copy of a committed results file (and its items file, unless trimmed) as `model_id`'s.

    Trimmed, it keeps the per-category rows and 30 pairs: a full file takes 0.3 s to read and
    validate, which 1,000 times is the whole of a test's time."""
    data = json.loads((SOURCE / "all.json").read_text())
    data["model"]["id"] = model_id
    data["metrics"]["choice_accuracy"] = score
    if trim:
        data["breakdowns"] = {
            "category": data["breakdowns"]["category"],
            "pair": dict(list(data["breakdowns"]["pair"].items())[:30]),
        }
        data["metrics"]["other_duals"]["by_cue"] = {}
    path = folder / model_id.replace("/", "__") / "default" / "all.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    if not trim:
        shutil.copy(SOURCE / "all.items.jsonl", path.with_name("all.items.jsonl"))
    return path


def test_visible_keeps_ordinary_text() -> None:
    for text in ("naïve", "日本語", "left right", "Ünïcödé – “quotes” ‹›", "", "a\\u202eb"):
        assert visible(text) == text


def test_visible_escapes_hidden_characters() -> None:
    cases = {
        "\t": "\\u0009",
        "\x1b": "\\u001b",
        "\x85": "\\u0085",
        "\u2028": "\\u2028",
        "\u200b": "\\u200b",
        "\u202e": "\\u202e",
        "\ufeff": "\\ufeff",
        "\U000e0001": "\\U000e0001",
    }
    for char, escaped in cases.items():
        assert visible(f"a{char}b") == f"a{escaped}b"
    assert visible(EVIL) == EVIL_SHOWN


@pytest.fixture()
def evil_board(tmp_path: Path) -> Path:
    """A results folder with the evil model and a normal one, and the leaderboard built from it."""
    copy_result(tmp_path / "results", EVIL, 0.6)
    copy_result(tmp_path / "results", "org/normal", 0.5)
    return tmp_path


def test_hidden_characters_are_escaped_everywhere(evil_board: Path, capsys: pytest.CaptureFixture) -> None:
    out = evil_board / "out"
    assert main(["leaderboard", "--results", str(evil_board / "results"), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    markdown, page = (out / "LEADERBOARD.md").read_text(), (out / "index.html").read_text()
    for text in (printed.out + printed.err, markdown, page):
        assert "\u202e" not in text and "\x1b" not in text
        assert "\\u202e" in text
    assert EVIL_SHOWN in printed.out
    assert "evil\\\\u202egnp.exe" in markdown  # md escapes the backslash of the escape
    assert EVIL_SHOWN in page  # the ranked table, the pair tables
    assert visible(EVIL) in [m["id"] for m in explore_json(page)["sections"][0]["models"]]  # the views' data


@pytest.mark.browser
def test_hidden_characters_are_escaped_in_chromium(evil_board: Path, browser) -> None:  # noqa: F811
    out = evil_board / "out"
    assert main(["leaderboard", "--results", str(evil_board / "results"), "--out", str(out)]) == 0
    open_page(browser, out / "index.html")
    shown = browser.execute_script(
        "var parts = [document.body.innerText];"
        "document.querySelectorAll('option, svg text, [title]').forEach(function (e) {"
        "  parts.push(e.textContent, e.getAttribute('title') || ''); });"
        "return parts.join('\\n');"
    )
    assert "\\u202e" in shown and "\u202e" not in shown and "\x1b" not in shown
    assert EVIL_SHOWN in shown  # the table, the drill-down's choices, the plots' labels
    check_quiet(browser)


def test_a_thousand_results_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """1,000 rows: no headline comparison and no rank bootstrap (each is quadratic in the rows), the
    per-pair numbers of only the best-ranked rows in the page, and the pages say so."""
    n = 1000
    for i in range(n):
        copy_result(tmp_path / "results", f"org/model-{i:04d}", 0.9 - i * 1e-4, trim=True)
    start = time.perf_counter()
    assert main(["leaderboard", "--results", str(tmp_path / "results"), "--out", str(tmp_path / "out")]) == 0
    seconds = time.perf_counter() - start
    printed = capsys.readouterr().out
    assert f"{n} ranked rows" in printed and "MB) in" in printed
    assert printed.count("org/model-") == 20 and "980 more in LEADERBOARD.md" in printed
    markdown, page = (tmp_path / "out" / "LEADERBOARD.md").read_text(), (tmp_path / "out" / "index.html").read_text()
    assert markdown.count("| org/model-") == n and page.count('class="drill-link"') == n
    for text in (markdown, page):
        assert f"more than {HEADLINE_MAX_ROWS}" in text and f"more than {RANK_RANGE_MAX_ROWS}" in text
    models = explore_json(page)["sections"][0]["models"]
    assert [m["pair"] is not None for m in models] == [i < PAIR_ROWS for i in range(n)]
    assert [m["rank"] for m in models[:3]] == ["1", "2", "3"]
    assert f"The bar plots show the best {PLOT_ROWS} models" in page
    assert len(page.encode()) < 20e6, "the page must stay small enough for a browser to open"
    print(f"1,000 results files: {seconds:.0f} s, index.html {len(page.encode()) / 1e6:.1f} MB")  # for -s; not a limit

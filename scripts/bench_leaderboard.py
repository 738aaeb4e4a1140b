"""How `duality-bench leaderboard` scales with the number of results files.

    python scripts/bench_leaderboard.py                      # N = 1, 10, 100, 1000
    python scripts/bench_leaderboard.py --n 1 10 100 --no-browser
    python scripts/bench_leaderboard.py --source leaderboard/results/smollm2-135m/default/all.json

For each N, N copies of one committed results file (model ids `org/model-0000`, ...; the headline
decides the order, so each copy's headline is nudged to give distinct rows) go into a temporary
folder, the leaderboard is built from them, and the script prints the build time, the sizes of
index.html and LEADERBOARD.md and, where headless Chromium and selenium are installed
(scripts/install.sh installs both), the time Chromium takes to open the page: until its load event,
and until every plot is drawn. The copies carry no items files and no reference row, so the
headline comparison (which needs both) is not part of the time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from duality_bench.leaderboard import LeaderboardConfig, build_leaderboard

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "leaderboard" / "results" / "smollm2-135m" / "default" / "all.json"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def write_copies(source: Path, n: int, folder: Path) -> None:
    """`n` copies of `source` under `folder`, each its own model with a slightly different headline."""
    data = json.loads(source.read_text(encoding="utf-8"))
    value = data["metrics"]["choice_accuracy"]
    for i in range(n):
        data["model"]["id"] = f"org/model-{i:04d}"
        data["metrics"]["choice_accuracy"] = max(0.0, value - i * 1e-5)
        path = folder / f"org__model-{i:04d}" / "default" / source.name
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(data), encoding="utf-8")


def browser():
    """A headless Chromium driven by selenium, or None where either is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def open_times(driver, page: Path) -> tuple[float, float]:
    """Seconds until the load event (`driver.get` returns then), and until every plot is drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    start = time.perf_counter()
    driver.get(page.resolve().as_uri())
    loaded = time.perf_counter() - start
    WebDriverWait(driver, 600, poll_frequency=0.05).until(
        lambda d: d.execute_script(
            "var p = document.querySelectorAll('div.plot');"
            "return Array.prototype.every.call(p, function (e) { return e.querySelector('.main-svg'); });"
        )
    )
    return loaded, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 100, 1000], help="numbers of results files")
    parser.add_argument("--source", type=Path, default=SOURCE, help="the results file to copy")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium timing")
    args = parser.parse_args()
    driver = None if args.no_browser else browser()
    print(f"{'N':>5} {'build s':>8} {'index.html MB':>14} {'LEADERBOARD.md MB':>18} {'load s':>7} {'plots s':>8}")
    try:
        for n in args.n:
            with tempfile.TemporaryDirectory() as tmp:
                results, out = Path(tmp) / "results", Path(tmp) / "out"
                write_copies(args.source, n, results)
                start = time.perf_counter()
                board = build_leaderboard(LeaderboardConfig(results=results, out=out))
                seconds = time.perf_counter() - start
                html_mb, md_mb = board.html.stat().st_size / 1e6, board.markdown.stat().st_size / 1e6
                load, plots = open_times(driver, board.html) if driver else (float("nan"), float("nan"))
                print(f"{n:>5} {seconds:>8.1f} {html_mb:>14.2f} {md_mb:>18.3f} {load:>7.2f} {plots:>8.2f}", flush=True)
    finally:
        if driver is not None:
            driver.quit()


if __name__ == "__main__":
    main()

"""`build_leaderboard(config)`: results files -> a ranked `LEADERBOARD.md` and a self-contained
`index.html`. Rebuilding from the same results files gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from duality_bench.headlines import Stability, compare_runs
from duality_bench.leaderboard.entries import (
    Entry,
    Leaderboard,
    LeaderboardError,
    collect,
    current_dataset,
    rank,
    ranks,
)
from duality_bench.leaderboard.markdown import render_markdown
from duality_bench.leaderboard.page import render_html
from duality_bench.results import atomic_write, unwritable_ancestor

# The headline comparison reads every row's items file (about 10 MB each) and bootstraps every two
# rows: over a minute for the committed seven. Past this many rows a section is not compared, and
# the pages say so where the comparison would be.
HEADLINE_MAX_ROWS = 20


@dataclass(frozen=True)
class LeaderboardConfig:
    results: Path = Path("leaderboard/results")  # searched recursively for *.json results files
    out: Path = Path("leaderboard")  # LEADERBOARD.md and index.html go here
    dataset_dir: Path | None = None  # its sha256sums.txt names the current build; default: the packaged dataset


def build_leaderboard(config: LeaderboardConfig | None = None) -> Leaderboard:
    """Read, validate and rank the results files; write LEADERBOARD.md and index.html."""
    config = config or LeaderboardConfig()
    results_dir, out = Path(config.results), Path(config.out)
    if not results_dir.is_dir():
        raise LeaderboardError(f"no results folder {results_dir}; evaluate a model with --out {results_dir}")
    check_out(out)
    current = current_dataset(config.dataset_dir)
    entries, problems = collect(results_dir, out, current)
    if not entries:
        what = f"; skipped {len(problems)} unusable file(s)" if problems else ""
        raise LeaderboardError(f"no usable results files under {results_dir}{what}")
    sections = rank(entries)
    headlines = {c: h for c, section in sections.items() if (h := compare_headlines(section, config.dataset_dir))}
    notes = {c: note for c, section in sections.items() if (note := headline_note(section))}
    ranked = [e for section in sections.values() for e in section]
    entries = tuple(ranked + [e for e in entries if e.status != "current"])
    board = Leaderboard(
        entries=entries,
        problems=tuple(problems),
        current=current,
        markdown=out / "LEADERBOARD.md",
        html=out / "index.html",
        sections=sections,
        headlines=headlines,
        headline_notes=notes,
        rank_cells={c: ranks(section) for c, section in sections.items()},
    )
    pages = {board.markdown: render_markdown(board), board.html: render_html(board)}
    _write_all(pages)
    return board


def compare_headlines(section: tuple[Entry, ...], dataset_dir: Path | None = None) -> list[Stability]:
    """The headline candidates on a section's rows, read from their items files (see `compare_runs`);
    none past HEADLINE_MAX_ROWS rows."""
    if len(section) > HEADLINE_MAX_ROWS:
        return []
    paths = {e.model_id: e.path for e in section if e.path is not None}
    if len(paths) < len(section):  # a row without a file of its own, or two rows of one model
        return []
    return compare_runs(paths, section[0].dataset, dataset_dir)


def headline_note(section: tuple[Entry, ...]) -> str:
    """Why a section's headline candidates were not compared, for the pages; "" where they were sought."""
    if len(section) <= HEADLINE_MAX_ROWS:
        return ""
    return (
        f"Not compared here: this config has {len(section)} rows, more than {HEADLINE_MAX_ROWS}. The comparison "
        "reads every row's items file and compares every two rows; run it on a chosen few with "
        "`duality_bench.headlines.compare_runs`."
    )


def check_out(out: Path) -> None:
    """The output folder exists or can be made, and can be written, before any work."""
    if out.exists() and not out.is_dir():
        raise LeaderboardError(f"--out {out} is a file; name a folder for LEADERBOARD.md and index.html")
    blocked = unwritable_ancestor(out)
    if blocked is not None:
        raise LeaderboardError(f"cannot write in {blocked}; choose another --out")


def _write_all(pages: dict[Path, str]) -> None:
    """Write the pages all or none: no half-updated board."""
    try:
        atomic_write(pages)
    except OSError as e:
        raise LeaderboardError(f"cannot write the leaderboard pages ({e.strerror}: {e.filename})") from None

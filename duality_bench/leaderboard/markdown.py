"""The leaderboard as markdown (`LEADERBOARD.md`) and as the table the command prints. Text from
results files is escaped, hidden characters (`display.visible`) first."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from duality_bench.display import number, visible
from duality_bench.headlines import EXPLAINED, headline_rows, markdown_table
from duality_bench.leaderboard.columns import (
    COLUMNS_HELP,
    METRIC_COLUMNS,
    category_accuracy,
    items_note,
    logit_diff_cell,
    params,
    score_ci_cell,
    scored,
    weights,
)
from duality_bench.leaderboard.entries import Leaderboard, categories, rank_note, short_name
from duality_bench.leaderboard.headline import HEADLINE


def md(text: Any) -> str:
    """Text from a results file, safe in a markdown table cell: no hidden character, no markup, no HTML, one line."""
    s = " ".join(visible(str(text)).split())
    s = re.sub(r"([\\`*_\[\]|~#!])", r"\\\1", s)
    return html.escape(s, quote=False)


def render_markdown(board: Leaderboard) -> str:
    lines = [
        "# duality-bench leaderboard",
        "",
        "How well causal language models complete dual opposites (left/right, up/down, me/you). Built by "
        "`duality-bench leaderboard` from the results files in this folder; the page with plots is `index.html`. "
        f"Rows are ranked by the {HEADLINE.name} ({HEADLINE.gist}).",
        "",
    ]
    for config, section in board.sections.items():
        cats = categories(section)
        lines += [f"## Dataset config `{md(config)}` (sha256 `{board.current[config][:12]}`{items_note(section)})", ""]
        head = ["#", "model", "revision", "params", "weights", *(name for name, _, _ in METRIC_COLUMNS[:1]), "95% CI"]
        head += [*(name for name, _, _ in METRIC_COLUMNS[1:]), "logit diff [95% CI]"]
        head += [*(f"{md(c)} acc." for c in cats), "scored / excluded", "results"]
        lines += ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        for r, e in zip(board.rank_cells[config], section, strict=True):
            m = e.metrics
            name = md(e.model_id) + (" (reference)" if e.reference else "")
            row = [r, name, md(e.result.model.revision or "–"), params(e.result.model.n_params), md(weights(e))]
            row += [number(METRIC_COLUMNS[0][2](m)), score_ci_cell(m)]
            row += [number(get(m)) for _, _, get in METRIC_COLUMNS[1:]] + [logit_diff_cell(m)]
            row += [number(category_accuracy(e, c)) for c in cats]
            row += [scored(e), f"[json]({md_link(e.link)})"]
            lines.append("| " + " | ".join(row) + " |")
        lines += ["", *([rank_note(section), ""] if rank_note(section) else [])]
        if board.headlines.get(config):
            short = {e.model_id: md(short_name(e.model_id)) for e in section}
            table = markdown_table(*headline_rows(board.headlines[config], short))
            lines += ["### Which headline", "", EXPLAINED, "", *table, ""]
        elif board.headline_notes.get(config):
            lines += ["### Which headline", "", board.headline_notes[config], ""]
    if board.references:
        lines += ["## Reference rows", ""]
        lines += [f"- **{md(model_id)}**: {md(text)}" for model_id, text in board.references]
        lines.append("")
    if board.unranked:
        lines += ["## Not ranked", "", "| model | revision | dataset config | why | results |", "|---|---|---|---|---|"]
        for e in board.unranked:
            revision = md(e.result.model.revision or "–")
            lines.append(
                f"| {md(e.model_id)} | {revision} | {md(e.dataset)} | {md(e.note)} | [json]({md_link(e.link)}) |"
            )
        lines.append("")
    lines += ["## Columns", ""]
    lines += [f"- **{name}**: {text}." for name, text in COLUMNS_HELP]
    lines += ["", ADD_A_MODEL, ""]
    return "\n".join(lines)


ADD_A_MODEL = (
    "To add a model: `duality-bench eval MODEL --config CONFIG --out leaderboard/results` (it writes "
    "ORG__MODEL/REVISION/CONFIG.json), then `duality-bench leaderboard`, and submit the results file in a pull request."
)


def md_link(link: str) -> str:
    return quote(link, safe="/._-~")


TERMINAL_ROWS = 20  # rows printed per config; the pages hold them all


def terminal_table(board: Leaderboard, limit: int = TERMINAL_ROWS) -> list[str]:
    """The best rows of each config as the command prints them: rank, headline, model (hidden characters escaped)."""
    lines, width = [], len(HEADLINE.name)
    for config, section in board.sections.items():
        lines += [f"{visible(config)}: {len(section)} ranked rows", f"  {'#':>7}  {HEADLINE.name}  model"]
        for r, e in list(zip(board.rank_cells[config], section, strict=True))[:limit]:
            lines.append(f"  {r:>7}  {number(HEADLINE.value(e.metrics)):>{width}}  {visible(e.model_id)}")
        if len(section) > limit:
            lines.append(f"  ... {len(section) - limit} more in {board.markdown.name}")
    return lines

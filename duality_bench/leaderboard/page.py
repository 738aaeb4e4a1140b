"""The leaderboard as one static HTML page: sortable tables, plotly plots and the views of
`explore` (filter by family and size, one model in detail, two models compared), every script inlined.

The page needs no server and no network (it works from the file system, a Hugging Face Space or
GitHub Pages). Plots are plotly figures built in Python and drawn by plotly.js, which is inlined
from the installed plotly package. Text from results files shows its hidden characters as escapes
(`display.visible`) and is then HTML-escaped, in the tables and in the plots' labels alike; the
figure data and the views' numbers are embedded as JSON with `<`, `>` and `&` escaped, and the
views insert text with `textContent`, so nothing in a results file can close a tag or start a script.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from duality_bench.display import number, visible
from duality_bench.headlines import EXPLAINED, Stability, headline_rows
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
from duality_bench.leaderboard.entries import Entry, Leaderboard, categories, rank_note, short_name
from duality_bench.leaderboard.explore import (
    EXPLORE_SCRIPT,
    EXPLORE_STYLE,
    explore_data,
    filter_bar,
    section_views,
    slug,
)
from duality_bench.leaderboard.headline import HEADLINE
from duality_bench.leaderboard.markdown import ADD_A_MODEL, md_link
from duality_bench.leaderboard.plots import FIGURES, finite, plot_note

TOP_PAIRS = 5  # most asymmetric pairs listed per model

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; margin-top: 2em; } small, .muted { color: #666; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 0.5em 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f6f6f6; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
td.revision { max-width: 16em; overflow: hidden; text-overflow: ellipsis; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " \\25B2"; }
table.sortable th[aria-sort=descending]::after { content: " \\25BC"; }
tr.reference td { background: #fbf7e9; font-style: italic; }
.badge { background: #e9dcae; border-radius: 3px; font-size: 11px; font-style: normal; padding: 0 4px; }
.plot { height: 460px; width: 100%; }
details { margin: 0.3em 0; } summary { cursor: pointer; }
code { background: #f3f3f3; padding: 0 3px; }
"""

SORT_SCRIPT = """
function sortable(table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var numeric = th.dataset.type === "num";
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(tr) {
        var cell = tr.cells[col];
        var v = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent;
        return numeric ? (v === "" ? NaN : parseFloat(v)) : v.toLowerCase();
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (numeric) {
          if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y); }
          return asc ? x - y : y - x;
        }
        return asc ? (x < y ? -1 : x > y ? 1 : 0) : (x < y ? 1 : x > y ? -1 : 0);
      });
      rows.forEach(function (tr) { body.appendChild(tr); });
    });
  });
}
document.querySelectorAll("table.sortable").forEach(sortable);
"""

PLOT_SCRIPT = """
Object.keys(FIGURES).sort().forEach(function (id) {
  var fig = FIGURES[id];
  Plotly.newPlot(id, fig.data, fig.layout, {displaylogo: false, responsive: true});
});
"""


def render_html(board: Leaderboard) -> str:
    """The whole page as one string."""
    from plotly.offline import get_plotlyjs

    figures: dict[str, Any] = {}
    body = [
        "<h1>duality-bench leaderboard</h1>",
        "<p>How well causal language models complete dual opposites: given <i>I have two hands, my right hand "
        "and my</i>, does the model say <i>left</i>? Each row is one model evaluated by <code>duality-bench eval"
        f"</code>; rows are ranked by the {HEADLINE.name} ({HEADLINE.gist}) within each dataset config. Hover "
        "over a column header for its definition; click it to sort. "
        'Rows marked <span class="badge">ref</span> are <a href="#references">reference rows</a>; click a '
        "model's name for its numbers per category and per pair.</p>",
        *([filter_bar()] if board.sections else []),
    ]
    for index, config in enumerate(board.sections):
        body += _section(board, config, index, figures)
    if board.references:
        body += ['<h2 id="references">Reference rows</h2>', "<dl>"]
        body += [f"<dt><b>{shown(m)}</b></dt><dd>{shown(text)}</dd>" for m, text in board.references]
        body.append("</dl>")
    if board.unranked:
        body += _unranked(board.unranked)
    body += ['<h2 id="columns">Columns</h2>', "<dl>"]
    body += [f"<dt><b>{escape(name)}</b></dt><dd>{escape(text)}.</dd>" for name, text in COLUMNS_HELP]
    body += ["</dl>", f"<p>{_code_spans(ADD_A_MODEL)}</p>"]
    explore = script_json(explore_data(board.sections, board.rank_cells))
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>duality-bench leaderboard</title>",
            f"<style>{STYLE}{EXPLORE_STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            f'<script charset="utf-8">{get_plotlyjs()}</script>',
            f"<script>\nvar FIGURES = {script_json(figures)};\nvar EXPLORE = {explore};\n"
            f"{SORT_SCRIPT}{EXPLORE_SCRIPT}{PLOT_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def shown(text: Any) -> str:
    """Text from a results file in HTML: hidden characters as escapes, then HTML-escaped."""
    return escape(visible(str(text)))


def _section(board: Leaderboard, config: str, index: int, figures: dict[str, Any]) -> list[str]:
    section, slug_, headlines = board.sections[config], slug(config), board.headlines.get(config)
    note = rank_note(section)
    out = [
        f'<h2 id="config-{slug_}">Dataset config <code>{shown(config)}</code> '
        f"<small>(sha256 {escape(board.current[config][:12])}{escape(items_note(section))})</small></h2>",
        '<div class="scroll">',
        _table(section, board.rank_cells[config], slug_, index),
        "</div>",
        *([f'<p class="muted">{escape(note)}</p>'] if note else []),
        *section_views(slug_, index, len({p for e in section for p in e.result.breakdowns.get("pair", {})})),
    ]
    plots = [(kind, title, text, make(section)) for kind, title, text, make in FIGURES]
    out += [f'<p class="muted">{escape(plot_note(section))}</p>'] if plot_note(section) else []
    for kind, title, text, fig in plots:
        out.append(f"<h3>{title}</h3>")
        if text:
            out.append(f"<p>{text}</p>")
        if fig is None:
            out.append('<p class="muted">No result in this config has the numbers for this plot.</p>')
            continue
        plot_id = f"plot-{slug_}-{kind}"
        figures[plot_id] = fig
        out.append(f'<div class="plot" id="{plot_id}"></div>')
    if headlines:
        out += ["<h3>Which headline</h3>", f"<p>{escape(EXPLAINED)}</p>", _headline_table(headlines, section)]
    elif board.headline_notes.get(config):
        out += ["<h3>Which headline</h3>", f"<p>{_code_spans(board.headline_notes[config])}</p>"]
    out += ["<h3>Most asymmetric pairs per model</h3>", *_pair_tables(section)]
    return out


def _headline_table(headlines: list[Stability], section: tuple[Entry, ...]) -> str:
    """The headline candidates' comparison, text columns left and numbers right."""
    kinds, (head, *body) = headline_rows(headlines, {e.model_id: short_name(e.model_id) for e in section})

    def row(cells: list[str], tag: str) -> str:
        inner = "".join(f'<{tag} class="{k}">{escape(c)}</{tag}>' for k, c in zip(kinds, cells, strict=True))
        return f"<tr>{inner}</tr>"

    rows = "".join(row(r, "td") for r in body)
    return f'<div class="scroll"><table><thead>{row(head, "th")}</thead><tbody>{rows}</tbody></table></div>'


def _table(section: tuple[Entry, ...], rank_cells: list[str], slug_: str, index: int) -> str:
    """The ranked table: rank, model, then the headline and its interval, then the other columns."""
    cats = categories(section)
    help_text = dict(COLUMNS_HELP)
    (headline, headline_text, _), *others = METRIC_COLUMNS
    heads = [("#", "num", help_text["#"]), ("model", "text", ""), (headline, "num headline", headline_text)]
    heads += [("95% CI", "num", help_text["95% CI"])]
    heads += [("revision", "text", ""), ("params", "num", ""), ("weights", "text", help_text["weights"])]
    heads += [(name, "num", text) for name, text, _ in others]
    heads += [("logit diff [95% CI]", "num", help_text["logit diff"])]
    heads += [
        (
            f"{visible(c)} acc.",
            "num",
            f"accuracy on category {visible(c)}: share of its items where the dual is rated above the cue",
        )
        for c in cats
    ]
    heads += [("scored / excluded", "num", help_text["scored / excluded"]), ("results", "text", "")]
    head_cells = "".join(
        f'<th class="{css}" data-type="{css.split()[0]}"'
        + (f' title="{escape(tip)}"' if tip else "")
        + f">{escape(name)}</th>"
        for name, css, tip in heads
    )
    rows = [_row(position, r, e, cats, slug_) for position, (r, e) in enumerate(zip(rank_cells, section, strict=True))]
    return (
        f'<table class="sortable" id="table-{slug_}" data-section="{index}"><thead><tr>{head_cells}</tr></thead>'
        f"<tbody>\n{chr(10).join(rows)}\n</tbody></table>"
    )


def _row(position: int, rank: str, e: Entry, cats: list[str], slug_: str) -> str:
    """One ranked row; `data-row` is its place in the section, by which the views' script finds its numbers."""
    m, model = e.metrics, e.result.model
    revision = str(model.revision or "–")
    badge = ' <a class="badge" href="#references">ref</a>' if e.reference else ""
    (_, _, headline), *others = METRIC_COLUMNS
    cells = [
        _number_cell(position, rank),
        f'<td class="text model"><a class="drill-link" href="#drill-{slug_}" data-row="{position}">'
        f"{shown(e.model_id)}</a>{badge}</td>",
        _number_cell(headline(m), number(headline(m)), "num headline"),
        _number_cell(HEADLINE.interval(m)[0] if HEADLINE.interval(m) else None, score_ci_cell(m)),
        f'<td class="text revision" title="{shown(revision)}">{shown(revision)}</td>',
        _number_cell(model.n_params, params(model.n_params)),
        f'<td class="text">{escape(weights(e))}</td>',
        *(_number_cell(get(m), number(get(m))) for _, _, get in others),
        _number_cell(m.logit_diff, logit_diff_cell(m)),
        *(_number_cell(category_accuracy(e, c), number(category_accuracy(e, c))) for c in cats),
        _number_cell(m.n, scored(e)),
        f'<td class="text"><a href="{escape(md_link(e.link))}">json</a></td>',
    ]
    css = ' class="reference"' if e.reference else ""
    return f'<tr{css} data-row="{position}">{"".join(cells)}</tr>'


def _number_cell(sort_value: Any, text: str, css: str = "num") -> str:
    value = finite(sort_value)
    key = "" if value is None else repr(value)
    return f'<td class="{css}" data-sort="{key}">{escape(text)}</td>'


def _unranked(entries: tuple[Entry, ...]) -> list[str]:
    rows = [
        f'<tr><td class="text">{shown(e.model_id)}</td><td class="text">{shown(e.result.model.revision)}'
        f'</td><td class="text">{shown(e.dataset)}</td><td class="text">{shown(e.note)}</td>'
        f'<td class="num">{number(e.metrics.duality_score)}</td>'
        f'<td class="text"><a href="{escape(md_link(e.link))}">json</a></td></tr>'
        for e in entries
    ]
    return [
        '<h2 id="not-ranked">Not ranked</h2>',
        "<p>Results that cannot be compared with the rows above, with the reason.</p>",
        '<div class="scroll"><table id="table-not-ranked"><thead><tr><th class="text">model</th>'
        '<th class="text">revision</th><th class="text">dataset config</th><th class="text">why</th>'
        '<th>duality score</th><th class="text">results</th></tr></thead><tbody>',
        *rows,
        "</tbody></table></div>",
    ]


def _pair_tables(section: tuple[Entry, ...]) -> list[str]:
    out = []
    for e in section:
        most = e.metrics.asymmetry.most_asymmetric
        if not most:
            continue
        rows = "".join(
            f'<tr><td class="text">{shown(p.a)} / {shown(p.b)}</td>'
            f'<td class="text">{shown(p.category)}</td>'
            f"<td>{number(p.acc_ab)}</td><td>{number(p.acc_ba)}</td>"
            f"<td>{number(p.ld_ab, 2)}</td><td>{number(p.ld_ba, 2)}</td>"
            f"<td>{number(p.ld_asym, 2)}</td></tr>"
            for p in most[:TOP_PAIRS]
        )
        out.append(
            f"<details><summary>{shown(e.model_id)}</summary><table><thead><tr>"
            '<th class="text">pair a / b</th><th class="text">category</th><th>acc. a&rarr;b</th>'
            "<th>acc. b&rarr;a</th><th>logit diff a&rarr;b</th><th>logit diff b&rarr;a</th><th>difference</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></details>"
        )
    return out or ['<p class="muted">No result in this config has per-pair asymmetry.</p>']


def script_json(obj: Any) -> str:
    """JSON that is safe inside a <script> element: sorted keys, and no <, > or & characters."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for char, code in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, code)
    return text


def _code_spans(text: str) -> str:
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))

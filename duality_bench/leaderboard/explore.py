"""The page's interactive views: a filter by model family and size, a drill-down into one model's
per-category and per-pair numbers, and a comparison of two models category by category.

The numbers come from the results files' breakdowns and are embedded once, as JSON (`EXPLORE`,
written with `page.script_json`); plain JavaScript draws the tables when they are asked for. Text
from a results file is embedded with its hidden characters as escapes (`display.visible`) and
reaches the page only through `textContent`, option text and attribute values set from script,
never as HTML. A section's pair ids are embedded once; each row's per-pair numbers (a thousand
pairs, about 110 kB a row) only for its first PAIR_ROWS rows, so the page stays a few megabytes
whatever the number of rows.
"""

from __future__ import annotations

import re
from typing import Any

from duality_bench.display import visible
from duality_bench.leaderboard.columns import BREAKDOWN_COLUMNS, params
from duality_bench.leaderboard.entries import Entry, categories
from duality_bench.leaderboard.headline import HEADLINE
from duality_bench.leaderboard.plots import finite
from duality_bench.results import Row

REFERENCE_FAMILY = "baseline"

# Rows of a section whose per-pair numbers the page embeds (the best ranked): 20 rows add about 2 MB.
PAIR_ROWS = 20

FAMILY_HELP = (
    "A model's <b>family</b> is read from its id: the name after the last <code>/</code>, up to its first "
    "<code>-</code> or <code>_</code>, in lower case (<code>HuggingFaceTB/SmolLM2-135M</code> and "
    "<code>smollm2-135m</code> are <code>smollm2</code>, <code>google/gemma-3-270m</code> is <code>gemma</code>). "
    "Its <b>size</b> is the parameter count in its results file; the word-level reference rows have none. "
    "Reference rows are shown or hidden with their own box, whatever the family and size. The filter applies "
    "to the ranked tables."
)


def family(e: Entry) -> str:
    """The model's family, from its id (see FAMILY_HELP); the reference rows are `baseline`."""
    if e.reference:
        return REFERENCE_FAMILY
    name = e.model_id.strip().rstrip("/").rsplit("/", 1)[-1].strip()
    head = re.split(r"[-_\s]", name, maxsplit=1)[0]
    return (head or name or e.model_id).lower()


def slug(config: str) -> str:
    """A dataset config as a piece of an element id: letters and digits, the rest `-`."""
    return "".join(c if c.isalnum() else "-" for c in config.lower())


def explore_data(sections: dict[str, tuple[Entry, ...]], rank_cells: dict[str, list[str]]) -> dict[str, Any]:
    """Everything the views show, ready for JSON: the breakdown columns, then one object per config."""
    columns = [{"name": name, "title": text, "digits": digits} for name, _, text, digits in BREAKDOWN_COLUMNS]
    return {
        "columns": columns,
        "headline": HEADLINE.name,
        "pair_rows": PAIR_ROWS,
        "sections": [_section_data(config, section, rank_cells[config]) for config, section in sections.items()],
    }


def _section_data(config: str, section: tuple[Entry, ...], rank_cells: list[str]) -> dict[str, Any]:
    cats = categories(section)
    pairs = sorted({p for e in section for p in e.result.breakdowns.get("pair", {})})
    models = [
        _model_data(e, r, cats, pairs if n < PAIR_ROWS else None)
        for n, (r, e) in enumerate(zip(rank_cells, section, strict=True))
    ]
    return {
        "config": visible(config),
        "slug": slug(config),
        "categories": [visible(c) for c in cats],
        "pairs": [visible(p) for p in pairs],
        "models": models,
    }


def _model_data(e: Entry, rank: str, cats: list[str], pairs: list[str] | None) -> dict[str, Any]:
    """One row's numbers; `pair` is None where the page does not embed its per-pair rows (see PAIR_ROWS)."""
    model, m = e.result.model, e.metrics
    by_category = e.result.breakdowns.get("category", {})
    by_pair = e.result.breakdowns.get("pair", {})
    n_params = model.n_params if isinstance(model.n_params, int) and model.n_params > 0 else None
    return {
        "id": visible(e.model_id),
        "revision": visible(str(model.revision or "–")),
        "architecture": visible(str(model.architecture or "–")),
        "family": visible(family(e)),
        "params": n_params,
        "size": params(n_params),
        "reference": bool(e.reference),
        "rank": rank,
        "score": finite(HEADLINE.value(m)),
        "logit_diff": finite(m.logit_diff),
        "category": [breakdown_row(by_category.get(c)) for c in cats],
        "pair": None if pairs is None else [breakdown_row(by_pair.get(p)) for p in pairs],
    }


def breakdown_row(row: Row | None) -> list[float | int | None] | None:
    """A breakdown row as the numbers of BREAKDOWN_COLUMNS, in order; None where the model has none."""
    if row is None:
        return None
    return [row.n if field == "n" else finite(getattr(row, field)) for _, field, _, _ in BREAKDOWN_COLUMNS]


def filter_bar() -> str:
    """The family and size filter, above the first table; the script fills in the choices."""
    return (
        '<div class="filters" id="filters"><b>Show</b> '
        '<label>family <select id="filter-family"><option value="">all</option></select></label> '
        '<label>parameters from <select id="filter-min"><option value="">any</option></select></label> '
        '<label>to <select id="filter-max"><option value="">any</option></select></label> '
        '<label><input type="checkbox" id="filter-refs" checked> reference rows</label> '
        '<span class="muted" id="filter-count"></span></div>'
        f'<p class="muted">{FAMILY_HELP}</p>'
    )


def section_views(slug_: str, index: int, n_pairs: int) -> list[str]:
    """The drill-down and the comparison of one config's section (drawn by EXPLORE_SCRIPT)."""
    return [
        f'<h3 id="drill-{slug_}">One model in detail</h3>',
        "<p>Accuracy and logit difference per category and per pair, from the results file's breakdowns. "
        "Choose a model here or click its name in the table above.</p>",
        f'<div class="drill" id="drill-{slug_}-view" data-section="{index}">'
        '<label>model <select class="drill-model"></select></label><p class="drill-about"></p>'
        '<h4>Per category</h4><div class="scroll drill-categories"></div>'
        f'<details class="drill-pairs"><summary>Per pair ({n_pairs} pairs)</summary>'
        '<label>pair id contains <input type="search" class="pair-filter"></label> '
        '<span class="muted pair-count"></span><div class="scroll drill-pair-table"></div></details></div>',
        f'<h3 id="compare-{slug_}">Compare two models</h3>',
        "<p>Accuracy per category of two models and its difference (A &minus; B), largest first.</p>",
        f'<div class="compare" id="compare-{slug_}-view" data-section="{index}">'
        '<label>A <select class="compare-a"></select></label> '
        '<label>B <select class="compare-b"></select></label>'
        '<div class="scroll compare-headline"></div><div class="scroll compare-table"></div></div>',
    ]


EXPLORE_STYLE = """
.filters { background: #f3f6fa; border-radius: 4px; padding: 6px 10px; }
.filters label, .drill label, .compare label { margin-right: 1em; }
a.drill-link { color: inherit; text-decoration: none; } a.drill-link:hover { text-decoration: underline; }
td.headline, th.headline { background: #eef4fb; font-weight: 600; }
td.up { color: #17692f; } td.down { color: #a8201a; }
"""

EXPLORE_SCRIPT = r"""
(function () {
  var DASH = "\u2013", COLUMNS = EXPLORE.columns;
  function fmt(x, d) {  // as Python's f"{x:.{d}f}": an exact tie rounds half to even
    if (typeof x !== "number" || !isFinite(x)) { return DASH; }
    var a = Math.abs(x), s = a.toFixed(d), t = a * Math.pow(2, d + 1);
    if (t === Math.floor(t) && t % 2 === 1 && +s.charAt(s.length - 1) % 2 === 1) {
      s = (a - Math.pow(10, -d) / 2).toFixed(d);
    }
    return (x < 0 || 1 / x < 0 ? "-" : "") + s;
  }
  function signed(x, d) { var s = fmt(x, d); return s === DASH || s.charAt(0) === "-" ? s : "+" + s; }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function num(x, d) { return {text: fmt(x, d), sort: typeof x === "number" && isFinite(x) ? x : null}; }
  function diff(a, b) { return typeof a === "number" && typeof b === "number" ? a - b : null; }
  function sign(x) { return x > 0 ? "up" : x < 0 ? "down" : ""; }
  function table(heads, rows) {  // heads: {name, title, text}; rows: lists of {text, sort, cls}
    var t = el("table", undefined, "sortable"), tr = t.createTHead().insertRow(), body = t.createTBody();
    heads.forEach(function (h) {
      var th = el("th", h.name, h.text ? "text" : "num");
      th.setAttribute("data-type", h.text ? "text" : "num");
      if (h.title) { th.title = h.title; }
      tr.appendChild(th);
    });
    rows.forEach(function (cells) {
      var row = body.insertRow();
      cells.forEach(function (c, i) {
        var td = row.insertCell();
        td.className = (heads[i].text ? "text" : "num") + (c.cls ? " " + c.cls : "");
        td.textContent = c.text;
        if (!heads[i].text) { td.setAttribute("data-sort", c.sort === null ? "" : String(c.sort)); }
      });
    });
    sortable(t);
    return t;
  }
  function breakdown(label, names, values) {  // a drill-down table: one row per name with numbers
    var heads = [{name: label, text: true}].concat(COLUMNS), rows = [];
    names.forEach(function (name, j) {
      var v = values[j];
      if (!v) { return; }
      rows.push([{text: name, sort: null}].concat(COLUMNS.map(function (c, i) { return num(v[i], c.digits); })));
    });
    return table(heads, rows);
  }
  function fill(select, sec, chosen) {
    sec.models.forEach(function (m, i) {
      var twins = sec.models.filter(function (o) { return o.id === m.id; }).length > 1;
      var o = el("option", (m.reference ? "ref" : "#" + m.rank) + " " + m.id + (twins ? " @ " + m.revision : ""));
      o.value = String(i);
      select.appendChild(o);
    });
    select.value = String(chosen);
  }
  function about(m) {
    return m.id + ": revision " + m.revision + ", " + m.architecture + ", " + m.size + " parameters, family " +
      m.family + "; " + EXPLORE.headline + " " + fmt(m.score, 3) + ", logit diff " + fmt(m.logit_diff, 2);
  }
  function drill(sec, box) {
    var select = box.querySelector(".drill-model"), pairs = box.querySelector(".drill-pairs");
    var search = box.querySelector(".pair-filter"), drawn = null;
    fill(select, sec, 0);
    function filterPairs() {
      var q = search.value.toLowerCase(), shown = 0, rows = box.querySelectorAll(".drill-pair-table tbody tr");
      Array.prototype.forEach.call(rows, function (tr) {
        tr.hidden = tr.cells[0].textContent.toLowerCase().indexOf(q) < 0;
        shown += tr.hidden ? 0 : 1;
      });
      box.querySelector(".pair-count").textContent = shown + " of " + rows.length + " pairs";
    }
    function showPairs() {
      if (!pairs.open || drawn === select.value) { return; }
      var out = box.querySelector(".drill-pair-table"), m = sec.models[+select.value];
      clear(out);
      if (m.pair === null) {  // not embedded (see PAIR_ROWS): say where the numbers are
        out.appendChild(el("p", "This page holds the per-pair numbers of the " + EXPLORE.pair_rows +
          " best-ranked rows of each config; this model's are in its results file (the json link in its row).",
          "muted"));
        drawn = select.value;
        box.querySelector(".pair-count").textContent = "";
        return;
      }
      out.appendChild(breakdown("pair", sec.pairs, m.pair));
      drawn = select.value;
      filterPairs();
    }
    function show() {
      var m = sec.models[+select.value], out = box.querySelector(".drill-categories");
      box.querySelector(".drill-about").textContent = about(m);
      clear(out);
      out.appendChild(breakdown("category", sec.categories, m.category));
      showPairs();
    }
    select.addEventListener("change", show);
    pairs.addEventListener("toggle", showPairs);
    search.addEventListener("input", filterPairs);
    show();
    return function (i) { select.value = String(i); show(); };
  }
  function compare(sec, box) {
    var a = box.querySelector(".compare-a"), b = box.querySelector(".compare-b");
    fill(a, sec, 0);
    fill(b, sec, sec.models.length > 1 ? 1 : 0);
    function show() {
      var A = sec.models[+a.value], B = sec.models[+b.value], acc = 1, ld = COLUMNS.length - 1, rows = [];
      var heads = [{name: "", text: true}, {name: "A", title: A.id}, {name: "B", title: B.id}, {name: "A \u2212 B"}];
      var top = [[EXPLORE.headline, A.score, B.score, 3], ["logit diff", A.logit_diff, B.logit_diff, 2]];
      top = top.map(function (r) {
        var d = diff(r[1], r[2]);
        var change = {text: signed(d, r[3]), sort: d, cls: sign(d)};
        return [{text: r[0], sort: null}, num(r[1], r[3]), num(r[2], r[3]), change];
      });
      clear(box.querySelector(".compare-headline"));
      box.querySelector(".compare-headline").appendChild(table(heads, top));
      sec.categories.forEach(function (c, j) {
        var x = A.category[j] || [], y = B.category[j] || [], d = diff(x[acc], y[acc]);
        rows.push([{text: c, sort: null}, num(x[acc], 3), num(y[acc], 3), {text: signed(d, 3), sort: d, cls: sign(d)},
          num(x[ld], 2), num(y[ld], 2)]);
      });
      rows.sort(function (r, s) {
        var x = r[3].sort, y = s[3].sort;
        return x === null || y === null ? (x === null) - (y === null) : y - x;
      });
      heads = [{name: "category", text: true}, {name: "A accuracy", title: A.id}, {name: "B accuracy", title: B.id},
        {name: "difference", title: "accuracy of A minus accuracy of B"}, {name: "A logit diff", title: A.id},
        {name: "B logit diff", title: B.id}];
      var t = table(heads, rows);
      t.tHead.rows[0].cells[3].setAttribute("aria-sort", "descending");
      clear(box.querySelector(".compare-table"));
      box.querySelector(".compare-table").appendChild(t);
    }
    a.addEventListener("change", show);
    b.addEventListener("change", show);
    show();
  }
  function filters() {
    var fam = document.getElementById("filter-family"), lo = document.getElementById("filter-min");
    var hi = document.getElementById("filter-max"), refs = document.getElementById("filter-refs");
    var families = Object.create(null), sizes = Object.create(null);
    EXPLORE.sections.forEach(function (sec) {
      sec.models.forEach(function (m) {
        if (!m.reference) { families[m.family] = true; }
        if (!m.reference && m.params) { sizes[m.params] = m.size; }
      });
    });
    Object.keys(families).sort().forEach(function (f) { var o = el("option", f); o.value = f; fam.appendChild(o); });
    Object.keys(sizes).map(Number).sort(function (x, y) { return x - y; }).forEach(function (n) {
      [lo, hi].forEach(function (s) { var o = el("option", sizes[n]); o.value = String(n); s.appendChild(o); });
    });
    function keep(m) {
      if (m.reference) { return refs.checked; }
      var min = lo.value ? +lo.value : null, max = hi.value ? +hi.value : null;
      return (!fam.value || m.family === fam.value) && (min === null || (m.params !== null && m.params >= min)) &&
        (max === null || (m.params !== null && m.params <= max));
    }
    function apply() {
      var shown = 0, total = 0;
      EXPLORE.sections.forEach(function (sec) {
        var table = document.getElementById("table-" + sec.slug);
        Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
          tr.hidden = !keep(sec.models[+tr.getAttribute("data-row")]);
          total += 1;
          shown += tr.hidden ? 0 : 1;
        });
      });
      document.getElementById("filter-count").textContent = "showing " + shown + " of " + total + " rows";
    }
    [fam, lo, hi, refs].forEach(function (c) { c.addEventListener("change", apply); });
    apply();
  }
  EXPLORE.sections.forEach(function (sec, i) {
    var choose = drill(sec, document.querySelector('.drill[data-section="' + i + '"]'));
    compare(sec, document.querySelector('.compare[data-section="' + i + '"]'));
    var links = document.querySelectorAll("#table-" + sec.slug + " a.drill-link");
    Array.prototype.forEach.call(links, function (link) {
      link.addEventListener("click", function () { choose(+link.getAttribute("data-row")); });
    });
  });
  filters();
})();
"""

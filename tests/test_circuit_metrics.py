"""metrics.json: written into every circuit folder, read back as typed records equal to the run's
numbers, and a bad file answered in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from duality_bench.circuits import CircuitConfig, MetricsError, find_circuit, read_metrics


@pytest.fixture(scope="module")
def run(tiny_gpt2_dir: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("circuit")
    config = CircuitConfig(limit=6, figures=False, device="cpu", out=out, fractions=(1, 10, 50, 100))
    return find_circuit(str(tiny_gpt2_dir), config), out


def test_metrics_round_trip_the_runs_numbers(run) -> None:
    result, out = run
    metrics = read_metrics(out / "metrics.json")
    assert (metrics.model, metrics.method, metrics.pairs, metrics.dataset) == (
        result.model_id,
        "eap",
        ("left-right",),
        "curated",
    )
    assert metrics.revision == result.revision and metrics.architecture == "GPT2LMHeadModel"
    assert (metrics.n_items, metrics.n_edges, metrics.n_nodes) == (
        len(result.items),
        result.graph.n_edges,
        len(result.graph.upstream) + 1,
    )
    assert metrics.cpr == pytest.approx(result.cpr) and metrics.cmd == pytest.approx(result.cmd)
    assert [p.percent for p in metrics.by_score] == [1, 10, 50, 100]
    assert [p.faithfulness for p in metrics.by_score] == pytest.approx(list(result.cpr_curve.faithfulness))
    assert [p.edges for p in metrics.by_abs_score] == list(result.cmd_curve.n_edges)
    assert metrics.by_score[-1].faithfulness == pytest.approx(1.0)  # every edge: the clean run
    top = int(np.argmax(np.abs(result.scores)))
    assert metrics.top_edges[0].name == result.graph.edge_names()[top] and len(metrics.top_edges) == 20
    assert metrics.top_edges[0].score == pytest.approx(float(result.scores[top]))
    reached = [p for p in metrics.by_score if p.faithfulness is not None and p.faithfulness >= metrics.level]
    assert metrics.smallest_percent == (reached[0].percent if reached else None)
    assert set(metrics.seconds) >= {"scores", "faithfulness"} and metrics.package_version


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(cpr="high"), r"metrics\.json: cpr: expected a number, got str \"high\""),
        (lambda d: d["by_score"][0].update(edges=-1.5), r"by_score\[0\]\.edges: expected an integer"),
        (lambda d: d.pop("n_edges"), r"n_edges: missing"),
        (lambda d: d.update(format=7), r"not a circuit metrics file \(format 7, expected 1\)"),
        (lambda d: d.update(extra=1), r"unknown fields extra"),
    ],
    ids=["text-for-number", "fraction-of-an-edge", "missing", "format", "unknown-field"],
)
def test_a_bad_metrics_file_is_one_line(run, tmp_path: Path, change, message) -> None:
    _, out = run
    data = json.loads((out / "metrics.json").read_text())
    change(data)
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(data))
    with pytest.raises(MetricsError, match=message) as info:
        read_metrics(path)
    assert "\n" not in str(info.value)
    path.write_text('{"format": 1, "model": ')
    with pytest.raises(MetricsError, match="not valid JSON"):
        read_metrics(path)

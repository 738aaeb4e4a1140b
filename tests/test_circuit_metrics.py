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
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MetricsError, match="JSON nested too deeply to be a circuit metrics file"):
        read_metrics(path)


def test_compare_circuits_reports_every_run_and_the_overlap(run, tiny_gpt2_dir: Path, tmp_path: Path, capsys) -> None:
    from duality_bench.circuits.comparison import jaccard, read_run
    from duality_bench.circuits.faithfulness import top_edges
    from duality_bench.circuits.files import nodes_in
    from duality_bench.cli import main

    result, first = run
    second = tmp_path / "right-wrong"  # on this tiny model both pairs have a faithful circuit below 100%
    config = CircuitConfig(
        pairs=("right-wrong",), limit=6, figures=False, device="cpu", out=second, fractions=(1, 10, 50, 100)
    )
    other = find_circuit(str(tiny_gpt2_dir), config)
    assert main(["compare-circuits", str(first), str(second), "--out", str(tmp_path / "cmp"), "--no-figures"]) == 0
    text = (tmp_path / "cmp" / "comparison.md").read_text()
    assert f"| {result.cpr:.3f} | {result.cmd:.3f} |" in text and f"| {other.cpr:.3f} | {other.cmd:.3f} |" in text
    a, b = read_run(first), read_run(second)
    nodes = jaccard(nodes_in(a.circuit.graph, a.circuit.keep), nodes_in(b.circuit.graph, b.circuit.keep))
    edges = int((a.circuit.keep & b.circuit.keep).sum()) / int((a.circuit.keep | b.circuit.keep).sum())
    n = max(1, round(a.circuit.graph.n_edges / 100))
    top = top_edges(a.circuit.scores, n, False), top_edges(b.circuit.scores, n, False)
    assert f"| {nodes:.3f} | {edges:.3f} | {jaccard(*top):.3f} |" in text
    assert jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3) and jaccard(set(), set()) is None
    data = json.loads((second / "metrics.json").read_text())  # no circuit below the whole graph reaches 0.8
    data["smallest_percent"], data["smallest_edges"] = 100.0, data["n_edges"]
    (second / "metrics.json").write_text(json.dumps(data))
    assert main(["compare-circuits", str(first), str(second), "--out", str(tmp_path / "cmp"), "--no-figures"]) == 0
    text = (tmp_path / "cmp" / "comparison.md").read_text()
    assert f"| – | – | {jaccard(*top):.3f} |" in text and "none below 100%" in text
    assert "wrote" in capsys.readouterr().out


def test_compare_circuits_answers_a_bad_folder_in_one_line(run, tmp_path: Path, capsys) -> None:
    from duality_bench.cli import main

    _, good = run
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("circuit.json", "metrics.json"):
        (bad / name).write_bytes((good / name).read_bytes())
    data = json.loads((bad / "metrics.json").read_text())
    data["cmd"] = [1]
    (bad / "metrics.json").write_text(json.dumps(data))
    assert main(["compare-circuits", str(good), str(bad), "--out", str(tmp_path / "cmp")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: compare-circuits: ") and "cmd: expected a number" in err[0]
    assert not (tmp_path / "cmp").exists()
    assert main(["compare-circuits", str(good), "--out", str(tmp_path / "cmp")]) == 2
    assert "name at least two circuit folders" in capsys.readouterr().err


def test_circuit_over_three_models_and_two_pair_sets_writes_six_runs_and_resumes(
    tiny_gpt2_dir: Path, tiny_qwen2_dir: Path, tiny_gemma3_dir: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    import duality_bench.circuits.sweep as sweep
    from duality_bench.circuits import read_mib_json
    from duality_bench.cli import main

    models = [str(tiny_gpt2_dir), str(tiny_qwen2_dir), str(tiny_gemma3_dir)]
    args = ["circuit", *models, "--pair-ids", "left-right"]
    args += ["--pair-ids", "two=up-down,me-you", "--limit", "4", "--fractions", "1,10,100", "--no-figures"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    runs = sorted(p.parent.relative_to(tmp_path).as_posix() for p in tmp_path.glob("*/*/metrics.json"))
    gpt2, qwen2, gemma = (Path(m).name for m in models)
    assert runs == sorted(f"{m}/{s}-eap" for m in (gpt2, qwen2, gemma) for s in ("left-right", "two"))
    for model, arch in ((qwen2, "Qwen2ForCausalLM"), (gemma, "Gemma3ForCausalLM")):  # MIB JSON and metrics agree
        folder = tmp_path / model / "two-eap"
        metrics, circuit = read_metrics(folder / "metrics.json"), read_mib_json(folder / "circuit.json")
        assert (metrics.pairs, metrics.architecture) == (("up-down", "me-you"), arch)
        assert metrics.n_edges == circuit.graph.n_edges
        assert np.array_equal(circuit.scores, np.load(folder / "scores.npy"))
        top = circuit.graph.edge_names()[int(np.argmax(np.abs(circuit.scores)))]
        assert metrics.top_edges[0].name == top
    text = (tmp_path / "comparison.md").read_text()
    assert text.count("| ") > 4 and "left-right" in text and "up-down+me-you" in text
    assert "compared in" in capsys.readouterr().out

    def fail(*a, **k):
        raise AssertionError("a finished run was recomputed")

    monkeypatch.setattr(sweep, "find_circuit", fail)
    assert main([*args, "--out", str(tmp_path)]) == 0  # every run is kept
    capsys.readouterr()
    (tmp_path / gpt2 / "two-eap" / "metrics.json").unlink()  # an interrupted run is run again
    assert main([*args, "--out", str(tmp_path)]) != 0
    assert "a finished run was recomputed" in capsys.readouterr().err
    for changed in (["--limit", "3"], ["--fractions", "10,100"]):  # another config is another run
        assert main([*args, *changed, "--out", str(tmp_path / "x")]) != 0
        assert "a finished run was recomputed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("name=", "names no pair"),
        ("a/b=left-right", "not a folder name"),
        ("../x=all", "not a folder name"),
        ("left-rigth", "no pair 'left-rigth'"),
    ],
)
def test_a_bad_pair_set_is_one_line(tiny_gpt2_dir: Path, tmp_path: Path, capsys, spec: str, message: str) -> None:
    from duality_bench.cli import main

    assert main(["circuit", str(tiny_gpt2_dir), "--pair-ids", spec, "--out", str(tmp_path)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and message in err[0], err


def test_two_runs_that_would_share_a_folder_are_refused_before_any_model_loads(
    tiny_gpt2_dir: Path, tmp_path: Path, capsys
) -> None:
    from duality_bench.cli import main

    twin = tmp_path / "b" / tiny_gpt2_dir.name
    args = ["circuit", str(tiny_gpt2_dir), str(twin), "--out", str(tmp_path / "out")]
    assert main(args) == 2  # twin does not even exist: the check comes first
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "would share the folder" in err[0], err
    same = ["circuit", str(tiny_gpt2_dir), "--pair-ids", "a=left-right", "--pair-ids", "a=up-down"]
    assert main([*same, "--out", str(tmp_path / "out")]) == 2
    assert "would share the folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

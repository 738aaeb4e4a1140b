"""Architecture adapters: one transformer forward pass, written out in the pieces the analyses need.

An adapter exposes a Hugging Face causal LM as embeddings, per-layer attention (queries, keys,
values, per-head outputs) and MLP halves, the final norm and the unembedding, so that a pass can
be cached, decomposed per head, and restarted at any layer. It reuses the model's own modules
(norms, projections, MLPs, rotary tables) and only writes out the attention arithmetic, so its
logits equal the model's own (the tests check this for every supported architecture).

Supported: GPT-2 (`GPT2LMHeadModel`, learned absolute positions, LayerNorm), the Llama family
(`LlamaForCausalLM`, `MistralForCausalLM`, `Qwen2ForCausalLM`: rotary positions, RMSNorm,
grouped-query attention) and Gemma 3 (`Gemma3ForCausalLM`: also q/k norms, local sliding-window
layers with their own rotary tables between global ones, and norms on the attention and MLP
outputs before they join the residual stream).
"""

from __future__ import annotations

from typing import Any

import torch

from duality_bench.errors import DualityBenchError

Rope = tuple[torch.Tensor, torch.Tensor] | None  # (cos, sin) [batch, pos, d_head] for rotary models


class UnsupportedModelError(DualityBenchError):
    """A model whose architecture the analysis cannot decompose."""


class Adapter:
    """The common interface; subclasses bind it to one architecture's module names."""

    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    d_model: int
    centers: bool  # True for LayerNorm (subtracts the mean), False for RMSNorm
    normed_attn_out: bool = False  # the attention output is normalised before the residual (Gemma 3)

    def __init__(self, model: Any) -> None:
        self.model = model
        self.param = next(model.parameters())

    # --- positions and embeddings ---
    def embed(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        """Residual stream before layer 0: [batch, pos, d_model]."""
        raise NotImplementedError

    def rope(self, position_ids: torch.Tensor, layer: int = 0) -> Rope:
        """Rotary tables of `layer` (the same for every layer unless local and global layers differ)."""
        return None

    def window(self, layer: int) -> int | None:
        """How many positions back (the query's own included) a query of `layer` sees; None: all."""
        return None

    # --- one layer ---
    def attn_norm(self, layer: int, resid: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def qkv(self, layer: int, x: torch.Tensor, rope: Rope) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q [batch, head, pos, d_head], k and v [batch, kv_head, pos, d_head] (rotary applied)."""
        raise NotImplementedError

    def scaling(self, layer: int) -> float:
        raise NotImplementedError

    def qk_norm(self, layer: int, q: torch.Tensor, k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-head norms of queries and keys [..., d_head], before rotary positions; none by default."""
        return q, k

    def post_attn(self, layer: int, heads: torch.Tensor) -> torch.Tensor:
        """Per-head contributions to the residual [head, ..., d_model] from the heads' outputs through
        W_O; unchanged unless the attention output is normalised (see `Gemma3Adapter.post_attn`)."""
        return heads

    def attn_out(self, layer: int, z: torch.Tensor) -> torch.Tensor:
        """Attention output from z [batch, pos, head, d_head]: [batch, pos, d_model], bias included."""
        raise NotImplementedError

    def o_weight(self, layer: int) -> torch.Tensor:
        """W_O as [head, d_head, d_model]."""
        raise NotImplementedError

    def o_bias(self, layer: int) -> torch.Tensor | None:
        raise NotImplementedError

    def mlp(self, layer: int, resid_mid: torch.Tensor) -> torch.Tensor:
        """MLP output (its norm included) from the residual after attention: [batch, pos, d_model]."""
        raise NotImplementedError

    # --- the end ---
    def final_norm(self, resid: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def final_norm_params(self) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        """(weight, bias or None, eps) of the final norm."""
        raise NotImplementedError

    def unembed_rows(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Unembedding rows [n, d_model] and biases [n] (None without bias) of the token ids [n]."""
        head = self.model.get_output_embeddings()
        bias = head.bias[ids] if getattr(head, "bias", None) is not None else None
        return head.weight[ids], bias

    def unembed(self, normed: torch.Tensor) -> torch.Tensor:
        """Full logits: [..., vocab]."""
        return self.model.get_output_embeddings()(normed)

    def final_scale(self, resid: torch.Tensor) -> torch.Tensor:
        """The final norm's divisor per row [...] (the LayerNorm std or the RMS, eps included)."""
        _, _, eps = self.final_norm_params()
        x = resid.float()
        if self.centers:
            x = x - x.mean(-1, keepdim=True)
        return (x.pow(2).mean(-1) + eps).sqrt()

    def check_length(self, n_positions: int) -> None:
        """Raise if prompts this long would need something the adapter does not compute."""


class GPT2Adapter(Adapter):
    centers = True

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.body = model.transformer
        cfg = model.config
        self.n_layers, self.n_heads, self.d_model = cfg.n_layer, cfg.n_head, cfg.n_embd
        self.n_kv_heads = self.n_heads
        self.d_head = self.d_model // self.n_heads
        self.n_positions = cfg.n_positions

    def embed(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        return self.body.wte(input_ids) + self.body.wpe(position_ids)

    def attn_norm(self, layer: int, resid: torch.Tensor) -> torch.Tensor:
        return self.body.h[layer].ln_1(resid)

    def qkv(self, layer: int, x: torch.Tensor, rope: Rope) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v = self.body.h[layer].attn.c_attn(x).split(self.d_model, dim=-1)  # each [batch, pos, d_model]
        shape = (*x.shape[:-1], self.n_heads, self.d_head)
        return tuple(t.view(shape).transpose(1, 2) for t in (q, k, v))  # type: ignore[return-value]

    def scaling(self, layer: int) -> float:
        return float(self.body.h[layer].attn.scaling)

    def attn_out(self, layer: int, z: torch.Tensor) -> torch.Tensor:
        return self.body.h[layer].attn.c_proj(z.flatten(-2))

    def o_weight(self, layer: int) -> torch.Tensor:
        w = self.body.h[layer].attn.c_proj.weight  # Conv1D: [d_in = head * d_head, d_model]
        return w.view(self.n_heads, self.d_head, self.d_model)

    def o_bias(self, layer: int) -> torch.Tensor | None:
        return self.body.h[layer].attn.c_proj.bias

    def mlp(self, layer: int, resid_mid: torch.Tensor) -> torch.Tensor:
        block = self.body.h[layer]
        return block.mlp(block.ln_2(resid_mid))

    def final_norm(self, resid: torch.Tensor) -> torch.Tensor:
        return self.body.ln_f(resid)

    def final_norm_params(self) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        ln = self.body.ln_f
        return ln.weight, ln.bias, float(ln.eps)

    def check_length(self, n_positions: int) -> None:
        if n_positions > self.n_positions:
            raise UnsupportedModelError(f"prompts of {n_positions} tokens exceed GPT-2's {self.n_positions} positions")


class LlamaAdapter(Adapter):
    centers = False

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.body = model.model
        cfg = model.config
        self.n_layers, self.n_heads, self.d_model = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.hidden_size
        self.n_kv_heads = cfg.num_key_value_heads or self.n_heads
        self.d_head = getattr(cfg, "head_dim", None) or self.d_model // self.n_heads
        window = getattr(cfg, "sliding_window", None)
        layer_types = getattr(cfg, "layer_types", None)
        if layer_types is not None and "sliding_attention" not in layer_types:
            window = None
        self.length_limit = window  # the sliding window, not computed here: prompts must fit in it

    def embed(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        return self.body.embed_tokens(input_ids)

    def rope(self, position_ids: torch.Tensor, layer: int = 0) -> Rope:
        probe = torch.empty(0, dtype=self.param.dtype, device=self.param.device)
        return self.body.rotary_emb(probe, position_ids)

    def attn_norm(self, layer: int, resid: torch.Tensor) -> torch.Tensor:
        return self.body.layers[layer].input_layernorm(resid)

    def qkv(self, layer: int, x: torch.Tensor, rope: Rope) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        attn = self.body.layers[layer].self_attn
        shape = (*x.shape[:-1], -1, self.d_head)
        q = attn.q_proj(x).view(shape).transpose(1, 2)
        k = attn.k_proj(x).view(shape).transpose(1, 2)
        v = attn.v_proj(x).view(shape).transpose(1, 2)
        q, k = self.qk_norm(layer, q, k)
        cos, sin = rope  # type: ignore[misc]
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        return q, k, v

    def scaling(self, layer: int) -> float:
        return float(self.body.layers[layer].self_attn.scaling)

    def attn_out(self, layer: int, z: torch.Tensor) -> torch.Tensor:
        return self.body.layers[layer].self_attn.o_proj(z.flatten(-2))

    def o_weight(self, layer: int) -> torch.Tensor:
        w = self.body.layers[layer].self_attn.o_proj.weight  # Linear: [d_model, head * d_head]
        return w.T.reshape(self.n_heads, self.d_head, self.d_model)

    def o_bias(self, layer: int) -> torch.Tensor | None:
        return self.body.layers[layer].self_attn.o_proj.bias

    def mlp(self, layer: int, resid_mid: torch.Tensor) -> torch.Tensor:
        block = self.body.layers[layer]
        return block.mlp(block.post_attention_layernorm(resid_mid))

    def final_norm(self, resid: torch.Tensor) -> torch.Tensor:
        return self.body.norm(resid)

    def final_norm_params(self) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        norm = self.body.norm
        return norm.weight, None, float(getattr(norm, "variance_epsilon", getattr(norm, "eps", 1e-6)))

    def check_length(self, n_positions: int) -> None:
        if self.length_limit is not None and n_positions > self.length_limit:
            raise UnsupportedModelError(
                f"prompts of {n_positions} tokens exceed the model's sliding window of {self.length_limit}"
            )


class Gemma3Adapter(LlamaAdapter):
    """Gemma 3: embeddings scaled by sqrt(d_model) (inside `embed_tokens`), RMSNorms of weight 1 + w,
    q/k norms, sliding-window layers with their own rotary base, and norms after attention and MLP.

    The attention output is normalised before it joins the residual stream:
    `post_attention_layernorm(sum_h o_h)`, not linear in the heads. Each head's contribution is
    `o_h * (1 + w) / rms(sum_h' o_h')`, the scale taken from the pass being computed (as direct
    logit attribution takes the final norm's). The contributions sum to the model's attention
    output exactly, in every pass, patched or not; what the split approximates is a head's own
    effect: changing one head's output rescales every head of its layer.
    """

    normed_attn_out = True

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        cfg = model.config
        for name in ("attn_logit_softcapping", "final_logit_softcapping"):
            if getattr(cfg, name, None) is not None:
                raise UnsupportedModelError(f"{name} is set ({getattr(cfg, name)}); Gemma 3 without soft-capping only")
        if getattr(cfg, "use_bidirectional_attention", False):
            raise UnsupportedModelError("bidirectional attention (an embedding model): causal Gemma 3 only")
        if getattr(cfg, "attention_bias", False):
            raise UnsupportedModelError("attention biases inside the normalised attention output are not supported")
        self.layer_types = list(cfg.layer_types)
        self.sliding = cfg.sliding_window
        self.length_limit = None  # the window is applied per layer (`window`), so prompts may be longer

    def rope(self, position_ids: torch.Tensor, layer: int = 0) -> Rope:
        probe = torch.empty(0, dtype=self.param.dtype, device=self.param.device)
        return self.body.rotary_emb(probe, position_ids, self.layer_types[layer])

    def window(self, layer: int) -> int | None:
        return self.sliding if self.layer_types[layer] == "sliding_attention" else None

    def qk_norm(self, layer: int, q: torch.Tensor, k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attn = self.body.layers[layer].self_attn
        return attn.q_norm(q), attn.k_norm(k)

    def post_attn(self, layer: int, heads: torch.Tensor) -> torch.Tensor:
        norm = self.body.layers[layer].post_attention_layernorm
        total = heads.float().sum(0)
        scale = (1.0 + norm.weight.float()) * torch.rsqrt(total.pow(2).mean(-1, keepdim=True) + norm.eps)
        return (heads.float() * scale).to(heads.dtype)

    def attn_out(self, layer: int, z: torch.Tensor) -> torch.Tensor:
        return self.body.layers[layer].post_attention_layernorm(super().attn_out(layer, z))

    def mlp(self, layer: int, resid_mid: torch.Tensor) -> torch.Tensor:
        block = self.body.layers[layer]
        return block.post_feedforward_layernorm(block.mlp(block.pre_feedforward_layernorm(resid_mid)))

    def final_norm_params(self) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        return 1.0 + self.body.norm.weight.float(), None, float(self.body.norm.eps)


ADAPTERS: dict[str, type[Adapter]] = {
    "GPT2LMHeadModel": GPT2Adapter,
    "LlamaForCausalLM": LlamaAdapter,
    "MistralForCausalLM": LlamaAdapter,
    "Qwen2ForCausalLM": LlamaAdapter,
    "Gemma3ForCausalLM": Gemma3Adapter,
}


def adapt(model: Any) -> Adapter:
    """The adapter for a loaded transformers causal LM; a clear error for other architectures."""
    name = type(model).__name__
    if name not in ADAPTERS:
        raise UnsupportedModelError(
            f"circuit analysis does not support {name}; supported architectures: {', '.join(ADAPTERS)}"
        )
    if model.training:
        raise UnsupportedModelError("the model is in training mode (dropout on); call model.eval() first")
    return ADAPTERS[name](model)

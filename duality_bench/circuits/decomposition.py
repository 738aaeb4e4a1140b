"""One forward pass in which every downstream input of the graph reads its own copy of the residual.

Each head's q, k and v input and each MLP's and the logits' input is the residual stream at the
point it reads, plus optional corrections: that makes per-edge quantities exact on a plain
Hugging Face model.

- Gradients: a zero tensor added to each input (one per head and q/k/v, per MLP, for the
  logits) gets, from autograd, the metric's gradient with respect to that input alone.
- Patching edges: an input reads `resid + sum_{u not in circuit} (corrupted_u - current_u)`,
  i.e. the current run's output of its upstream nodes inside the circuit and the corrupted
  run's outside it (MIB's evaluation).

Heads are computed per head from their own inputs (q, k, v projections sliced per head; for
grouped-query attention each query head gets its own copy of its KV head's keys and values).
With no corrections the logits equal the model's own (the tests check this). Where the attention
output is normalised before the residual (Gemma 3), a head's output is its share of the normalised
sum, the scale taken from the pass itself (`Adapter.post_attn`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from duality_bench.circuits.graph import Graph
from duality_bench.models.adapters import Adapter, GPT2Adapter


@dataclass(frozen=True)
class HeadWeights:
    """One layer's attention weights per query head: w_* [head, d_model, d_head], b_* [head, d_head]."""

    wq: torch.Tensor
    wk: torch.Tensor
    wv: torch.Tensor
    bq: torch.Tensor | None
    bk: torch.Tensor | None
    bv: torch.Tensor | None
    wo: torch.Tensor  # [head, d_head, d_model]
    bo: torch.Tensor | None  # [d_model]; a constant, not a node


@dataclass(frozen=True)
class GraphRun:
    ld: torch.Tensor  # [item] logit(target) - logit(distractor) at the final position
    outputs: torch.Tensor | None  # [upstream, item, pos, d_model] each upstream node's output
    grads: torch.Tensor | None  # [downstream, item, pos, d_model] d sum(ld) / d input


def head_weights(adapter: Adapter, layer: int) -> HeadWeights:
    """The layer's projections split per query head (keys and values repeated per query head)."""
    h, dh, d = adapter.n_heads, adapter.d_head, adapter.d_model
    if isinstance(adapter, GPT2Adapter):
        attn = adapter.body.h[layer].attn
        w = attn.c_attn.weight.view(d, 3, h, dh).permute(1, 2, 0, 3)  # Conv1D: [d_in, 3 * d]
        b = attn.c_attn.bias.view(3, h, dh)
        return HeadWeights(w[0], w[1], w[2], b[0], b[1], b[2], adapter.o_weight(layer), adapter.o_bias(layer))
    attn = adapter.body.layers[layer].self_attn
    rep = h // adapter.n_kv_heads

    def split(proj: torch.nn.Linear, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        w = proj.weight.view(n, dh, d).transpose(1, 2).repeat_interleave(h // n, dim=0)
        b = None if proj.bias is None else proj.bias.view(n, dh).repeat_interleave(h // n, dim=0)
        return w, b

    (wq, bq), (wk, bk), (wv, bv) = split(attn.q_proj, h), split(attn.k_proj, h // rep), split(attn.v_proj, h // rep)
    return HeadWeights(wq, wk, wv, bq, bk, bv, adapter.o_weight(layer), adapter.o_bias(layer))


def _project(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    out = torch.einsum("hbpd,hde->bhpe", x, w)  # [item, head, pos, d_head]
    return out if b is None else out + b[None, :, None, :]


def heads_forward(
    adapter: Adapter, layer: int, x: torch.Tensor, w: HeadWeights, rope, allowed: torch.Tensor
) -> torch.Tensor:
    """Each head's output [head, item, pos, d_model] from its inputs x [3 * head, item, pos, d_model]
    (q inputs, then k, then v)."""
    h = adapter.n_heads
    normed = adapter.attn_norm(layer, x)
    q, k, v = (
        _project(normed[:h], w.wq, w.bq),
        _project(normed[h : 2 * h], w.wk, w.bk),
        _project(normed[2 * h :], w.wv, w.bv),
    )
    q, k = adapter.qk_norm(layer, q, k)
    if rope is not None:
        q, k = apply_rotary_pos_emb(q, k, *rope)
    scores = torch.matmul(q, k.transpose(-1, -2)) * adapter.scaling(layer)
    window = adapter.window(layer)
    if window is not None:  # a local layer: keys less than `window` positions back
        n = allowed.shape[-1]
        back = torch.arange(n, device=allowed.device)[:, None] - torch.arange(n, device=allowed.device)[None, :]
        allowed = allowed & (back < window)[None]
    scores = scores.masked_fill(~allowed[:, None], torch.finfo(scores.dtype).min)
    pattern = scores.softmax(dim=-1, dtype=torch.float32).to(q.dtype)
    z = torch.matmul(pattern, v)  # [item, head, pos, d_head]
    return adapter.post_attn(layer, torch.einsum("bhpe,hed->hbpd", z, w.wo))


def final_ld(adapter: Adapter, x: torch.Tensor, target: torch.Tensor, distractor: torch.Tensor) -> torch.Tensor:
    """Logit difference [item] from the logits' input x [item, pos, d_model] at the final position."""
    normed = adapter.final_norm(x[:, -1])
    w_t, b_t = adapter.unembed_rows(target)
    w_d, b_d = adapter.unembed_rows(distractor)
    ld = (normed * (w_t - w_d)).sum(-1)
    return ld if b_t is None else ld + b_t - b_d


class _Reader:
    """Builds each downstream input: the residual, plus patch corrections, plus a gradient probe."""

    def __init__(self, graph: Graph, shape: tuple[int, ...], patch, grads: bool, like: torch.Tensor) -> None:
        self.graph, self.grads, self.probes = graph, grads, []
        self.diff = self.drop = None
        if patch is not None:
            corrupted, drop = patch  # [upstream, item, pos, d_model], [upstream, downstream] 1 = edge patched
            self.diff, self.drop = corrupted.clone(), drop.to(like.dtype)
        self.shape, self.like = shape, like

    def wrote(self, first: int, out: torch.Tensor) -> None:
        """Upstream nodes first.. wrote out [n, item, pos, d_model] in this run."""
        if self.diff is not None:
            self.diff[first : first + out.shape[0]] -= out

    def read(self, resid: torch.Tensor, down: slice, n_up: int) -> torch.Tensor:
        x = resid.expand(down.stop - down.start, *resid.shape)
        if self.drop is not None:
            x = x + self._correction(down, n_up)
        if self.grads:
            probe = torch.zeros_like(x, requires_grad=True)
            self.probes.append(probe)
            x = x + probe
        return x

    def _correction(self, down: slice, n_up: int) -> torch.Tensor | float:
        """sum over the dropped upstream nodes of (corrupted - current), [inputs, item, pos, d_model]."""
        drop = self.drop[:n_up, down]
        rows = drop.any(1).nonzero().flatten()
        if not len(rows):
            return 0.0
        if len(rows) < n_up // 2:  # few dropped nodes: gather them rather than multiply zeros
            drop, diff = drop[rows], self.diff[rows]
        else:
            diff = self.diff[:n_up]
        return (drop.T @ diff.flatten(1)).view(drop.shape[1], *diff.shape[1:])


def run_graph(
    adapter: Adapter,
    graph: Graph,
    ids: torch.Tensor,
    mask: torch.Tensor,
    target: torch.Tensor,
    distractor: torch.Tensor,
    *,
    embeddings: torch.Tensor | None = None,
    patch: tuple[torch.Tensor, torch.Tensor] | None = None,
    record: bool = False,
    grads: bool = False,
) -> GraphRun:
    """A pass over left-padded `ids` [item, pos]. `embeddings` replaces the input node's output;
    `patch` = (corrupted outputs, drop [upstream, downstream]) patches the dropped edges; `record`
    keeps every upstream output, `grads` every downstream input's gradient of sum(ld)."""
    adapter.check_length(ids.shape[1])
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    n = ids.shape[1]
    causal = torch.ones(n, n, dtype=torch.bool, device=ids.device).tril()
    allowed = causal[None] & mask[:, None, :].bool()  # [item, query, key]
    reader = _Reader(graph, tuple(ids.shape), patch, grads, adapter.param)
    outs = [] if record else None
    with torch.set_grad_enabled(grads):
        resid = adapter.embed(ids, position_ids) if embeddings is None else embeddings
        _wrote(reader, outs, 0, resid[None])
        for layer in range(adapter.n_layers):
            w = head_weights(adapter, layer)
            x = reader.read(resid, graph.down_slice(layer), graph.up_index(layer, 0))
            heads = heads_forward(adapter, layer, x, w, adapter.rope(position_ids, layer), allowed)
            _wrote(reader, outs, graph.up_index(layer, 0), heads)
            resid = resid + heads.sum(0) + (0 if w.bo is None else w.bo)
            mlp_in = graph.mlp_down(layer)
            x = reader.read(resid, slice(mlp_in, mlp_in + 1), graph.up_index(layer))
            mlp = adapter.mlp(layer, x[0])
            _wrote(reader, outs, graph.up_index(layer), mlp[None])
            resid = resid + mlp
        x = reader.read(resid, slice(graph.logits_down, graph.logits_down + 1), len(graph.upstream))
        ld = final_ld(adapter, x[0], target, distractor)
        g = None
        if grads:
            g = torch.cat(torch.autograd.grad(ld.sum(), reader.probes))
    out = None if outs is None else torch.cat(outs)
    return GraphRun(ld.detach().float(), out, g)


def _wrote(reader: _Reader, outs: list | None, first: int, out: torch.Tensor) -> None:
    reader.wrote(first, out.detach())
    if outs is not None:
        outs.append(out.detach())

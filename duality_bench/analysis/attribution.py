"""Direct logit attribution: how much each head, MLP and fixed term writes the logit difference.

The final norm is linear once its scale is fixed. Convention (TransformerLens's `apply_ln=True`
with a cached scale): the scale is the clean run's own, at the final position, for every
component, so the parts add up exactly:

    LD = sum(heads) + sum(mlps) + sum(attn_bias) + embed + bias

where a head's part is its output (its value bias included) at the final position, `attn_bias`
is each layer's attention output bias, `embed` the token (and position) embedding, and `bias`
the final norm's bias and the unembedding bias. With u = W_U[target] - W_U[distractor], gamma
the norm's weight and sigma its scale, a component c contributes (gamma * u) . (c - mean(c)) / sigma
for LayerNorm and (gamma * u) . c / sigma for RMSNorm.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from duality_bench.analysis.trace import PromptBatch, Trace, logit_diff
from duality_bench.models.adapters import Adapter


@dataclass(frozen=True)
class Attribution:
    heads: torch.Tensor  # [item, layer, head]
    mlps: torch.Tensor  # [item, layer]
    attn_bias: torch.Tensor  # [item, layer]
    embed: torch.Tensor  # [item]
    bias: torch.Tensor  # [item]
    logit_diff: torch.Tensor  # [item] the model's own, from its logits
    scale: torch.Tensor  # [item] the final norm's divisor used for every component

    @property
    def total(self) -> torch.Tensor:  # [item] the sum of all parts; equals logit_diff
        return self.heads.sum((1, 2)) + self.mlps.sum(1) + self.attn_bias.sum(1) + self.embed + self.bias


def attribute(adapter: Adapter, trace: Trace, batch: PromptBatch) -> Attribution:
    """Direct logit attribution at the final position of the traced (clean) prompts."""
    with torch.inference_mode():
        final = trace.resid_final[:, -1]  # [item, d_model]
        scale = adapter.final_scale(final)  # [item]
        weight, norm_bias, _ = adapter.final_norm_params()
        w_t, b_t = adapter.unembed_rows(batch.target)
        w_d, b_d = adapter.unembed_rows(batch.distractor)
        u = (w_t - w_d).float()  # [item, d_model]
        g = weight.float() * u
        if adapter.centers:
            g = g - g.mean(-1, keepdim=True)
        direction = g / scale[:, None]  # [item, d_model]

        head_out = torch.einsum(  # [layer, item, head, d_model]
            "lihe,lhed->lihd",
            trace.z[:, :, -1].float(),
            torch.stack([adapter.o_weight(layer).float() for layer in range(adapter.n_layers)]),
        )
        if adapter.normed_attn_out:  # each head's share of its layer's normalised attention output
            shares = [adapter.post_attn(n, h.transpose(0, 1)).transpose(0, 1) for n, h in enumerate(head_out)]
            head_out = torch.stack(shares)
        heads = torch.einsum("lihd,id->ilh", head_out, direction)
        mlps = torch.einsum("lid,id->il", trace.mlp_out[:, :, -1].float(), direction)
        biases = [adapter.o_bias(layer) for layer in range(adapter.n_layers)]
        if biases[0] is None:
            attn_bias = torch.zeros_like(mlps)
        else:
            attn_bias = direction @ torch.stack([b.float() for b in biases]).T  # [item, layer]
        embed = (trace.resid_pre[0, :, -1].float() * direction).sum(-1)
        bias = torch.zeros_like(embed)
        if norm_bias is not None:
            bias = bias + u @ norm_bias.float()
        if b_t is not None:
            bias = bias + (b_t - b_d).float()
        ld = logit_diff(adapter, final, batch.target, batch.distractor)
    return Attribution(heads, mlps, attn_bias, embed, bias, ld, scale)

"""The logit lens: the logit difference read from the residual stream after each layer.

Each residual (at the final position) goes through the model's final norm, with its own scale
recomputed as the model would, and then the unembedding; entry 0 reads the embeddings, entry
l + 1 the stream after layer l, so the last entry is the model's own logit difference.
"""

from __future__ import annotations

import torch

from duality_bench.analysis.trace import PromptBatch, Trace, logit_diff
from duality_bench.models.adapters import Adapter


def logit_lens(adapter: Adapter, trace: Trace, batch: PromptBatch) -> torch.Tensor:
    """Logit difference (target - distractor) per item and depth: [item, layer + 1] float32."""
    stack = torch.cat([trace.resid_pre[:, :, -1], trace.resid_final[None, :, -1]])  # [layer + 1, item, d_model]
    n_depth, n_items, _ = stack.shape
    with torch.inference_mode():
        ld = logit_diff(
            adapter,
            stack.reshape(n_depth * n_items, -1),
            batch.target.repeat(n_depth),
            batch.distractor.repeat(n_depth),
        )
    return ld.view(n_depth, n_items).T.contiguous()

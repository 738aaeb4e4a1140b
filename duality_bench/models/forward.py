"""The model boundary: next-token logits, and the KV-cache passes that score multi-token words.

Written against transformers' causal LMs; what differs between its versions (whether `logits_to_keep`
is accepted, whether a left-padded cache is kept by the attention mask) is found once and cached.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from duality_bench.errors import DualityBenchError


def accepts_logits_to_keep(model: Any) -> bool:
    return "logits_to_keep" in inspect.signature(model.forward).parameters


def forward_logits(model: Any, input_ids: Any, attention_mask: Any, keep: int = 1) -> Any:
    """Logits at the last `keep` positions, float32: [batch, keep, vocab].

    Contract: `input_ids` [batch, seq] are LEFT-padded and `attention_mask` [batch, seq] marks
    real tokens, so every row's last real token sits at the final position. Position ids
    count real tokens only, which absolute-position models (GPT-2) need to give the same
    logits padded or not; rotary models are indifferent. Only the kept positions go through
    the unembedding when the model supports `logits_to_keep`.
    """
    import torch

    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    kwargs = {"logits_to_keep": keep} if accepts_logits_to_keep(model) else {}
    with torch.inference_mode():
        out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, **kwargs)
    return out.logits[:, -keep:, :].float()


def forward_with_cache(model: Any, input_ids: Any, attention_mask: Any) -> tuple[Any, Any]:
    """Next-token logits after each prompt, float32 [batch, vocab], and the prompts' KV cache.

    The same contract as `forward_logits(..., keep=1)` (LEFT-padded `input_ids` [batch, seq],
    `attention_mask` [batch, seq] marking real tokens, position ids counted over real tokens,
    only the last position unembedded), plus the key/value cache of every position, pad
    positions included (the mask hides them). Hand the cache and the same `attention_mask` to
    `forward_continuations` to extend the prompts without recomputing them.
    """
    import torch

    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    kwargs = {"logits_to_keep": 1} if accepts_logits_to_keep(model) else {}
    with torch.inference_mode():
        out = model(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=True, **kwargs
        )
    cache = getattr(out, "cache", None)
    if cache is None:
        cache = getattr(out, "past_key_values", None)
    if cache is None or not hasattr(cache, "batch_select_indices"):
        raise DualityBenchError(
            f"{type(model).__name__} returns no key/value cache that rows can be selected from; "
            "multi-token words cannot be scored with it"
        )
    return out.logits[:, -1, :].float(), cache


def forward_continuations(
    model: Any,
    cache: Any,
    rows: Any,
    prompt_mask: Any,
    input_ids: Any,
    attention_mask: Any,
    *,
    prefix: Any = None,
    score_mask: Any = None,
) -> Any:
    """Logits at every real continuation position, float32 [n_real, vocab], reusing the prompts' cache.

    Contract: `cache` and `prompt_mask` [batch, prompt_len] come from `forward_with_cache` (LEFT-
    padded prompts). `rows` [n_rows] says which prompt each continuation row extends; a prompt
    may be extended by several rows or none. The cache is CONSUMED: its rows are selected (and
    repeated) in place, so the prompts are never recomputed. `input_ids` [n_rows, cont_len]
    are continuation tokens RIGHT-padded, `attention_mask` [n_rows, cont_len] marks the real
    ones; attention runs over `prompt_mask[rows]` concatenated with it, and position ids go on
    from each prompt's count of real tokens. The model is causal, so right padding cannot change
    the real positions. Logits come back only for real positions, row by row in order (row 0's
    positions first), as float32: the logits at continuation token j predict token j + 1.

    `prefix` [n_rows]: how many first real prompt tokens each row attends to (default: all), so a row
    may go on from a prompt's start; `score_mask` [n_rows, cont_len]: whose logits come back (default: all).
    """
    import torch

    rows = rows.to(prompt_mask.device)
    cache.batch_select_indices(rows.cpu())  # CPU indices index a cache spread over several devices too
    prompt = prompt_mask[rows]  # [n_rows, prompt_len]
    if prefix is not None:
        prompt = prompt * (prompt.cumsum(-1) <= prefix.to(prompt.device)[:, None])
    start = prompt.sum(-1)[:, None]  # [n_rows, 1] real prompt tokens attended to
    position_ids = start + torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]
    mask = torch.cat([prompt, attention_mask], dim=-1)  # [n_rows, prompt_len + cont_len]
    keep = (attention_mask if score_mask is None else score_mask).bool()
    kwargs: dict[str, Any] = {cache_argument(model): cache, "use_cache": True}
    if accepts_logits_to_keep(model) and _keeps_by_mask():
        kwargs["logits_to_keep"] = keep  # unembed only the real positions
    with torch.inference_mode():
        out = model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, **kwargs)
    logits = out.logits
    if logits.ndim == 3:  # the model unembedded every position
        logits = logits[keep]
    return logits.float()


def cache_argument(model: Any) -> str:
    """What `model.forward` calls its KV cache: `cache` (transformers >= 5.x) or `past_key_values`."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


@functools.cache
def _keeps_by_mask() -> bool:
    """Whether `logits_to_keep` takes a boolean [batch, seq] mask (transformers 5)."""
    from transformers import modeling_utils

    helper = getattr(modeling_utils, "slice_logits_to_keep", None)
    return helper is not None and "bool" in inspect.getsource(helper)

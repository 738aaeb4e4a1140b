"""Load a causal LM from one spec string, and the model boundary: next-token logits.

A spec is a short name of a model that installs offline from PyPI (`smollm2-135m`,
`gemma3-270m`), a `.gguf` file, a local folder, or a hub id (`gpt2`, `EleutherAI/pythia-70m`).
GGUF files are de-quantized once into a cached folder (`~/.cache/duality-bench/models`, or
`$DUALITY_BENCH_CACHE`), so later loads take a second or two instead of most of a minute.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import inspect
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duality_bench.data.dataset import file_sha256
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.offline import OFFLINE_MODELS, ModelError, cache_dir

DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class LoadedModel:
    model: Any  # a transformers causal LM, in eval mode, on `device`
    tokenizer: Any  # left padding, with a pad token
    id: str  # what results call the model: the hub id, short name, or folder/file name
    spec: str  # what the user asked for
    revision: str | None  # hub commit, package version, or file digest
    dtype: str
    device: str
    n_params: int
    architecture: str


def pick_device(device: str = "auto") -> str:
    """`device`, checked, or the best one this machine has for "auto"."""
    import torch

    if device != "auto":
        try:
            torch.device(device)
        except (RuntimeError, ValueError):
            raise ModelError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps") from None
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def load_model(
    spec: str,
    *,
    revision: str | None = None,
    dtype: str = "auto",
    device: str = "auto",
    device_map: str | None = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """Load `spec` for scoring. Raises ModelError with a one-line reason when it cannot.

    `device_map="auto"` spreads a model too large for one device over all of them (and the
    CPU), through accelerate's big-model loading; inputs then go to the embedding's device.
    """
    if dtype not in DTYPES:
        raise ModelError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    device = pick_device(device)
    folder, model_id, found_revision = resolve(spec, revision=revision)
    torch_dtype = _torch_dtype(dtype, device)
    from transformers import AutoModelForCausalLM

    kwargs = {"revision": revision} if revision and folder == spec else {}
    placement = {"device_map": device_map} if device_map else {}
    try:
        model = AutoModelForCausalLM.from_pretrained(
            folder, dtype=torch_dtype, trust_remote_code=trust_remote_code, **kwargs, **placement
        )
    except (OSError, ValueError, KeyError) as e:
        raise _load_error(spec, e) from None
    tokenizer = load_scoring_tokenizer(folder, trust_remote_code=trust_remote_code, **kwargs)
    if device_map:
        device = str(model.get_input_embeddings().weight.device)
    else:
        model.to(device)
    model.eval()
    if found_revision is None:
        found_revision = getattr(model.config, "_commit_hash", None) or revision
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        id=model_id,
        spec=spec,
        revision=found_revision,
        dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
        device=device,
        n_params=sum(p.numel() for p in model.parameters()),
        architecture=type(model).__name__,
    )


def load_scoring_tokenizer(folder: str | Path, **kwargs: Any) -> Any:
    """A tokenizer set up for scoring: left padding, and a pad token (GPT-2 has none)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot load the tokenizer of {str(folder)!r}: {_first_line(e)}") from None
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def model_id(spec: str) -> str:
    """The id results use for `spec`, known without loading or converting anything."""
    if spec in OFFLINE_MODELS:
        return spec
    path = Path(spec).expanduser()
    if spec.endswith(".gguf"):
        return path.name
    return path.resolve().name if path.is_dir() else spec


def resolve(spec: str, *, revision: str | None = None) -> tuple[str, str, str | None]:
    """(what from_pretrained loads, the model's id in results, its revision if known now)."""
    if spec in OFFLINE_MODELS:
        entry = OFFLINE_MODELS[spec]
        folder, digest = convert_gguf(entry.locate())
        from importlib.metadata import version

        return str(folder), spec, f"{entry.package}=={version(entry.package)} sha256:{digest[:16]}"
    path = Path(spec).expanduser()
    if spec.endswith(".gguf"):
        if not path.is_file():
            raise ModelError(f"no such GGUF file: {spec}")
        folder, digest = convert_gguf(path)
        return str(folder), model_id(spec), f"sha256:{digest[:16]}"
    if path.is_dir():
        return str(path), model_id(spec), revision
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise ModelError(f"no such model folder: {spec}")
    close = difflib.get_close_matches(spec.lower(), OFFLINE_MODELS, n=2, cutoff=0.7)
    if close:
        raise ModelError(f"unknown model {spec!r}; did you mean {' or '.join(close)}?")
    return spec, spec, revision


def convert_gguf(path: Path) -> tuple[Path, str]:
    """De-quantize a GGUF file once into a cached transformers folder; return it and the file's sha256."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_dir() / "models" / f"{path.stem}-{key}"
    meta_file = target / "duality_bench.json"
    if meta_file.exists():
        return target, json.loads(meta_file.read_text())["sha256"]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    digest = file_sha256(path)
    try:
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    except Exception as e:  # the GGUF parser raises anything (struct.error, EOFError, ...) on a cut file
        raise ModelError(
            f"cannot load GGUF file {path}: {type(e).__name__}: {_first_line(e)}; is it complete?"
        ) from None
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write into a temporary folder and rename, so an interrupted conversion leaves no half cache.
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "duality_bench.json").write_text(json.dumps({"source": str(path), "sha256": digest}))
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target, digest


def _torch_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype == "auto":
        # Half precision on the CPU is slow and not what results are compared in.
        return torch.float32 if device == "cpu" else "auto"
    return getattr(torch, dtype)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _load_error(spec: str, e: BaseException) -> ModelError:
    text = str(e)
    offline = ", ".join(OFFLINE_MODELS)
    if "couldn't connect" in text.lower() or "offline" in text.lower():
        return ModelError(
            f"cannot download {spec!r}: the Hugging Face Hub is unreachable from here; models that work "
            f"offline: {offline}, a local model folder, or a .gguf file"
        )
    if "is not a local folder and is not a valid model identifier" in text or "404" in text:
        return ModelError(
            f"unknown model {spec!r}: not a hub repo, local folder or .gguf file; offline models: {offline}"
        )
    return ModelError(f"cannot load model {spec!r}: {_first_line(e)}")


# --- the model boundary ------------------------------------------------------------------


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

